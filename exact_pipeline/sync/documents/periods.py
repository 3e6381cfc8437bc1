"""Which financial period a document is booked in: its date's, unless Exact says that period is
closed for the sales journal (`read/financial/JournalStatusList`, cached: exact/periods.py).
Then the setting `closed_period` decides:
- `block` (default): blocked (kind `period`) with the period named and the fix; every push
  looks again, so reopening the period in Exact (or switching the setting) lets it go;
- `next_open_period`: booked in the first open period after it, its own date kept (a sales
  entry's EntryDate, a sales invoice's InvoiceDate): `ReportingYear` and `ReportingPeriod` on
  the sales entry, or on the PrintedSalesInvoices POST that books a sales invoice. No open
  period after it (each closed, or its financial year not created in Exact): blocked.

A date's period is its calendar month in the invoicing entity's timezone (`document_date` is
the local issue date; `exact.periods.period_of`). A period Exact does not list is left to
Exact. Decided at push, before the first write, on statuses read this run whenever the
date's period is not known to be open; a refusal for a closed period reads them again and
decides again (push.py), so a period closed after the stage, or after a refusal, never costs
more than that one refusal.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from exact_pipeline.exact import ExactClient
from exact_pipeline.exact.periods import (
    CLOSED,
    JournalPeriods,
    Period,
    first_open_after,
    period_of,
    period_text,
)
from exact_pipeline.mapping import Blocked, Cause
from exact_pipeline.mapping.tables import ClosedPeriod
from exact_pipeline.sync.documents import ledger, reasons
from exact_pipeline.sync.documents.ledger import LedgerRow
from exact_pipeline.sync.documents.transform import DocumentPlan


@dataclass(frozen=True)
class Booking:
    dated: Period  # the document date's period
    booked: Period  # where it is booked

    @property
    def moved(self) -> bool:
        return self.booked != self.dated


def decide(
    plan: DocumentPlan, statuses: Mapping[Period, int] | None, policy: ClosedPeriod
) -> Booking | Cause:
    """Where `plan` is booked given its journal's `statuses` (None: never read), or why not."""
    dated = period_of(plan.document_date)
    if statuses is None or statuses.get(dated) != CLOSED:
        return Booking(dated, dated)
    words = (plan.document_date, period_text(dated), plan.journal, plan.division)
    if policy == "block":
        return reasons.period_closed(*words)
    later = first_open_after(statuses, dated)
    return Booking(dated, later) if later else reasons.no_open_period_after(*words)


def in_open_period(
    plan: DocumentPlan, periods: JournalPeriods, policy: ClosedPeriod
) -> DocumentPlan | Blocked:
    """`plan` with the period it is booked in (set only when moved), or blocked; reads the
    journal's statuses from Exact when its date's period is not known to be open."""
    statuses = periods.statuses(plan.journal, period_of(plan.document_date))
    decided = decide(plan, statuses, policy)
    if isinstance(decided, Cause):
        return Blocked(causes=(decided,))
    return replace(plan, reporting_period=decided.booked if decided.moved else None)


def preview(
    plan: DocumentPlan, cached: Mapping[Period, int] | None, policy: ClosedPeriod
) -> str | None:
    """The reporting period the preview shows, when the cached statuses say it is not the
    date's (no call to Exact: the push decides on fresh statuses)."""
    decided = decide(plan, cached, policy)
    dated = period_text(period_of(plan.document_date))
    if isinstance(decided, Cause):
        return reasons.closed_at_push(dated)
    return reasons.booked_later(period_text(decided.booked), dated) if decided.moved else None


# Rows whose booking is still to come: the preview says where it will be booked.
_TO_BOOK = (ledger.STAGED, ledger.BLOCKED, ledger.FAILED)


def preview_column(
    row: LedgerRow, plan: DocumentPlan | Blocked | None, exact: ExactClient, policy: ClosedPeriod
) -> dict[str, str]:
    """The stage preview's `reporting_period` for a document still to be booked, when the
    cached statuses say it is not its date's period (read from the state database only)."""
    if not isinstance(plan, DocumentPlan) or row.state not in _TO_BOOK:
        return {}
    cached = exact.master_data(plan.division).periods.cached(plan.journal)
    text = preview(plan, cached, policy)
    return {"reporting_period": text} if text else {}
