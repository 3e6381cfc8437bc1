"""The documents, per daily partition: their customers linked in Exact, their payloads staged
(with a preview of what will be posted), and the documents pushed, each with its daily checks.
Each asset is a few lines over the document engine (`SyncEngine`)."""

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import dagster as dg

from exact_pipeline.defs import metadata
from exact_pipeline.defs.division_slots import DivisionSlots
from exact_pipeline.defs.documents import checks as partition_checks
from exact_pipeline.defs.documents.freshness import DOCUMENTS_FRESHNESS
from exact_pipeline.defs.partitions import DAILY, days_of, window_of
from exact_pipeline.defs.per_division import (
    each_division,
    merged_customers,
    merged_pushes,
    stopped_of,
)
from exact_pipeline.defs.quota import Quota, backfill_progress
from exact_pipeline.defs.resources import BillingDatabase, ExactOnline, MappingTables, StateDatabase
from exact_pipeline.defs.steps import DAILY_SYNC, connected, read_back
from exact_pipeline.sync.core.window import Window
from exact_pipeline.sync.documents import ledger
from exact_pipeline.sync.documents.engine import SyncEngine
from exact_pipeline.sync.documents.ledger import LedgerRow
from exact_pipeline.sync.documents.reports import CustomerReport, PushReport, split_by_day

PAYLOADS, DOCUMENTS = "exact_document_payloads", "exact_documents"
NO_BLOCKED = dg.AssetCheckKey(dg.AssetKey(PAYLOADS), "no_blocked_documents")
ALL_SYNCED = dg.AssetCheckKey(dg.AssetKey(DOCUMENTS), "all_documents_synced")
TOTALS = dg.AssetCheckKey(dg.AssetKey(DOCUMENTS), "totals_match_exact")


@dg.asset(
    **DAILY_SYNC,
    deps=["mapping_tables"],
    kinds={"exactonline"},
    description="The customers of the window's documents, linked to (or created as) Exact "
    "accounts per `customer_sync`.",
)
def exact_customers(
    context: dg.AssetExecutionContext,
    billing_database: BillingDatabase,
    state_database: StateDatabase,
    exact_online: ExactOnline,
    mapping_tables: MappingTables,
) -> dg.MaterializeResult:
    days = days_of(context)
    systems = (billing_database, state_database, exact_online, mapping_tables)
    quota = Quota.of(context, mapping_tables.tables)

    def link(engine: SyncEngine, division: int, slots: DivisionSlots) -> dict[str, CustomerReport]:
        reports: dict[str, CustomerReport] = {}
        for key, window in quota.live_first(days):
            with slots.held(division), quota.spending(engine.exact, division, key):
                reports[key] = report = engine.sync_customers(window, division)
            if report.stopped:  # the push links the rest (and stops the same way if it must)
                break
        return reports

    by_division = each_division(context, SyncEngine, systems, link, days=len(days))
    stopped = None
    for key, window in days:
        if stopped:
            figures = {"stopped": f"not looked at in this run: {stopped}"}
        else:
            day = [reports[key] for reports in by_division.values() if key in reports]
            report = merged_customers(window, day)
            stopped = report.stopped
            figures = metadata.customer_figures(report)
        context.add_asset_metadata(figures, partition_key=key)
    if stopped:
        context.log.warning(stopped)
    return dg.MaterializeResult()


@dg.asset(
    **DAILY_SYNC,
    deps=["mapping_tables"],
    kinds={"postgres"},
    check_specs=[
        partition_checks.daily_check(
            NO_BLOCKED.name,
            PAYLOADS,
            DAILY,
            "Red while a document of the day is blocked or failing (evaluated again after "
            "the push): how many and why, grouped by cause with the fix, then the documents.",
        )
    ],
    description="The window's invoices and credit notes transformed into Exact payloads and "
    "staged in the sync ledger. The payload preview shows what will be posted: per "
    "document its Exact account and totals, per line its item, GL account, VAT code and "
    "amounts.",
)
def exact_document_payloads(
    context: dg.AssetExecutionContext,
    billing_database: BillingDatabase,
    state_database: StateDatabase,
    exact_online: ExactOnline,
    mapping_tables: MappingTables,
) -> Iterator[dg.MaterializeResult | dg.AssetCheckEvaluation | dg.Output[None]]:
    results: dict[str, partition_checks.DayCheck] = {}
    systems = (billing_database, state_database, exact_online, mapping_tables)
    with connected(SyncEngine, *systems) as engine:
        for key, window in days_of(context):
            context.add_asset_metadata(metadata.preview(engine.stage(window)), partition_key=key)
            open_rows = engine.blocked(window)
            results[key] = partition_checks.documents_check(
                [(row, None) for row in open_rows], histories=engine.histories(open_rows)
            )
    yield dg.MaterializeResult()
    if NO_BLOCKED in context.selected_asset_check_keys:
        yield from partition_checks.evaluations(context, NO_BLOCKED, results)
    yield from partition_checks.check_outputs(context)


