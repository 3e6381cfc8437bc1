"""Reconciliation: do Exact's totals still equal billing's, document by document?

Compared with what Exact was last seen to hold (`verified`): its answer to the entry's POST,
then one read after the document's day is over (a document edited or deleted in Exact by hand
that day, or a rounding Exact applied, shows up with both amounts side by side) and again after
`verified.RECHECK_AFTER` when its partition runs later. A run reads nothing already seen: only
those documents, one GET per `verified.READ_PER_CALL`, or a day with more of them by its date
(one GET per 1,000 rows, `day_read`). In sales_invoice mode the same read
fills Exact's invoice numbers still unknown (numbers are assigned at booking, which answers
none).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from exact_pipeline.exact import ExactClient
from exact_pipeline.exact.endpoints import BULK_SALES_INVOICES, BULK_TRANSACTION_LINES
from exact_pipeline.sync.core.ledger import Connection
from exact_pipeline.sync.core.money import amount_text, exact_text, to_major
from exact_pipeline.sync.documents import corrections, day_read, ledger, verified
from exact_pipeline.sync.documents.ledger import LedgerRow
from exact_pipeline.sync.documents.push import ENTRY_STEPS, InvoiceNumbers

Difference = dict[str, Any]
Held = tuple[Decimal | None, Decimal | None, int | None]  # total, VAT, invoice number


def totals_differences(
    exact: ExactClient,
    conn: Connection,
    rows: list[LedgerRow],
    now: Callable[[], datetime],
    zone: ZoneInfo,
) -> list[Difference]:
    """The posted documents among `rows` (synced, or changed in billing since) whose total or
    VAT in Exact differs from billing's (signed as posted), or that Exact no longer holds."""
    posted = [
        row
        for row in rows
        if row.state in (ledger.SYNCED, ledger.CHANGED_AFTER_SYNC)
        and row.entry_id
        and row.division
        and row.push_mode
    ]
    known = verified.seen(conn, [row.billing_id for row in posted])
    moment = now()
    stale: dict[tuple[int, str], list[LedgerRow]] = defaultdict(list)
    for row in posted:
        if verified.needs_reading(row, known.get(row.billing_id), moment, zone):
            assert row.division is not None and row.push_mode is not None
            stale[(row.division, row.push_mode)].append(row)
    for (division, mode), group in stale.items():
        known |= _read_back(exact, conn, division, mode, group, known, moment)
    differences: list[Difference] = []
    for row in posted:
        seen = known[row.billing_id]
        # Compared as Decimals in the currency: a fraction of the minor unit is a difference.
        billing = (to_major(row.total, row.currency), to_major(row.vat, row.currency))
        held = seen.total is not None
        if held and (seen.total, seen.vat) == billing:
            continue
        differences.append(
            {
                "number": row.number,
                "division": row.division,
                "billing_total": amount_text(row.total, row.currency),
                "exact_total": exact_text(seen.total, row.currency) if held else "",
                "billing_vat": amount_text(row.vat, row.currency),
                "exact_vat": "" if seen.vat is None else exact_text(seen.vat, row.currency),
                "explanation": _explanation(row, held),
            }
        )
    # A corrected document's reversal must cancel its original, or Exact's total is not billing's.
    return differences + corrections.unbalanced(conn, rows)


def _read_back(
    exact: ExactClient,
    conn: Connection,
    division: int,
    mode: str,
    group: list[LedgerRow],
    known: dict[str, verified.Seen],
    moment: datetime,
) -> dict[str, verified.Seen]:
    """Read `group`'s entries back: a day with many by its date (`day_read`), confirming what
    was last seen; the rest, and whatever the day's read does not confirm, by their IDs."""
    days, rest = day_read.split(group, verified.READ_PER_CALL)
    seen: dict[str, verified.Seen] = {}
    for day, rows in days.items():
        held = _held_on(exact, division, mode, day)
        for row in rows:
            last, found = known.get(row.billing_id), held.get(row.entry_id)
            if (
                last is None
                or last.entry_id != row.entry_id
                or last.total is None
                or found is None
                or found[:2] != (last.total, last.vat)
            ):
                rest.append(row)
            else:
                seen[row.billing_id] = _remember(conn, row, *found, mode, moment)
    if rest:
        seen |= _read(exact, conn, division, mode, rest, moment)
    return seen


