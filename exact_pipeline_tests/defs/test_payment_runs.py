"""Payments through Dagster: the daily asset pushes billing's payments and checks both sides
agree; the hourly import brings payments made in Exact into billing."""

from __future__ import annotations

import dagster as dg

from exact_pipeline.demo.payments import register_demo_payments
from exact_pipeline.exact import ExactConfig
from exact_pipeline.state.exact import open_exact
from exact_pipeline_tests.defs.conftest import BuildDefs, check, materialization, run
from exact_pipeline_tests.exact.conftest import TOKEN_KEY, SandboxAdmin
from exact_pipeline_tests.sync.builder import DAY, Billing
from exact_pipeline_tests.sync.conftest import MappingFolder
from exact_pipeline_tests.sync.payments.conftest import TEAM, Payments

NL = 310001


def test_billing_payment_becomes_a_receipt_and_both_sides_agree(
    build_defs: BuildDefs,
    billing: Billing,
    admin: SandboxAdmin,
    connected: None,
    mapping_folder: MappingFolder,
    dagster_instance: dg.DagsterInstance,
) -> None:
    mapping_folder.setting("payment_sync", "billing_to_exact")
    customer = billing.customer("cus_1", "Acme B.V.")
    invoice = billing.document("NL-1", customer, [TEAM])
    Payments(billing).pay(invoice, invoice.total_amount, day=DAY)

    result = run(build_defs(), dagster_instance, partition_key=DAY.isoformat())

    [payments] = materialization(result, "exact_payments")
    assert payments.metadata["payment_sync"].value == "billing_to_exact"
    assert payments.metadata["payments_pushed"].value == 1
    assert payments.metadata["amount_EUR"].value == "119.79"
    assert check(result, "paid_amounts_agree").passed
    [receivable] = [
        r for r in admin.store(NL, "cashflow/Receivables") if r.get("YourRef") == "NL-1"
    ]
    assert receivable["IsFullyPaid"] is True


def test_payment_made_in_exact_is_imported_into_billing(
    build_defs: BuildDefs,
    billing: Billing,
    config: ExactConfig,
    state_url: str,
    connected: None,
    mapping_folder: MappingFolder,
    dagster_instance: dg.DagsterInstance,
) -> None:
    mapping_folder.setting("payment_sync", "exact_to_billing")
    customer = billing.customer("cus_1", "Acme B.V.")
    invoice = billing.document("NL-1", customer, [TEAM])
    defs = build_defs()
    run(defs, dagster_instance, partition_key=DAY.isoformat())
    with open_exact(config, state_url, TOKEN_KEY) as exact:
        [paid] = register_demo_payments(exact, mapping_folder.load(), count=1)

    imported = defs.resolve_job_def("import_payments").execute_in_process(instance=dagster_instance)

    [payments] = materialization(imported, "payments_from_exact")
    assert payments.metadata["payments_imported"].value == 1
    assert Payments(billing).status(invoice) in {"paid", "partially_paid"}
    assert paid  # what the bookkeeper entered is what billing now holds
    rows = Payments(billing).rows()
    assert [(r["number"], r["source"]) for r in rows] == [("NL-1", "exact_online")]