@dg.asset(
    **DAILY_SYNC,
    # mapping_tables directly too: Dagster's staleness does not pass through assets.
    deps=["mapping_tables", exact_customers, exact_document_payloads],
    kinds={"exactonline"},
    check_specs=[
        partition_checks.daily_check(
            ALL_SYNCED.name,
            DOCUMENTS,
            DAILY,
            "Red while a document of the day is not in Exact as billing has it (blocked, "
            "failed, flagged, or left staged by a spent budget): how many and why, then the "
            "documents.",
        ),
        partition_checks.daily_check(
            TOTALS.name,
            DOCUMENTS,
            DAILY,
            "Every synced document of the day as Exact holds it: total and VAT equal "
            "billing's to the cent. Verified from Exact's answer to the POST, then read back "
            "once after the document's day (what a bookkeeper changed or deleted that day) "
            "and after 30 days when its partition runs again; a run reads nothing already "
            "verified.",
        ),
    ],
    freshness_policy=DOCUMENTS_FRESHNESS,
    description="The staged documents posted to Exact with their PDF; the ledger makes "
    "every re-run free of duplicates.",
)
def exact_documents(
    context: dg.AssetExecutionContext,
    billing_database: BillingDatabase,
    state_database: StateDatabase,
    exact_online: ExactOnline,
    mapping_tables: MappingTables,
) -> Iterator[dg.MaterializeResult | dg.AssetCheckEvaluation | dg.Output[None]]:
    days = days_of(context)
    synced: dict[str, partition_checks.DayCheck] = {}
    blocked: dict[str, partition_checks.DayCheck] = {}
    systems = (billing_database, state_database, exact_online, mapping_tables)
    quota = Quota.of(context, mapping_tables.tables)
    work = division_push(quota.live_first(days), window_of(context), quota)
    pushed = each_division(context, SyncEngine, systems, work, days=len(days))
    calls_note = stopped_of(p.calls_note for p in pushed.values())
    stopped = stopped_of(p.stopped for p in pushed.values())
    differences = None if stopped else [d for p in pushed.values() for d in p.differences or []]
    with connected(SyncEngine, *systems) as engine:  # the ledger's view, all divisions
        # Each day's divisions, and its documents of no division (blocked, reported all the same).
        reports = {
            key: merged_pushes(
                window,
                [*(p.reports[key] for p in pushed.values()), engine.unmapped_documents(window)],
            )
            for key, window in days
        }
        progress = backfill_progress(engine) if quota.backfill else {}
        for key, window in days:
            report = reports[key]
            figures = metadata.push_figures(report, engine.ledger_counts(window), calls_note)
            figures |= progress
            context.add_asset_metadata(figures, partition_key=key)
            synced[key], blocked[key] = pushed_day_checks(engine, window, report)
    if stopped:
        context.log.warning(stopped)
    yield dg.MaterializeResult()
    selected = context.selected_asset_check_keys
    if ALL_SYNCED in selected:
        yield from partition_checks.evaluations(context, ALL_SYNCED, synced)
    if TOTALS in selected:
        yield from partition_checks.evaluations(
            context, TOTALS, totals_by_day(differences, reports, stopped)
        )
    yield from partition_checks.evaluations(context, NO_BLOCKED, blocked)
    yield from partition_checks.check_outputs(context)


@dataclass
class DivisionPush:
    """One division's push of the run: per day, and what Exact holds (None: not read)."""

    reports: dict[str, PushReport]
    calls_note: str | None
    stopped: str | None
    differences: list[dict[str, Any]] | None


