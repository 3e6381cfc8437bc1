"""A document's open items: its receivable rows in Exact (`cashflow/Receivables`), which a
receipt must match (Account, OurRef = the invoice/entry number, amount)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

from exact_pipeline.exact.client import ExactClient
from exact_pipeline.exact.endpoints import BULK_RECEIVABLES
from exact_pipeline.exact.models import Receivable

# Documents per GET: the bulk twin answers 1,000 rows a page (a document has one row, or a few
# after partial payments), so the `or` filter decides: 60 GUIDs stay under Exact's 6,000
# characters of URL (reference §2, §3 "1000 on bulk/* and sync/*", §5 bulk/Cashflow/Receivables).
PER_CALL = 60


@dataclass(frozen=True)
class OpenItems:
    """A document's receivable rows in Exact, amounts signed as Exact books them (a credit
    note's are negative). A partial payment splits a row into a settled part and an open rest."""

    rows: tuple[Receivable, ...]

    @property
    def number(self) -> int | None:
        """The invoice/entry number a receipt's OurRef must carry."""
        return next((r.InvoiceNumber or r.EntryNumber for r in self.rows), None)

    @property
    def currency(self) -> str | None:
        return next((r.Currency for r in self.rows if r.Currency), None)

    @property
    def account(self) -> UUID | None:
        return next((r.Account for r in self.rows if r.Account), None)

    @property
    def outstanding(self) -> Decimal:
        return sum((r.AmountFC or Decimal(0) for r in self.rows if not r.IsFullyPaid), Decimal(0))

    @property
    def paid(self) -> Decimal:
        return sum((r.AmountFC or Decimal(0) for r in self.rows if r.IsFullyPaid), Decimal(0))


def open_items(
    exact: ExactClient, division: int, entry_ids: Sequence[UUID]
) -> dict[UUID, OpenItems]:
    """The receivable rows of the documents with these Exact entry/invoice ids (a call per
    `PER_CALL` documents). A document Exact holds no item for is absent."""
    items = exact.list_any(
        division, BULK_RECEIVABLES, "TransactionEntryID", entry_ids, per_call=PER_CALL
    )
    return _by_document(items)


def open_items_where(exact: ExactClient, division: int, where: str) -> dict[UUID, OpenItems]:
    """The receivable rows `where` selects (e.g. a day's, by `InvoiceDate`), by document: one
    call per 1,000 rows."""
    return _by_document(exact.list(division, BULK_RECEIVABLES, filter=where))


def _by_document(items: Iterable[Receivable]) -> dict[UUID, OpenItems]:
    found: dict[UUID, list[Receivable]] = {}
    for item in items:
        if item.TransactionEntryID is not None:
            found.setdefault(item.TransactionEntryID, []).append(item)
    return {entry_id: OpenItems(tuple(rows)) for entry_id, rows in found.items()}
