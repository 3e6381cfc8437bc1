"""Payments, in the mode settings.yaml's `payment_sync` chooses: billing's payments pushed to
Exact per daily partition (`exact_payments`, after the documents), or Exact's payments imported
into billing every hour (`payments_from_exact`). Each asset is a few lines over `PaymentSync`."""

import dagster as dg

from exact_pipeline.defs import metadata
from exact_pipeline.defs.division_slots import DivisionSlots
from exact_pipeline.defs.partitions import window_of
from exact_pipeline.defs.payments.webhooks import requested_divisions
from exact_pipeline.defs.per_division import mapped_divisions
from exact_pipeline.defs.quota import Quota
from exact_pipeline.defs.resources import BillingDatabase, ExactOnline, MappingTables, StateDatabase
from exact_pipeline.defs.steps import DAILY_SYNC, WARN, connected, read_back
from exact_pipeline.sync.payments.engine import PaymentReport, PaymentSync


@dg.asset(
    **DAILY_SYNC,
    deps=["exact_documents"],
    kinds={"exactonline"},
    check_specs=[
        dg.AssetCheckSpec(
            "paid_amounts_agree",
            asset="exact_payments",
            description="Every synced document of the window is paid the same in billing and "
            "Exact. What the pipeline did is known from Exact's answers (the document posted "
            "unpaid, each receipt pushed); Exact's open items are read only where Exact moved "
            "by itself (a payment imported, reversed or accepted as registered there), once "
            "after the document's day, and after 30 days when its partition runs again. A "
            "run with nothing new reads nothing.",
        )
    ],
    description="payment_sync billing_to_exact: the window's billing payments (by payment "
    "date, plus those recorded since the last run whatever their date, and earlier ones "
    "still waiting) as receipts in Exact, matched to the open receivable. The check "
    "compares what billing and Exact say is paid.",
)
def exact_payments(
    context: dg.AssetExecutionContext,
    billing_database: BillingDatabase,
    state_database: StateDatabase,
    exact_online: ExactOnline,
    mapping_tables: MappingTables,
) -> dg.MaterializeResult:
    window = window_of(context)
    systems = (billing_database, state_database, exact_online, mapping_tables)
    # The payments of all divisions together: a few calls each, after the documents.
    quota = Quota.of(context, mapping_tables.tables)
    with (
        DivisionSlots.of_step(context).all_held(mapped_divisions(mapping_tables.tables)),
        connected(PaymentSync, *systems) as payments,
        quota.spending(payments.exact, None, *context.partition_keys),
    ):
        report = payments.push_payments(window)
        # Compared with Exact unless the budget is spent (the push says until when).
        differences, unread = (
            (None, report.stopped)
            if report.stopped
            else read_back(lambda: payments.differences(window), payments.mappings.settings.zone)
        )
    return payment_result(context, report, differences, unread)


@dg.asset(
    group_name="payments",
    deps=["mapping_tables"],
    kinds={"exactonline", "postgres"},
    description="payment_sync exact_to_billing: payments registered in Exact on our documents, "
    "read incrementally (sync endpoint) and written into billing's payments table; the invoice "
    "status follows. Runs every hour.",
)
def payments_from_exact(
    context: dg.AssetExecutionContext,
    billing_database: BillingDatabase,
    state_database: StateDatabase,
    exact_online: ExactOnline,
    mapping_tables: MappingTables,
) -> dg.MaterializeResult:
    systems = (billing_database, state_database, exact_online, mapping_tables)
    named = requested_divisions(context.run.tags)
    with (
        DivisionSlots.of_step(context).all_held(named or mapped_divisions(mapping_tables.tables)),
        connected(PaymentSync, *systems) as payments,
    ):
        # A webhook-triggered run reads only the divisions its events name.
        report = payments.import_payments(named)
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
