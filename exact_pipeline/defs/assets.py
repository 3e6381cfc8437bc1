"""The assets: mapping tables, then per daily partition customers, document payloads and the
pushed documents. Each is a few lines over the sync engine (`exact_pipeline.sync`)."""

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import dagster as dg

from exact_pipeline.defs import checks as partition_checks
from exact_pipeline.defs import metadata
from exact_pipeline.defs.connection import dead_connection_fails
from exact_pipeline.defs.partitions import days_of, window_of
from exact_pipeline.defs.resources import ExactSync
from exact_pipeline.sync import ledger
from exact_pipeline.sync.engine import SyncEngine
from exact_pipeline.sync.errors import STOPS_THE_DIVISION
from exact_pipeline.sync.ledger import LedgerRow
from exact_pipeline.sync.payments import PaymentReport, PaymentSync
from exact_pipeline.sync.reports import PushReport, Window, split_by_day
from exact_pipeline.sync.stops import not_read_back

# Every asset that calls Exact takes a slot in this pool (limit 1 in dagster.yaml): Exact's
# budgets are per division and shared by every process, so parallel writers only earn 429s.
EXACT_POOL = "exact_api"
SYNC_GROUP = "exact_sync"
WARN = dg.AssetCheckSeverity.WARN
T = TypeVar("T")


@contextmanager
def engine_for(exact_sync: ExactSync) -> Iterator[SyncEngine]:
    with dead_connection_fails(), exact_sync.engine() as engine:
        yield engine


@contextmanager
def payments_for(exact_sync: ExactSync) -> Iterator[PaymentSync]:
    with dead_connection_fails(), exact_sync.payments() as payments:
        yield payments


def read_back(read: Callable[[], T], zone: ZoneInfo) -> tuple[T | None, str | None]:
    """What a check reads from Exact, or (None, why not) when Exact's daily budget (or access)
    stops it: the check says so and the run stays green."""
    try:
        return read(), None
    except STOPS_THE_DIVISION as stop:
        return None, not_read_back(stop, zone)


@dg.asset(
    group_name="mappings",
    # No `exact_api` pool: validation only reads a few master-data lists per division, paced by
    # the client (Exact's X-RateLimit headers; a 429 is waited out). Holding the pool would
    # make a mapping fix's sync run queue behind a step that posts nothing.
    kinds={"csv", "yaml"},
    check_specs=[dg.AssetCheckSpec("codes_exist_in_exact", asset="mapping_tables")],
    description="The mapping tables (mappings/), validated against each division's Exact "
    "master data. Their fingerprint is the data version: a change marks the synced "
    "partitions stale.",
)
def mapping_tables(exact_sync: ExactSync) -> dg.MaterializeResult:
    with engine_for(exact_sync) as engine:
        validation, unread = read_back(engine.validate_mappings, engine.mappings.settings.zone)
        fingerprint = engine.mappings.fingerprint()
    if validation is None:
        return dg.MaterializeResult(
            data_version=dg.DataVersion(fingerprint),
            metadata={"fingerprint": fingerprint, "stopped": unread},
            check_results=[
                dg.AssetCheckResult(
                    check_name="codes_exist_in_exact",
                    passed=False,
                    severity=WARN,
                    description=f"not validated against Exact this run: {unread}",
                )
            ],
        )
    problems = [{"problem": problem} for problem in validation.problems]
    return dg.MaterializeResult(
        data_version=dg.DataVersion(fingerprint),
        metadata={"fingerprint": fingerprint, **validation.summary},
        check_results=[
            dg.AssetCheckResult(
                check_name="codes_exist_in_exact",
                passed=validation.ok,
                severity=WARN,
                metadata={"problems": metadata.table(problems), "count": len(problems)},
                description=None if validation.ok else "; ".join(validation.problems[:5]),
            )
        ],
    )


PAYLOADS, DOCUMENTS = "exact_document_payloads", "exact_documents"
NO_BLOCKED = dg.AssetCheckKey(dg.AssetKey(PAYLOADS), "no_blocked_documents")
ALL_SYNCED = dg.AssetCheckKey(dg.AssetKey(DOCUMENTS), "all_documents_synced")
TOTALS = dg.AssetCheckKey(dg.AssetKey(DOCUMENTS), "totals_match_exact")


