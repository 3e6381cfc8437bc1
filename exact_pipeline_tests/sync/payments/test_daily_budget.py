"""A spent daily budget never fails a run: every step that calls Exact (customers, documents and
their read-back, the payment push and its check, the payment import, the mapping validation)
stops cleanly, green, saying the budget is spent and when it resets."""

from __future__ import annotations

import dagster as dg
import psycopg

from exact_pipeline.exact import ExactClient
from exact_pipeline.settings import STATE_SCHEMA
from exact_pipeline_tests.defs.conftest import *  # noqa: F403  (the Dagster tests' fixtures)
from exact_pipeline_tests.defs.conftest import BuildDefs, check, materialization, run
from exact_pipeline_tests.exact.conftest import NL, SandboxAdmin
from exact_pipeline_tests.sync.builder import DAY, Billing
from exact_pipeline_tests.sync.conftest import MappingFolder
from exact_pipeline_tests.sync.payments.conftest import (
    TEAM,
    Payments,
    pay_in_exact,
)

SPENT = "daily API budget for division 310001 is spent"


def spend_the_budget(admin: SandboxAdmin) -> None:
    """Whatever was used today is the whole daily budget: the next call gets Exact's 429."""
    used = admin.http.get("/_sandbox/limits").json()["usage"][str(NL)]["daily_used"]
    admin.configure(daily_limit=used)


def says_spent(text: object) -> bool:
    """The sentence names the division, the budget, and when it resets."""
    return SPENT in str(text) and " after 20" in str(text)


def test_every_step_of_a_sync_run_stops_cleanly_on_a_spent_budget(
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
    defs = build_defs()
    run(defs, dagster_instance, partition_key=DAY.isoformat())  # the document is in Exact
    billing.document("NL-2", customer, [TEAM])
    Payments(billing).pay(invoice, invoice.total_amount, day=DAY)
    spend_the_budget(admin)

    result = run(defs, dagster_instance, partition_key=DAY.isoformat())

    assert result.success
    [documents] = materialization(result, "exact_documents")
    assert says_spent(documents.metadata["stopped"].value)
    totals = check(result, "totals_match_exact")
    assert not totals.passed and says_spent(totals.description)
    [payments] = materialization(result, "exact_payments")
    assert says_spent(payments.metadata["stopped"].value)
    assert payments.metadata["payments_not_reached"].value == 1
    paid = check(result, "paid_amounts_agree")
    assert not paid.passed and says_spent(paid.description)


def test_reading_back_after_the_last_call_of_the_day_stops_cleanly(
    build_defs: BuildDefs,
    billing: Billing,
    admin: SandboxAdmin,
    exact: ExactClient,
    mapping_folder: MappingFolder,
    dagster_instance: dg.DagsterInstance,
) -> None:
    """Nothing left to push, so the push itself never meets the limit: the check that reads
    Exact back does, and says so instead of failing the run. The totals were verified from
    Exact's answers to the POSTs: nothing to read, so the spent budget cannot stop them. The
    paid amounts were read when Exact moved by itself (a bookkeeper registered the payment there
    by hand: billing's copy was blocked), and are due again a month later (RECHECK_AFTER)."""
    mapping_folder.setting("payment_sync", "billing_to_exact")
    customer = billing.customer("cus_1", "Acme B.V.")
    invoice = billing.document("NL-1", customer, [TEAM])
    defs = build_defs()
    run(defs, dagster_instance, partition_key=DAY.isoformat())
    pay_in_exact(exact, admin, NL, "NL-1", "119.79")
    Payments(billing).pay(invoice, invoice.total_amount, day=DAY)
    run(defs, dagster_instance, partition_key=DAY.isoformat())  # blocked, and read back
    with psycopg.connect(billing.url, autocommit=True) as conn:  # a month passes
        conn.execute(f"UPDATE {STATE_SCHEMA}.exact_paid SET read_at = read_at - interval '31 days'")
    spend_the_budget(admin)

    result = run(defs, dagster_instance, partition_key=DAY.isoformat())

    assert result.success
    assert check(result, "totals_match_exact").passed
    paid = check(result, "paid_amounts_agree")
    assert not paid.passed and says_spent(paid.description)


def test_the_payment_import_and_the_mapping_validation_stop_cleanly(
    build_defs: BuildDefs,
    admin: SandboxAdmin,
    connected: None,
    mapping_folder: MappingFolder,
    dagster_instance: dg.DagsterInstance,
) -> None:
    mapping_folder.setting("payment_sync", "exact_to_billing")
    defs = build_defs()
    spend_the_budget(admin)

    imported = defs.resolve_job_def("import_payments").execute_in_process(instance=dagster_instance)
    validated = defs.resolve_job_def("validate_mappings").execute_in_process(
        instance=dagster_instance
    )

    assert imported.success and validated.success
    [payments] = materialization(imported, "payments_from_exact")
    assert says_spent(payments.metadata["stopped"].value)
    codes = check(validated, "codes_exist_in_exact")
    assert not codes.passed and says_spent(codes.description)
