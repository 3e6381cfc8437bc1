"""What Exact booked in a month: one `ExactEntry` per entry of the divisions' sales journals.

Two bulk reads per division, filtered on the month and 1,000 rows a call (the page size of
Exact's bulk endpoints, exact-online-api.md §5), whatever the number of documents:

- `bulk/Financial/TransactionLines`, Type 20 (sales entry) and 21 (sales credit note): the
  books themselves. LineNumber 0 is the customer's line (the entry's total, debit positive);
  the document's lines carry their VAT code and their VAT (`AmountVATFC`, "Vat amount in the
  currency of the transaction", Exact's TransactionLines page as picqer's TransactionLine.php
  copies it); the VAT GL lines Exact adds per code carry no `AmountVATFC`, so the amount
  excluding VAT is what the document's lines credit.
- `bulk/Cashflow/Receivables`: the entries' items; settled rows are what was paid, open rows
  what is outstanding (a partial payment splits a row), tied to their entry by
  `TransactionEntryID`.

Both push modes end in these books (a sales invoice is booked as a sales-journal entry when
processed), so one reading serves both. Journal codes are compared trimmed on this side:
Exact pads codes, and a `$filter` on a padded code would miss them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from uuid import UUID

from exact_pipeline.exact import ExactClient
from exact_pipeline.exact.endpoints import BULK_RECEIVABLES, Endpoint
from exact_pipeline.exact.models import Receivable, TransactionLine, TrimmedCode
from exact_pipeline.exact.odata import literal
from exact_pipeline.exact.openitems import OpenItems
from exact_pipeline.sync.core.money import currency_problem, from_major

SALES_TYPES = (20, 21)  # TransactionLines.Type: sales entry, sales credit note
CUSTOMER_LINE = 0  # LineNumber of the entry's counter-booking on the customer


class SalesJournalLine(TransactionLine):
    """A transaction line with what a document line adds: its VAT code and VAT."""

    AmountVATFC: Decimal | None = None
    VATCode: TrimmedCode = None


BULK_TRANSACTION_LINES = Endpoint("bulk/Financial/TransactionLines", SalesJournalLine, "ID")
LINE_FIELDS = (
    "ID,EntryID,EntryNumber,LineNumber,Type,Date,JournalCode,AmountFC,AmountVATFC,VATCode,"
    "Currency,YourRef"
)
RECEIVABLE_FIELDS = "ID,TransactionEntryID,Journal,AmountFC,IsFullyPaid,Currency,InvoiceDate"


@dataclass
class ExactEntry:
    """One booked document, amounts in the currency's minor units (Decimals: a fraction of the
    minor unit Exact might hold is kept), signed as Exact books them (credit notes negative)."""

    division: int
    entry_id: UUID
    entry_number: int | None
    your_ref: str | None
    day: date | None
    journal: str | None
    currency: str
    total: Decimal = Decimal(0)
    excl: Decimal = Decimal(0)
    vat: dict[str, Decimal] = field(default_factory=dict)  # per VAT code
    open: Decimal = Decimal(0)
    paid: Decimal = Decimal(0)
    has_items: bool = False  # Exact shows a receivable for it

    @property
    def vat_total(self) -> Decimal:
        return sum(self.vat.values(), Decimal(0))


def read_month(
    exact: ExactClient, division: int, journals: Iterable[str], first: date, after: date
) -> list[ExactEntry]:
    """The entries of `division`'s sales `journals` dated in [first, after), with their
    receivables: two bulk reads, a call per 1,000 rows each."""
    wanted = set(journals)
    lines = exact.list(
        division,
        BULK_TRANSACTION_LINES,
        filter=f"{_within('Date', first, after)} and {_sales('Type')}",
        select=LINE_FIELDS,
    )
    entries = _entries(division, (line for line in lines if line.JournalCode in wanted))
    items = exact.list(
        division,
        BULK_RECEIVABLES,
        filter=f"{_within('InvoiceDate', first, after)} and {_sales('TransactionType')}",
        select=RECEIVABLE_FIELDS,
    )
    _add_items(entries, (item for item in items if item.Journal in wanted))
    return list(entries.values())


def _within(name: str, first: date, after: date) -> str:
    return f"{name} ge {literal(first)} and {name} lt {literal(after)}"


def _sales(name: str) -> str:
    return "(" + " or ".join(f"{name} eq {kind}" for kind in SALES_TYPES) + ")"


def _entries(division: int, lines: Iterable[SalesJournalLine]) -> dict[UUID, ExactEntry]:
    entries: dict[UUID, ExactEntry] = {}
    for line in lines:
        if line.EntryID is None:
            continue
        currency = (line.Currency or "").strip().upper()
        entry = entries.get(line.EntryID)
        if entry is None:
            entry = entries[line.EntryID] = ExactEntry(
                division=division,
                entry_id=line.EntryID,
                entry_number=line.EntryNumber,
                your_ref=line.YourRef,
                day=line.Date.date() if line.Date else None,
                journal=line.JournalCode,
                currency=currency,
            )
        if line.LineNumber == CUSTOMER_LINE:
            entry.total += _minor(line.AmountFC, currency)
        elif line.AmountVATFC is not None:  # a document line: credited, so negated
            entry.excl -= _minor(line.AmountFC, currency)
            code = line.VATCode or ""
            entry.vat[code] = entry.vat.get(code, Decimal(0)) - _minor(line.AmountVATFC, currency)
    return entries


def _add_items(entries: dict[UUID, ExactEntry], items: Iterable[Receivable]) -> None:
    rows: dict[UUID, list[Receivable]] = defaultdict(list)
    for item in items:
        if item.TransactionEntryID in entries:
            rows[item.TransactionEntryID].append(item)
    for entry_id, found in rows.items():
        entry = entries[entry_id]
        both = OpenItems(tuple(found))
        entry.open = _minor(both.outstanding, entry.currency)
        entry.paid = _minor(both.paid, entry.currency)
        entry.has_items = True


def _minor(amount: Decimal | None, currency: str) -> Decimal:
    """Exact's amount in minor units; an unknown currency (its documents are blocked in
    billing) keeps Exact's figure as it is rather than guessing a unit."""
    value = amount or Decimal(0)
    return value if currency_problem(currency) else from_major(value, currency)