def division_push(
    days: list[tuple[str, Window]], whole: Window, quota: Quota
) -> Callable[[SyncEngine, int, DivisionSlots], DivisionPush]:
    """What each division's worker does: push day by day (live days first, quota.py), then
    read back what Exact holds, unless the budget is spent (tomorrow's run will)."""

    def work(engine: SyncEngine, division: int, slots: DivisionSlots) -> DivisionPush:
        reports, calls_note = push_by_day(engine, days, division, slots, quota)
        stopped = stopped_of(r.stopped for r in reports.values())
        differences = None
        if not stopped:
            keys = [key for key, _ in days]
            with slots.held(division), quota.spending(engine.exact, division, *keys):
                differences, stopped = read_back(
                    lambda: engine.totals_differences(whole, division),
                    engine.mappings.settings.zone,
                )
        return DivisionPush(reports, calls_note, stopped, differences)

    return work


def push_by_day(
    engine: SyncEngine,
    days: list[tuple[str, Window]],
    division: int,
    slots: DivisionSlots,
    quota: Quota,
) -> tuple[dict[str, PushReport], str | None]:
    """Push the division day by day, so each day's outcomes and API calls are its own; its slot
    is held per day (a range run lets live runs in between). After a day that stopped (a spent
    budget, a division refusing access) the rest goes in one push: a refusing division would
    otherwise be asked once per day, and Exact blocks an app after ten errors an hour on an
    endpoint. A backfill's days before the live ones keep the live reserve (quota.py).
    Returns the reports and, then, how those days' calls were counted."""
    reports: dict[str, PushReport] = {}
    for index, (key, window) in enumerate(days):
        with slots.held(division), quota.spending(engine.exact, division, key):
            reports[key] = report = engine.push_documents(window, division)
        rest = days[index + 1 :]
        if report.stopped and rest:
            # Live days first: the rest need not be in order (what lies between is idempotent).
            start, end = min(w.start for _, w in rest), max(w.end for _, w in rest)
            with slots.held(division), quota.spending(engine.exact, division, *dict(rest)):
                together = engine.push_documents(Window(start=start, end=end), division)
            reports.update(split_by_day(together, rest))
            calls = sum(together.api_calls.values())
            first, last = min(dict(rest)), max(dict(rest))
            return reports, f"{calls} for {first}…{last} together (after the stop)"
    return reports, None


def pushed_day_checks(
    engine: SyncEngine, window: Window, report: PushReport
) -> tuple[partition_checks.DayCheck, partition_checks.DayCheck]:
    """A pushed day's `all_documents_synced` and `no_blocked_documents`. The push settles
    customer and master-data blocks and retries failures: the payloads' check says the state
    after it, not the one before."""
    problems = open_problems(engine.open_documents(window), report)
    histories = engine.histories([row for row, _ in problems])
    held = [(row, reason) for row, reason in problems if row.state != ledger.STAGED]
    return (
        partition_checks.documents_check(problems, histories=histories),
        partition_checks.documents_check(held, histories=histories),
    )


def open_problems(rows: list[LedgerRow], report: PushReport) -> list[tuple[LedgerRow, str | None]]:
    """The day's documents not in Exact as billing has them, each with its reason: the
    ledger's, or for one still staged, why this run left it."""
    outcomes = {row["number"]: row.get("outcome") for row in report.rows}
    problems: list[tuple[LedgerRow, str | None]] = []
    for row in rows:
        reason = None
        if row.state == ledger.STAGED:
            if outcomes.get(row.number) == "in_progress":
                reason = "not posted yet: another run is posting it right now"
            else:
                reason = f"not posted yet: {report.stopped or 'the next run posts it'}"
        problems.append((row, reason))
    return problems


def totals_by_day(
    differences: list[dict[str, Any]] | None,
    reports: Mapping[str, PushReport],
    stopped: str | None,
) -> dict[str, partition_checks.DayCheck]:
    """Billing's totals and VAT against what Exact holds, to the cent, per synced document,
    each difference on its document's day."""
    if differences is None:
        not_read = partition_checks.DayCheck(False, f"not reconciled this run: {stopped}")
        return dict.fromkeys(reports, not_read)
    day_of = {row["number"]: key for key, report in reports.items() for row in report.rows}
    days: dict[str, partition_checks.DayCheck] = {}
    for key in reports:
        found = [d for d in differences if day_of.get(d["number"]) == key]
        days[key] = partition_checks.DayCheck(
            passed=not found,
            description=f"{len(found)} document(s) differ between billing and Exact"
            if found
            else None,
            metadata={"count": len(found), "differences": metadata.table(found)},
        )
    return days
