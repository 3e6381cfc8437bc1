"""The monthly reconciliation: per month of `issued_at` (in the settings' time zone, from
`history_start`'s month), billing against Exact's sales journals per division and currency,
the differences document by document with their explanation, a CSV file per month, and a
check that stays red while any difference is open. A few lines over `Reconciler`."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg

from exact_pipeline.defs.division_slots import DivisionSlots
from exact_pipeline.defs.documents import checks as partition_checks
from exact_pipeline.defs.partitions import AT_LOAD, TIMEZONE, days_of
from exact_pipeline.defs.reconciliation.resources import ReconciliationExport
from exact_pipeline.defs.resources import BillingDatabase, ExactOnline, MappingTables, StateDatabase
from exact_pipeline.defs.steps import connected
from exact_pipeline.sync.reconciliation.engine import Reconciler
from exact_pipeline.sync.reconciliation.report import MonthReport

ASSET = "monthly_reconciliation"
RECONCILED = dg.AssetCheckKey(dg.AssetKey(ASSET), "month_reconciled")
# end_offset=1: the current month exists (and fills up) before it is over.
MONTHLY = dg.MonthlyPartitionsDefinition(
    start_date=AT_LOAD.settings.history_start.replace(day=1).isoformat(),
    timezone=TIMEZONE,
    end_offset=1,
)


@dg.asset(
    partitions_def=MONTHLY,
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=["exact_documents"],
    group_name="reconciliation",
    kinds={"exactonline", "csv"},
    check_specs=[
        partition_checks.daily_check(
            RECONCILED.name,
            ASSET,
            MONTHLY,
            "Red while any document of the month differs between billing and Exact, or Exact "
            "could not be read: how many, how many the pipeline cannot explain, then the "
            "documents with their explanation.",
        )
    ],
    description="Billing's month against Exact's sales journals, per division and currency: "
    "documents, amounts excluding VAT, VAT per code, totals, open and paid receivables; every "
    "difference document by document with its explanation; exported as CSV (one file per "
    "month). Exact is read in bulk, 1,000 rows a call.",
)
def monthly_reconciliation(
    context: dg.AssetExecutionContext,
    billing_database: BillingDatabase,
    state_database: StateDatabase,
    exact_online: ExactOnline,
    mapping_tables: MappingTables,
    reconciliation_export: ReconciliationExport,
) -> Iterator[dg.MaterializeResult | dg.AssetCheckEvaluation | dg.Output[None]]:
    months = days_of(context)  # each month with its own window
    slots = DivisionSlots.of_step(context, days=len(months))
    results: dict[str, partition_checks.DayCheck] = {}
    systems = (billing_database, state_database, exact_online, mapping_tables)
    with connected(Reconciler, *systems) as reconciler:
        for key, window in months:
            report = reconciler.reconcile(key[:7], window, hold=slots.held)
            path = report.write_csv(reconciliation_export.path)
            context.add_asset_metadata(month_metadata(report, path), partition_key=key)
            results[key] = month_check(report)
            if report.not_read:
                context.log.warning(report.sentence())
    yield dg.MaterializeResult()
    if RECONCILED in context.selected_asset_check_keys:
        yield from partition_checks.evaluations(context, RECONCILED, results)
    yield from partition_checks.check_outputs(context)


def month_metadata(report: MonthReport, path: Path) -> dict[str, Any]:
    """What the UI shows for a month: the numbers it plots across months first, then the
    verdict, the totals and the differences, and the CSV file."""
    return {
        **report.figures(),
        "reconciled": report.reconciled,
        "verdict": report.sentence(),
        "totals": dg.MetadataValue.md(report.totals_markdown()),
        "differences_table": dg.MetadataValue.md(report.differences_markdown()),
        "csv": dg.MetadataValue.path(str(path)),
    }


def month_check(report: MonthReport) -> partition_checks.DayCheck:
    return partition_checks.DayCheck(
        passed=report.reconciled,
        description=report.sentence(),
        metadata={
            "differences": len(report.differences),
            "unexplained": len(report.unexplained),
            "documents": dg.MetadataValue.md(report.differences_markdown()),
        },
    )