def _held_on(exact: ExactClient, division: int, mode: str, day: date) -> dict[UUID, Held]:
    """What Exact holds of the division's entries dated `day`: one GET per 1,000 rows."""
    if mode == "sales_invoice":
        return {
            invoice.InvoiceID: (invoice.AmountFC, invoice.VATAmountFC, invoice.InvoiceNumber)
            for invoice in exact.list(
                division,
                BULK_SALES_INVOICES,
                filter=day_read.on_day("InvoiceDate", day),
                select="InvoiceID,AmountFC,VATAmountFC,InvoiceNumber",
            )
            if invoice.InvoiceID
        }
    # Sales entries have no bulk twin: their ledger lines do. LineNumber 0 is the debtor line
    # (the total, reference §5 "Sync endpoints"); the revenue lines carry their VAT, credited
    # like the lines themselves (Exact: debit positive, credit negative). The VAT's sign is not
    # documented [U]: were it the other way, no document would be confirmed and each would be
    # read by its ID, as before (dearer, never wrong).
    totals: dict[UUID, Decimal | None] = {}
    vat: dict[UUID, Decimal] = defaultdict(Decimal)
    for line in exact.list(
        division,
        BULK_TRANSACTION_LINES,
        filter=day_read.on_day("Date", day),
        select="EntryID,LineNumber,AmountFC,AmountVATFC",
    ):
        if line.EntryID is None:
            continue
        if line.LineNumber == 0:
            totals[line.EntryID] = line.AmountFC
        vat[line.EntryID] -= line.AmountVATFC or Decimal(0)
    return {entry: (total, vat[entry], None) for entry, total in totals.items()}


def _read(
    exact: ExactClient,
    conn: Connection,
    division: int,
    mode: str,
    group: list[LedgerRow],
    moment: datetime,
) -> dict[str, verified.Seen]:
    """Read `group`'s entries from Exact and remember what they hold (and, for sales
    invoices, the numbers still unknown)."""
    endpoint = ENTRY_STEPS[mode].endpoint
    key = endpoint.key
    numbered = mode == "sales_invoice"
    found = {
        getattr(record, key): record
        for record in exact.list_any(
            division,
            endpoint,
            key,
            [row.entry_id for row in group if row.entry_id],
            select=f"{key},AmountFC,VATAmountFC" + (",InvoiceNumber" if numbered else ""),
            per_call=verified.READ_PER_CALL,
        )
    }
    seen: dict[str, verified.Seen] = {}
    for row in group:
        assert row.entry_id is not None
        record = found.get(row.entry_id)
        held: Held = (
            (record.AmountFC, record.VATAmountFC, record.InvoiceNumber if numbered else None)
            if record
            else (None, None, None)
        )
        seen[row.billing_id] = _remember(conn, row, *held, mode, moment)
    return seen


def _remember(
    conn: Connection,
    row: LedgerRow,
    total: Decimal | None,
    vat: Decimal | None,
    number: int | None,
    mode: str,
    moment: datetime,
) -> verified.Seen:
    """Store what Exact holds of `row`'s entry (and, for a sales invoice, its number if it is
    still unknown)."""
    assert row.entry_id is not None
    verified.remember(conn, row.billing_id, row.entry_id, total, vat, moment)
    if mode == "sales_invoice" and number and InvoiceNumbers.wanted(row):
        ledger.update(conn, row.billing_id, entry_number=number)
    return verified.Seen(row.billing_id, row.entry_id, total, vat, moment)


def _explanation(row: LedgerRow, held: bool) -> str:
    if not held:
        return "posted, but Exact no longer holds it (deleted there?)"
    if row.synced_hash != row.payload_hash:  # billing's content is not the one posted
        return (
            "billing corrected the document after it was posted: Exact holds the amounts "
            "posted then (flagged changed_after_sync: post a credit note and a corrected "
            "invoice in billing, or correct the entry in Exact, then accept the change)"
        )
    return "Exact's amounts differ from billing's (changed in Exact by hand?)"