def build_sync_assets(partitions: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    """The partitioned assets. One single run covers a whole backfill range (no per-day
    process overhead); every load is idempotent, so any range can be re-run. Figures and check
    results are per day, also in a range run (`days_of`, `partition_checks`)."""
    common = {
        "partitions_def": partitions,
        "backfill_policy": dg.BackfillPolicy.single_run(),
        "pool": EXACT_POOL,
        "group_name": SYNC_GROUP,
    }

    @dg.asset(
        **common,
        deps=[mapping_tables],
        kinds={"exactonline"},
        description="The customers of the window's documents, linked to (or created as) Exact "
        "accounts per `customer_sync`.",
    )
    def exact_customers(
        context: dg.AssetExecutionContext, exact_sync: ExactSync
    ) -> dg.MaterializeResult:
        stopped = None
        with engine_for(exact_sync) as engine:
            for key, window in days_of(context):
                if stopped:  # the push links the rest (and stops the same way if it must)
                    figures = {"stopped": f"not looked at in this run: {stopped}"}
                else:
                    report = engine.sync_customers(window)
                    stopped = report.stopped
                    figures = metadata.customer_figures(report)
                context.add_asset_metadata(figures, partition_key=key)
        if stopped:
            context.log.warning(stopped)
        return dg.MaterializeResult()

    @dg.asset(
        **common,
        deps=[mapping_tables],
        kinds={"postgres"},
        check_specs=[
            partition_checks.daily_check(
                NO_BLOCKED.name,
                PAYLOADS,
                partitions,
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
        context: dg.AssetExecutionContext, exact_sync: ExactSync
    ) -> Iterator[dg.MaterializeResult | dg.AssetCheckEvaluation | dg.Output[None]]:
        results: dict[str, partition_checks.DayCheck] = {}
        with engine_for(exact_sync) as engine:
            for key, window in days_of(context):
                context.add_asset_metadata(
                    metadata.preview(engine.stage(window)), partition_key=key
                )
                open_rows = engine.blocked(window)
                results[key] = partition_checks.documents_check([(row, None) for row in open_rows])
        yield dg.MaterializeResult()
        if NO_BLOCKED in context.selected_asset_check_keys:
            yield from partition_checks.evaluations(context, NO_BLOCKED, results)
        yield from partition_checks.check_outputs(context)

    @dg.asset(
        **common,
        # mapping_tables directly too: Dagster's staleness does not pass through assets.
        deps=[mapping_tables, exact_customers, exact_document_payloads],
        kinds={"exactonline"},
        check_specs=[
            partition_checks.daily_check(
                ALL_SYNCED.name,
                DOCUMENTS,
                partitions,
                "Red while a document of the day is not in Exact as billing has it (blocked, "
                "failed, flagged, or left staged by a spent budget): how many and why, then the "
                "documents.",
            ),
            partition_checks.daily_check(
                TOTALS.name,
                DOCUMENTS,
                partitions,
                "Every synced document of the day read back from Exact: total and VAT equal "
                "billing's to the cent.",
            ),
        ],
        description="The staged documents posted to Exact with their PDF; the ledger makes "
        "every re-run free of duplicates.",
    )
    def exact_documents(
        context: dg.AssetExecutionContext, exact_sync: ExactSync
    ) -> Iterator[dg.MaterializeResult | dg.AssetCheckEvaluation | dg.Output[None]]:
        days = days_of(context)
        synced: dict[str, partition_checks.DayCheck] = {}
        blocked: dict[str, partition_checks.DayCheck] = {}
        with engine_for(exact_sync) as engine:
            reports, calls_note = push_by_day(engine, days)
            stopped = next((r.stopped for r in reports.values() if r.stopped), None)
            # Read back what Exact holds, unless the budget is spent (tomorrow's run will).
            if stopped:
                differences = None
            else:
                differences, stopped = read_back(
                    lambda: engine.totals_differences(window_of(context)),
                    engine.mappings.settings.zone,
                )
            for key, window in days:
                report = reports[key]
                figures = metadata.push_figures(report, engine.ledger_counts(window), calls_note)
                context.add_asset_metadata(figures, partition_key=key)
                problems = open_problems(engine.open_documents(window), report)
                synced[key] = partition_checks.documents_check(problems)
                # The push settles customer and master-data blocks and retries failures: the
                # payloads' check says the state after it, not the one before.
                blocked[key] = partition_checks.documents_check(
                    [(row, reason) for row, reason in problems if row.state != ledger.STAGED]
                )
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

    @dg.asset(
        **common,
        deps=[exact_documents],
        kinds={"exactonline"},
        check_specs=[dg.AssetCheckSpec("paid_amounts_agree", asset="exact_payments")],
        description="payment_sync billing_to_exact: the window's billing payments (by payment "
        "date, plus those recorded since the last run whatever their date, and earlier ones "
        "still waiting) as receipts in Exact, matched to the open receivable. The check "
        "compares what billing and Exact say is paid.",
    )
    def exact_payments(
        context: dg.AssetExecutionContext, exact_sync: ExactSync
    ) -> dg.MaterializeResult:
        window = window_of(context)
        with payments_for(exact_sync) as payments:
            report = payments.push_payments(window)
            # Compared with Exact unless the budget is spent (the push says until when).
            differences, unread = (
                (None, report.stopped)
                if report.stopped
                else read_back(
                    lambda: payments.differences(window), payments.mappings.settings.zone
                )
            )
        return payment_result(context, report, differences, unread)

    return [exact_customers, exact_document_payloads, exact_documents, exact_payments]


@dg.asset(
    group_name="payments",
    pool=EXACT_POOL,
    deps=[mapping_tables],
    kinds={"exactonline", "postgres"},
    description="payment_sync exact_to_billing: payments registered in Exact on our documents, "
    "read incrementally (sync endpoint) and written into billing's payments table; the invoice "
    "status follows. Runs every hour.",
)
def payments_from_exact(
    context: dg.AssetExecutionContext, exact_sync: ExactSync
) -> dg.MaterializeResult:
    with payments_for(exact_sync) as payments:
        report = payments.import_payments()
    return payment_result(context, report, None, None)


def payment_result(
    context: dg.AssetExecutionContext,
    report: PaymentReport,
    differences: list[dict[str, object]] | None,
    unread: str | None,
) -> dg.MaterializeResult:
    """`differences` None: no check (the import), unless `unread` says why Exact was not read."""
    if report.stopped:
        context.log.warning(report.stopped)
    checks = []
    if unread is not None:
        checks.append(
            dg.AssetCheckResult(
                check_name="paid_amounts_agree",
                passed=False,
                severity=WARN,
                description=f"not compared with Exact this run: {unread}",
            )
        )
    elif differences is not None:
        checks.append(
            dg.AssetCheckResult(
                check_name="paid_amounts_agree",
                passed=not differences,
                severity=WARN,
                description=f"{len(differences)} document(s) paid differently in billing and Exact"
                if differences
                else None,
                metadata={"differences": metadata.table(differences), "count": len(differences)},
            )
        )
    return dg.MaterializeResult(
        metadata={
            "payment_sync": report.mode,
            **metadata.counts("payments_", report.counts),
            **{f"amount_{currency}": amount for currency, amount in report.amounts.items()},
            "stopped": report.stopped or "no",
            "payments": metadata.table(report.rows),
            **metadata.rows_note(report.rows),
        },
        check_results=checks,
    )


def push_by_day(
    engine: SyncEngine, days: list[tuple[str, Window]]
) -> tuple[dict[str, PushReport], str | None]:
    """Push day by day, so each day's outcomes and API calls are its own. After a day that
    stopped (a spent budget, a division refusing access) the rest goes in one push: a refusing
    division would otherwise be asked once per day, and Exact blocks an app after ten errors
    an hour on an endpoint. Returns the reports and, then, how those days' calls were counted."""
    reports: dict[str, PushReport] = {}
    for index, (key, window) in enumerate(days):
        reports[key] = report = engine.push_documents(window)
        rest = days[index + 1 :]
        if report.stopped and rest:
            together = engine.push_documents(Window(start=rest[0][1].start, end=rest[-1][1].end))
            reports.update(split_by_day(together, rest))
            calls = sum(together.api_calls.values())
            return reports, f"{calls} for {rest[0][0]}…{rest[-1][0]} together (after the stop)"
    return reports, None


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
