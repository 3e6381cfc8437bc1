"""The monthly reconciliation through Dagster itself (Postgres-backed instance, sandbox over
HTTP): after a day's sync the month is reconciled, with the figures Dagster plots and a CSV
file; after a bookkeeper deletes an entry in Exact the month's check turns red and names it."""

from __future__ import annotations

import csv
from pathlib import Path

import dagster as dg
import pytest

from exact_pipeline_tests.defs.conftest import BuildDefs, check, materialization, run
from exact_pipeline_tests.exact.conftest import NL, SandboxAdmin
from exact_pipeline_tests.sandbox.helpers import ExactClient as SandboxClient
from exact_pipeline_tests.sync.builder import Billing
from exact_pipeline_tests.sync.conftest import MappingFolder
from exact_pipeline_tests.sync.payments import conftest as payment_fixtures

bookkeeper = payment_fixtures.bookkeeper
MONTH = "2026-11-01"


def test_a_month_is_reconciled_then_a_deleted_entry_turns_its_check_red(
    build_defs: BuildDefs,
    billing: Billing,
    admin: SandboxAdmin,
    connected: None,
    mapping_folder: MappingFolder,
    bookkeeper: SandboxClient,
    dagster_instance: dg.DagsterInstance,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("EXACT_RECONCILIATION_DIR", str(tmp_path / "exports"))
    mapping_folder.setting("invoice_push_mode", "sales_entry")
    customer = billing.customer("cus_1", "Acme B.V.")
    billing.document("NL-1", customer, [("prod_team", 1, 9900, "tax_nl_21")])
    billing.document("NL-2", customer, [("prod_seat", 3, 1200, "tax_nl_21")])
    defs = build_defs()
    run(defs, dagster_instance, partition_key="2026-11-20")

    first = run(defs, dagster_instance, assets=["monthly_reconciliation"], partition_key=MONTH)

    [month] = materialization(first, "monthly_reconciliation")
    figures = {k: month.metadata[k].value for k in ("synced", "blocked", "failed", "api_calls")}
    assert figures == {"synced": 2, "blocked": 0, "failed": 0, "api_calls": 4}
    assert month.metadata["minutes_behind"].value == 0
    assert month.metadata["reconciled"].value is True
    assert "| 310001 | EUR | total | 163.35 | 163.35 | 0.00 |" in str(
        month.metadata["totals"].value
    )
    exported = Path(str(month.metadata["csv"].value))
    assert exported == tmp_path / "exports" / "reconciliation-2026-11.csv"
    assert next(csv.DictReader(exported.open()))["measure"] == "reconciled"
    assert check(first, "month_reconciled", MONTH).passed

    [entry] = [e for e in admin.store(NL, "salesentry/SalesEntries") if e["YourRef"] == "NL-2"]
    deleted = bookkeeper.delete(f"salesentry/SalesEntries(guid'{entry['EntryID']}')")
    assert deleted.status_code == 204, deleted.text

    again = run(defs, dagster_instance, assets=["monthly_reconciliation"], partition_key=MONTH)

    red = check(again, "month_reconciled", MONTH)
    assert not red.passed and red.severity == dg.AssetCheckSeverity.WARN
    assert red.description == "2026-11: 1 document(s) differ, 1 of them unexplained."
    table = str(red.metadata["documents"].value)
    assert "| NL-2 | 2026-11-20 | 310001 | missing in Exact | synced | 43.56 |  |" in table
    assert "Exact no longer holds it" in table
    [month] = materialization(again, "monthly_reconciliation")
    assert month.metadata["reconciled"].value is False
    assert month.metadata["unexplained"].value == 1
    documents = [r for r in csv.DictReader(exported.open()) if r["section"] == "document"]
    assert [(r["number"], r["measure"]) for r in documents] == [("NL-2", "missing in Exact")]
