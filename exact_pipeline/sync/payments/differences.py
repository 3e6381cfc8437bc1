"""Is it paid? Billing's answer against Exact's, per document issued in a window.

Exact's answer comes from the document's receivable rows (one read per 20 documents): settled
rows are what was paid, open rows what is outstanding. Billing's is the sum of its payments
(either source). Amounts are reported in the document's direction (a refunded credit note
shows positive amounts on both sides), as decimal strings. Only documents in Exact are compared:
one that is not there yet has nothing to differ from.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any
from uuid import UUID

import psycopg

from exact_pipeline.billing.payment_writes import documents_by_id
from exact_pipeline.exact import ExactClient
from exact_pipeline.exact.currency import to_minor
from exact_pipeline.exact.openitems import OpenItems, open_items
from exact_pipeline.mapping import Mappings
from exact_pipeline.sync.core.ledger import Connection
from exact_pipeline.sync.core.money import sum_text
from exact_pipeline.sync.core.window import Window
from exact_pipeline.sync.documents import ledger
from exact_pipeline.sync.documents.ledger import LedgerRow
from exact_pipeline.sync.payments import ledger as payment_ledger
from exact_pipeline.sync.payments.ledger import PaymentRow
from exact_pipeline.sync.payments.push import in_exact
from exact_pipeline.sync.payments.receipts import sign_of


def differences(
    state: Connection,
    billing_url: str,
    exact: ExactClient,
    mappings: Mappings,
    window: Window,
) -> list[dict[str, Any]]:
    synced = [
        r
        for r in ledger.documents_issued(state, window.start, window.end)
        if in_exact(r) and r.division is not None
    ]
    if not synced:
        return []
    by_division: dict[int, list[LedgerRow]] = defaultdict(list)
    for row in synced:
        assert row.division is not None
        by_division[row.division].append(row)
    items: dict[UUID, OpenItems] = {}
    for division, rows in by_division.items():
        items |= open_items(exact, division, [r.entry_id for r in rows if r.entry_id])
    ids = [r.billing_id for r in synced]
    with psycopg.connect(billing_url) as conn:
        documents = documents_by_id(conn, ids)
    crossings: dict[str, list[PaymentRow]] = defaultdict(list)
    for crossing in payment_ledger.of_documents(state, ids):
        crossings[crossing.document_id or ""].append(crossing)
    mode = mappings.settings.payment_sync
    found = []
    for row in synced:
        document = documents.get(row.billing_id)
        document_items = items.get(row.entry_id)
        if document is None:
            continue
        sign, currency = sign_of(document.type), document.currency
        exact_paid = sign * to_minor(document_items.paid, currency) if document_items else 0
        if document_items is not None and exact_paid == document.paid_amount:
            continue
        more_in_billing = document.paid_amount - exact_paid
        explanation = _explain(
            more_in_billing, crossings[row.billing_id], mode, document_items is None
        )
        outstanding = (
            sign * to_minor(document_items.outstanding, currency) if document_items else None
        )
        found.append(
            {
                "number": document.number,
                "type": document.type,
                "division": row.division,
                "exact_number": document_items.number if document_items else None,
                "currency": document.currency,
                "total": sum_text([document.total_amount], currency),
                "billing_paid": sum_text([document.paid_amount], currency),
                "exact_paid": sum_text([exact_paid], currency),
                "exact_outstanding": None
                if outstanding is None
                else sum_text([outstanding], currency),
                "difference": sum_text([more_in_billing], currency),
                "explanation": explanation,
            }
        )
    return found


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
