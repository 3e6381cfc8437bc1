"""Payments written back into billing (payment_sync `exact_to_billing`), and what that needs to
know about the documents they pay.

A payment from Exact is stored once: `external_id` carries Exact's id (UNIQUE), so a replayed
import inserts nothing. In the same transaction the document's status follows its payments
(`paid` once they cover the total, else `partially_paid`). That status change moves the
document's `updated_at` (the schema's trigger), so the billing-change sensor sees it; this is
harmless: the synced payload's hash leaves status and payments out, so the document stays
synced and no call is made for it.

A payment that would take the document's paid amount past its total is NOT written: billing
already holds that money (typically the same payment recorded on both sides), and a person
decides.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import psycopg

from exact_pipeline.billing.models import DocumentStatus, DocumentType

Connection = psycopg.Connection[Any]

# Statuses that follow the payments; drafts and voided documents keep theirs.
_PAYABLE = ("to_pay", "partially_paid", "paid")

Recorded = Literal["recorded", "already_recorded", "exceeds_total"]


@dataclass(frozen=True, slots=True)
class PayableDocument:
    """What writing a payment back needs to know about its document."""

    id: str
    number: str
    type: DocumentType
    status: DocumentStatus
    currency: str
    total_amount: int  # minor units, positive (credit notes too)
    paid_amount: int  # minor units, from either source


@dataclass(frozen=True, slots=True)
class ExactPayment:
    """A payment registered in Exact, in billing's terms (amount positive, minor units)."""

    id: str
    external_id: str  # Exact's id of the settled item
    invoice_id: str
    amount: int
    currency: str
    paid_at: datetime
    method: str


@dataclass(frozen=True, slots=True)
class RecordResult:
    outcome: Recorded
    document: PayableDocument  # as it stands after the write (status, paid amount)


_DOCUMENTS = """
SELECT d.id, d.number, d.type, d.status, d.currency, d.total_amount,
       coalesce((SELECT sum(p.amount) FROM payments p WHERE p.invoice_id = d.id), 0)::bigint
FROM invoices d
WHERE {where}
"""


def _documents(conn: Connection, where: str, params: dict[str, Any]) -> list[PayableDocument]:
    query = _DOCUMENTS.format(where=where)
    return [PayableDocument(*row) for row in conn.execute(query, params)]  # type: ignore[arg-type]


def documents_by_number(conn: Connection, numbers: Sequence[str]) -> dict[str, PayableDocument]:
    """Finalized documents with these numbers (the `YourRef` Exact echoes back)."""
    found = _documents(
        conn, "d.number = ANY (%(numbers)s) AND d.status <> 'draft'", {"numbers": list(numbers)}
    )
    return {document.number: document for document in found}


def documents_by_id(conn: Connection, ids: Sequence[str]) -> dict[str, PayableDocument]:
    found = _documents(conn, "d.id = ANY (%(ids)s)", {"ids": list(ids)})
    return {document.id: document for document in found}


def status_for(paid: int, total: int, current: DocumentStatus) -> DocumentStatus:
    """The status a document's payments give it; drafts and voided documents keep theirs."""
    if current not in _PAYABLE:
        return current
    if paid >= total:
        return "paid"
    return "partially_paid" if paid > 0 else "to_pay"


def record_exact_payment(conn: Connection, payment: ExactPayment) -> RecordResult:
    """Insert the payment (source `exact_online`) unless its `external_id` is already there or
    it would pay the document past its total; then set the document's status. One transaction,
    with the document row locked, so concurrent imports cannot both squeeze under the total."""
    with conn.transaction():
        conn.execute("SELECT 1 FROM invoices WHERE id = %s FOR UPDATE", (payment.invoice_id,))
        document = documents_by_id(conn, [payment.invoice_id])[payment.invoice_id]
        known = conn.execute(
            "SELECT 1 FROM payments WHERE external_id = %s", (payment.external_id,)
        ).fetchone()
        if known:
            return RecordResult("already_recorded", document)
        if document.paid_amount + payment.amount > document.total_amount:
            return RecordResult("exceeds_total", document)
        inserted = conn.execute(
            "INSERT INTO payments (id, invoice_id, amount, currency, paid_at, method, source,"
            " external_id) VALUES (%s, %s, %s, %s, %s, %s, 'exact_online', %s)"
            " ON CONFLICT (external_id) DO NOTHING",
            (
                payment.id,
                payment.invoice_id,
                payment.amount,
                payment.currency,
                payment.paid_at,
                payment.method,
                payment.external_id,
            ),
        ).rowcount
        if not inserted:  # a concurrent import won the race
            return RecordResult("already_recorded", document)
        paid = document.paid_amount + payment.amount
        status = status_for(paid, document.total_amount, document.status)
        if status != document.status:
            conn.execute("UPDATE invoices SET status = %s WHERE id = %s", (status, document.id))
    after = PayableDocument(
        document.id,
        document.number,
        document.type,
        status,
        document.currency,
        document.total_amount,
        paid,
    )
    return RecordResult("recorded", after)
