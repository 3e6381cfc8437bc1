"""Is it paid? Billing's answer against Exact's, per document issued in a window.

Exact's answer comes from the document's receivable rows (one read per 60 documents, or per day
for a day with more: `documents/day_read.py`): settled
rows are what was paid, open rows what is outstanding. It is known without a read as far as
the pipeline made it (the document posted, our receipts pushed: `paid_seen`), and read again
only when Exact moved by itself or the document's day is over.
Billing's is the sum of its payments (either source). Amounts are reported in the document's
direction (a refunded credit note shows positive amounts on both sides), as decimal strings.
Only documents in Exact are compared: one that is not there yet has nothing to differ from.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import psycopg

from exact_pipeline.billing.payment_writes import PayableDocument, documents_by_id
from exact_pipeline.exact import ExactClient
from exact_pipeline.exact.currency import to_minor
from exact_pipeline.exact.openitems import PER_CALL, OpenItems, open_items, open_items_where
from exact_pipeline.mapping import Mappings
from exact_pipeline.sync.core.ledger import Connection
from exact_pipeline.sync.core.money import sum_text
from exact_pipeline.sync.core.window import Window
from exact_pipeline.sync.documents import day_read, ledger
from exact_pipeline.sync.documents.ledger import LedgerRow
from exact_pipeline.sync.payments import ledger as payment_ledger
from exact_pipeline.sync.payments import paid_seen
from exact_pipeline.sync.payments.ledger import PaymentRow
from exact_pipeline.sync.payments.push import in_exact
from exact_pipeline.sync.payments.receipts import sign_of


def differences(
    state: Connection,
    billing_url: str,
    exact: ExactClient,
    mappings: Mappings,
    window: Window,
    now: Callable[[], datetime],
) -> list[dict[str, Any]]:
    synced = [
        r
        for r in ledger.documents_issued(state, window.start, window.end)
        if in_exact(r) and r.division is not None
    ]
    if not synced:
        return []
    ids = [r.billing_id for r in synced]
    with psycopg.connect(billing_url) as conn:
        documents = documents_by_id(conn, ids)
    crossings: dict[str, list[PaymentRow]] = defaultdict(list)
    for crossing in payment_ledger.of_documents(state, ids):
        crossings[crossing.document_id or ""].append(crossing)
    known = _as_compared(state, exact, synced, documents, crossings, now(), mappings.settings.zone)
    mode = mappings.settings.payment_sync
    found = []
    for row in synced:
        document = documents.get(row.billing_id)
        if document is None:
            continue
        seen = known[row.billing_id]
        if seen.held and seen.exact_paid == document.paid_amount:
            continue
        currency = document.currency
        more_in_billing = document.paid_amount - seen.exact_paid
        explanation = _explain(more_in_billing, crossings[row.billing_id], mode, not seen.held)
        outstanding = seen.exact_outstanding
        found.append(
            {
                "number": document.number,
                "type": document.type,
                "division": row.division,
                "exact_number": seen.exact_number,
                "currency": document.currency,
                "total": sum_text([document.total_amount], currency),
                "billing_paid": sum_text([document.paid_amount], currency),
                "exact_paid": sum_text([seen.exact_paid], currency),
                "exact_outstanding": None
                if outstanding is None
                else sum_text([outstanding], currency),
                "difference": sum_text([more_in_billing], currency),
                "explanation": explanation,
            }
        )
    return found


def _as_compared(
    state: Connection,
    exact: ExactClient,
    synced: list[LedgerRow],
    documents: dict[str, PayableDocument],
    crossings: dict[str, list[PaymentRow]],
    moment: datetime,
    zone: ZoneInfo,
) -> dict[str, paid_seen.PaidSeen]:
    """What Exact shows for each document billing still has: as last seen plus our receipts
    since, read again only where Exact's side moved by itself (`paid_seen`)."""
    known = paid_seen.seen(state, [row.billing_id for row in synced])
    current: dict[str, paid_seen.PaidSeen] = {}
    expected: dict[str, paid_seen.PaidSeen] = {}
    stale: dict[int, list[LedgerRow]] = defaultdict(list)
    for row in synced:
        document = documents.get(row.billing_id)
        if document is None:
            continue
        pushed, foreign = _crossed(crossings[row.billing_id])
        last = known.get(row.billing_id)
        if last is None or last.entry_id != row.entry_id:
            last = paid_seen.as_posted(row, document.total_amount)
        expected[row.billing_id] = last.with_pushes(pushed)
        if paid_seen.needs_reading(row, last, foreign, moment, zone):
            assert row.division is not None
            stale[row.division].append(row)
        else:
            current[row.billing_id] = expected[row.billing_id]
    for division, rows in stale.items():
        # A day with many documents due is read by its date and confirms what is expected;
        # the rest, and what it does not confirm, are read by document (`day_read`).
        days, rest = day_read.split(rows, PER_CALL)
        for day, group in days.items():
            held = open_items_where(exact, division, day_read.on_day("InvoiceDate", day))
            for row in group:
                seen = _seen(row, documents, held, crossings, moment)
                if _agrees(seen, expected[row.billing_id]):
                    paid_seen.remember(state, seen)
                    current[row.billing_id] = seen
                else:
                    rest.append(row)
        if rest:
            items = open_items(exact, division, [r.entry_id for r in rest if r.entry_id])
            for row in rest:
                seen = _seen(row, documents, items, crossings, moment)
                paid_seen.remember(state, seen)
                current[row.billing_id] = seen
    return current


