"""The assets: mapping tables, then per daily partition customers, document payloads and the
pushed documents. Each is a few lines over the sync engine (`exact_pipeline.sync`)."""

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg

from exact_pipeline.defs import metadata
from exact_pipeline.defs.connection import dead_connection_fails
from exact_pipeline.defs.partitions import window_of
from exact_pipeline.defs.resources import ExactSync
from exact_pipeline.sync.engine import SyncEngine
from exact_pipeline.sync.payments import PaymentReport, PaymentSync
from exact_pipeline.sync.reports import document_row

# Every asset that calls Exact takes a slot in this pool (limit 1 in dagster.yaml): Exact's
# budgets are per division and shared by every process, so parallel writers only earn 429s.
EXACT_POOL = "exact_api"
SYNC_GROUP = "exact_sync"
WARN = dg.AssetCheckSeverity.WARN


@contextmanager
def engine_for(exact_sync: ExactSync) -> Iterator[SyncEngine]:
    with dead_connection_fails(), exact_sync.engine() as engine:
        yield engine


@contextmanager
def payments_for(exact_sync: ExactSync) -> Iterator[PaymentSync]:
    with dead_connection_fails(), exact_sync.payments() as payments:
        yield payments


@dg.asset(
    group_name="mappings",
    pool=EXACT_POOL,
    kinds={"csv", "yaml"},
    check_specs=[dg.AssetCheckSpec("codes_exist_in_exact", asset="mapping_tables")],
    description="The mapping tables (mappings/), validated against each division's Exact "
    "master data. Their fingerprint is the data version: a change marks the synced "
    "partitions stale.",
)
def mapping_tables(exact_sync: ExactSync) -> dg.MaterializeResult:
    with engine_for(exact_sync) as engine:
        validation = engine.validate_mappings()
        fingerprint = engine.mappings.fingerprint()
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


def build_sync_assets(partitions: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    """The partitioned assets. One single run covers a whole backfill range (no per-day
    process overhead); every load is idempotent, so any range can be re-run."""
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
        with engine_for(exact_sync) as engine:
            report = engine.sync_customers(window_of(context))
        if report.stopped:
            context.log.warning(report.stopped)
        return dg.MaterializeResult(
            metadata={
                **metadata.counts("customers_", report.counts),
                "stopped": report.stopped or "no",
                "customers": metadata.table(report.rows),
                **metadata.rows_note(report.rows),
            }
        )

    @dg.asset(
        **common,
        deps=[mapping_tables],
        kinds={"postgres"},
        check_specs=[dg.AssetCheckSpec("no_blocked_documents", asset="exact_document_payloads")],
        description="The window's invoices and credit notes transformed into Exact payloads and "
        "staged in the sync ledger; a preview of what will be posted.",
    )
    def exact_document_payloads(
        context: dg.AssetExecutionContext, exact_sync: ExactSync
    ) -> dg.MaterializeResult:
        window = window_of(context)
        with engine_for(exact_sync) as engine:
            report = engine.stage(window)
            blocked = [document_row(row) for row in engine.blocked(window)]
        return dg.MaterializeResult(
            metadata={
                **metadata.counts("documents_", report.counts),
                "dagster/row_count": len(report.rows),
                "payload preview": metadata.table(report.rows),
                **metadata.rows_note(report.rows),
            },
            check_results=[blocked_check("no_blocked_documents", blocked)],
        )

    @dg.asset(
        **common,
        # mapping_tables directly too: Dagster's staleness does not pass through assets.
        deps=[mapping_tables, exact_customers, exact_document_payloads],
        kinds={"exactonline"},
        check_specs=[
            dg.AssetCheckSpec("all_documents_synced", asset="exact_documents"),
            dg.AssetCheckSpec("totals_match_exact", asset="exact_documents"),
        ],
        description="The staged documents posted to Exact with their PDF; the ledger makes "
        "every re-run free of duplicates.",
    )
    def exact_documents(
        context: dg.AssetExecutionContext, exact_sync: ExactSync
    ) -> dg.MaterializeResult:
        window = window_of(context)
        with engine_for(exact_sync) as engine:
            report = engine.push_documents(window)
            open_problems = [document_row(row) for row in engine.blocked(window)]
            # Read back what Exact holds, unless the budget is spent (tomorrow's run will).
            differences = None if report.stopped else engine.totals_differences(window)
        if report.stopped:
            context.log.warning(report.stopped)
        return dg.MaterializeResult(
            metadata={
                **metadata.counts("documents_", report.counts),
                **metadata.counts("api_calls_division_", report.api_calls),
                "stopped": report.stopped or "no: every staged document was attempted",
                "documents": metadata.table(report.rows),
                **metadata.rows_note(report.rows),
            },
            check_results=[
                blocked_check("all_documents_synced", open_problems, report.stopped),
                totals_check(differences, report.stopped),
            ],
        )

    @dg.asset(
        **common,
        deps=[exact_documents],
        kinds={"exactonline"},
        check_specs=[dg.AssetCheckSpec("paid_amounts_agree", asset="exact_payments")],
        description="payment_sync billing_to_exact: the window's billing payments (by payment "
        "date, plus earlier ones still waiting) as receipts in Exact, matched to the open "
        "receivable. The check compares what billing and Exact say is paid.",
    )
    def exact_payments(
        context: dg.AssetExecutionContext, exact_sync: ExactSync
    ) -> dg.MaterializeResult:
        window = window_of(context)
        with payments_for(exact_sync) as payments:
            report = payments.push_payments(window)
            differences = payments.differences(window)
        return payment_result(context, report, differences)

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
    return payment_result(context, report, None)


def payment_result(
    context: dg.AssetExecutionContext,
    report: PaymentReport,
    differences: list[dict[str, object]] | None,
) -> dg.MaterializeResult:
    if report.stopped:
        context.log.warning(report.stopped)
    checks = []
    if differences is not None:
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


def totals_check(
    differences: list[dict[str, object]] | None, stopped: str | None
) -> dg.AssetCheckResult:
    """Billing's totals and VAT against what Exact holds, to the cent, per synced document."""
    if differences is None:
        return dg.AssetCheckResult(
            check_name="totals_match_exact",
            passed=False,
            severity=WARN,
            description=f"not reconciled this run: {stopped}",
        )
    return dg.AssetCheckResult(
        check_name="totals_match_exact",
        passed=not differences,
        severity=WARN,
        description=f"{len(differences)} document(s) differ between billing and Exact"
        if differences
        else None,
        metadata={"differences": metadata.table(differences), "count": len(differences)},
    )


def blocked_check(
    name: str, rows: list[dict[str, object]], stopped: str | None = None
) -> dg.AssetCheckResult:
    """Warns with a table of the documents that did not go through and why."""
    reasons = [stopped] if stopped else []
    if rows:
        reasons.append(f"{len(rows)} document(s) need attention: see the table for each reason")
    return dg.AssetCheckResult(
        check_name=name,
        passed=not rows and not stopped,
        severity=WARN,
        description=" ".join(reasons) or None,
        metadata={"documents": metadata.table(rows), "count": len(rows)},
    )
