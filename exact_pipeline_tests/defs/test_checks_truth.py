"""The document checks tell the current truth, per day: a later green run of another day does
not hide a red one, a range run reports each day with its own documents (never a skipped
day), a failure of the push shows on both checks, and the fix turns the day green. Read back
as the UI reads them: Dagster's own state of each check per partition."""

from __future__ import annotations

from datetime import datetime

import dagster as dg

from exact_pipeline.defs.documents.automation import RANGE_END, RANGE_START
from exact_pipeline_tests.defs.conftest import BuildDefs, check, check_states, run, tick
from exact_pipeline_tests.exact.conftest import SandboxAdmin
from exact_pipeline_tests.sync.builder import AMSTERDAM, Billing
from exact_pipeline_tests.sync.conftest import MappingFolder

TEAM = ("prod_team", 1, 9900, "tax_nl_21")
BETA = ("prod_beta_ai", 1, 1900, "tax_nl_21")
DOCUMENT_CHECKS = (
    ("exact_document_payloads", "no_blocked_documents"),
    ("exact_documents", "all_documents_synced"),
)


def on(day: str) -> datetime:
    return datetime.fromisoformat(f"{day}T10:00").replace(tzinfo=AMSTERDAM)


def states(
    defs: dg.Definitions, instance: dg.DagsterInstance, days: list[str]
) -> list[dict[str, str]]:
    """Per document check, the status of `days` (the instance serves the whole module)."""
    return [
        {
            day: status
            for day, status in check_states(defs, instance, asset, name).items()
            if day in days
        }
        for asset, name in DOCUMENT_CHECKS
    ]


def test_a_red_day_stays_red_after_a_green_run_of_another_day(
    build_defs: BuildDefs,
    billing: Billing,
    connected: None,
    dagster_instance: dg.DagsterInstance,
) -> None:
    customer = billing.customer("cus_1", "Acme B.V.")
    billing.document("NL-BETA", customer, [BETA], issued=on("2026-11-19"))
    billing.document("NL-OK", customer, [TEAM], issued=on("2026-11-20"))
    defs = build_defs()

    run(defs, dagster_instance, partition_key="2026-11-19")
    run(defs, dagster_instance, partition_key="2026-11-20")  # the "hourly run of today"

    both = {"2026-11-19": "FAILED", "2026-11-20": "SUCCEEDED"}
    assert states(defs, dagster_instance, list(both)) == [both, both]


def test_range_run_reports_each_day_with_its_own_documents_then_the_fix_turns_it_green(
    build_defs: BuildDefs,
    billing: Billing,
    admin: SandboxAdmin,
    connected: None,
    mapping_folder: MappingFolder,
    dagster_instance: dg.DagsterInstance,
) -> None:
    customer = billing.customer("cus_1", "Acme B.V.")
    billing.document("NL-19", customer, [TEAM], issued=on("2026-11-19"))
    billing.document("NL-BETA-1", customer, [TEAM, BETA], issued=on("2026-11-20"))
    billing.document("NL-BETA-2", customer, [BETA, BETA], issued=on("2026-11-20"))
    days = ["2026-11-18", "2026-11-19", "2026-11-20", "2026-11-21"]  # the 18th and 21st empty
    defs = build_defs()
    cursor = tick(build_defs, "mapping_changes", dagster_instance, None).cursor

    result = run(defs, dagster_instance, tags={RANGE_START: days[0], RANGE_END: days[-1]})

    for _, name in DOCUMENT_CHECKS:
        evaluated = {
            e.partition for e in result.get_asset_check_evaluations() if e.check_name == name
        }
        assert evaluated == set(days)
        red = check(result, name, "2026-11-20")
        assert not red.passed and red.severity == dg.AssetCheckSeverity.WARN
        # At a glance: how many, and why grouped by cause with its fix (the missing row counts
        # once per document, not once per line).
        assert red.description == (
            "2 document(s) need attention. 2 × product prod_beta_ai has no row in "
            f"products.csv: add `prod_beta_ai,<item code>,` to {mapping_folder.folder}/"
            "products.csv"
        )
        assert red.metadata["count"].value == 2
        assert "| 2 | product prod_beta_ai has no row" in str(red.metadata["causes"].value)
        table = red.metadata["documents"].value
        assert [column.name for column in table.schema.columns][:3] == ["number", "state", "reason"]
        assert [r.data["number"] for r in table.records] == ["NL-BETA-1", "NL-BETA-2"]
        for day in ("2026-11-18", "2026-11-19", "2026-11-21"):
            assert check(result, name, day).passed
    red_day = {day: "SUCCEEDED" for day in days} | {"2026-11-20": "FAILED"}
    assert states(defs, dagster_instance, days) == [red_day, red_day]  # no day skipped

    mapping_folder.append("products.csv", "prod_beta_ai,SUB-AI-BETA,")
    [fix] = tick(build_defs, "mapping_changes", dagster_instance, cursor).run_requests or []
    build_defs().resolve_job_def(fix.job_name).execute_in_process(
        instance=dagster_instance, partition_key=fix.partition_key, tags=fix.tags
    )

    green = dict.fromkeys(days, "SUCCEEDED")
    assert states(build_defs(), dagster_instance, days) == [green, green]
    refs = {i["YourRef"] for i in admin.store(310001, "salesinvoice/SalesInvoices")}
    assert refs == {"NL-19", "NL-BETA-1", "NL-BETA-2"}


def test_a_document_that_fails_in_exact_turns_both_checks_red(
    build_defs: BuildDefs,
    billing: Billing,
    admin: SandboxAdmin,
    connected: None,
    dagster_instance: dg.DagsterInstance,
) -> None:
    customer = billing.customer("cus_1", "Acme B.V.")
    billing.document("NL-1", customer, [TEAM])
    # Exact fails every booking: staged when the payloads were checked, failed after the push.
    admin.faults(
        {
            "kind": "error",
            "status": 503,
            "path": "salesinvoice/PrintedSalesInvoices",
            "method": "POST",
        }
    )
    defs = build_defs()

    result = run(defs, dagster_instance, partition_key="2026-11-20")

    for _, name in DOCUMENT_CHECKS:
        failing = check(result, name)
        assert not failing.passed
        [row] = [r.data for r in failing.metadata["documents"].value.records]
        assert row["number"] == "NL-1" and row["state"] == "failed"
    red = {"2026-11-20": "FAILED"}
    assert states(defs, dagster_instance, list(red)) == [red, red]