def _seen(
    row: LedgerRow,
    documents: dict[str, PayableDocument],
    items: dict[UUID, OpenItems],
    crossings: dict[str, list[PaymentRow]],
    moment: datetime,
) -> paid_seen.PaidSeen:
    assert row.entry_id is not None
    crossed = _crossed(crossings[row.billing_id])
    return _read(row.entry_id, documents[row.billing_id], items.get(row.entry_id), crossed, moment)


def _agrees(read: paid_seen.PaidSeen, expected: paid_seen.PaidSeen) -> bool:
    """Whether a day's read shows the document as it was expected to be in Exact."""
    shown = (read.held, read.exact_paid, read.exact_outstanding)
    return read.held and shown == (expected.held, expected.exact_paid, expected.exact_outstanding)


def _crossed(crossings: list[PaymentRow]) -> tuple[int, int]:
    """The sum of the document's receipts this pipeline pushed, and how many other payments
    crossed or met Exact's own doing: imported, reported, reversed, accepted, and pushes that
    failed (the receipt may be there) or were blocked (Exact shows less open than billing
    expects). Those move Exact's side without the pipeline knowing by how much."""
    pushed = sum(c.amount or 0 for c in crossings if c.state == payment_ledger.PUSHED)
    foreign = sum(c.state not in (payment_ledger.WAITING, payment_ledger.PUSHED) for c in crossings)
    return pushed, foreign


def _read(
    entry_id: UUID,
    document: PayableDocument,
    items: OpenItems | None,
    crossed: tuple[int, int],
    moment: datetime,
) -> paid_seen.PaidSeen:
    """Exact's answer for a document, in billing's terms (minor units, document direction)."""
    sign, currency = sign_of(document.type), document.currency
    return paid_seen.PaidSeen(
        billing_id=document.id,
        entry_id=entry_id,
        held=items is not None,
        exact_paid=sign * to_minor(items.paid, currency) if items else 0,
        exact_outstanding=sign * to_minor(items.outstanding, currency) if items else None,
        exact_number=items.number if items else None,
        pushed=crossed[0],
        foreign_crossings=crossed[1],
        read_at=moment,
    )


def _explain(more_in_billing: int, crossings: list[PaymentRow], mode: str, no_item: bool) -> str:
    """Why the two sides differ, from what the payments ledger knows, and what to do."""
    if no_item:
        return (
            "Exact holds no receivable for the document (not booked, or removed in Exact), so "
            "it cannot show payments: check the document in Exact"
        )
    pending = [c for c in crossings if c.state in payment_ledger.PENDING]
    reported = [
        c
        for c in crossings
        if c.state in (payment_ledger.REPORTED, payment_ledger.REVERSED) and c.reason
    ]
    if more_in_billing > 0 and pending:
        return f"{len(pending)} billing payment(s) not in Exact yet: {pending[0].reason}"
    if reported:
        return reported[0].reason or ""
    if more_in_billing > 0:
        return {
            "billing_to_exact": "billing records payments not pushed yet: the next payment "
            "push sends them",
            "exact_to_billing": "billing records payments Exact does not have; with payment_sync "
            "exact_to_billing, payments are registered in Exact and billing's own are not sent: "
            "register them in Exact and remove billing's copy, or switch to billing_to_exact",
        }.get(mode, "payment_sync is none: billing's payments are not sent to Exact")
    if mode == "exact_to_billing":
        return "Exact shows payments billing does not have yet: the next import writes them"
    return (
        f"payments were registered in Exact directly, and with payment_sync {mode} they are not "
        "written into billing: record them in billing, or switch to exact_to_billing"
    )
