"""What the sync engine reads from the billing database.

Every function takes an open psycopg 3 connection and runs a fixed number of set-based queries,
whatever the number of rows: `read_documents` runs four (documents, lines, PDFs, payments), the
others one.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import psycopg

from exact_pipeline.billing.models import (
    BillingDocument,
    Customer,
    DocumentChange,
    DocumentLine,
    DocumentPdf,
    InvoicingEntity,
    Payment,
    Product,
    TaxRate,
)

Connection = psycopg.Connection[Any]
T = TypeVar("T")

# The first columns of _DOCUMENTS, by their BillingDocument field names.
_DOCUMENT_FIELDS = (
    "id",
    "number",
    "type",
    "status",
    "currency",
    "issued_at",
    "due_at",
    "amount_excluding_tax",
    "tax_amount",
    "total_amount",
    "original_invoice_id",
    "original_invoice_number",
    "purchase_order",
    "created_at",
    "updated_at",
)
_ENTITY = slice(len(_DOCUMENT_FIELDS), len(_DOCUMENT_FIELDS) + 5)  # then the entity's columns
_CUSTOMER = slice(_ENTITY.stop, None)  # and the customer's, in their models' field order
_DOCUMENTS = """
SELECT d.id, d.number, d.type, d.status, d.currency, d.issued_at, d.due_at,
       d.amount_excluding_tax, d.tax_amount, d.total_amount, d.original_invoice_id, o.number,
       d.purchase_order, d.created_at, d.updated_at,
       e.id, e.name, e.country, e.currency, e.timezone,
       c.id, c.name, c.email, c.vat_number, c.address_line1, c.address_line2, c.zip, c.city,
       c.country, c.created_at, c.updated_at
FROM invoices d
JOIN invoicing_entities e ON e.id = d.invoicing_entity_id
JOIN customers c ON c.id = d.customer_id
LEFT JOIN invoices o ON o.id = d.original_invoice_id
WHERE d.issued_at >= %(start)s AND d.issued_at < %(end)s AND d.status <> 'draft'
ORDER BY d.issued_at, d.id
"""

_LINES = """
SELECT l.invoice_id, l.id, l.position, p.id, p.name, l.description, l.quantity, l.unit_amount,
       l.amount_excluding_tax, t.id, t.invoicing_entity_id, t.name, t.rate, l.tax_amount
FROM invoice_lines l
JOIN tax_rates t ON t.id = l.tax_rate_id
LEFT JOIN products p ON p.id = l.product_id
WHERE l.invoice_id = ANY (%(ids)s)
ORDER BY l.invoice_id, l.position
"""

_PDFS = "SELECT invoice_id, file_name, content FROM invoice_pdfs WHERE invoice_id = ANY (%(ids)s)"

_PAYMENTS = """
SELECT p.id, p.invoice_id, d.number, d.type, d.invoicing_entity_id, d.customer_id, p.amount,
       p.currency, p.paid_at, p.method, p.source, p.external_id, p.created_at
FROM payments p
JOIN invoices d ON d.id = p.invoice_id
WHERE {where}
ORDER BY p.paid_at, p.id
"""

_CHANGES = """
SELECT id, number, type, status, invoicing_entity_id, issued_at, updated_at
FROM invoices
WHERE status <> 'draft' AND (updated_at, id) > (%(updated_at)s, %(id)s)
ORDER BY updated_at, id
LIMIT %(limit)s
"""


def _check_window(start: datetime, end: datetime) -> dict[str, datetime]:
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("window bounds must be timezone-aware (a partition's day in its zone)")
    if end < start:
        raise ValueError(f"window ends ({end}) before it starts ({start})")
    return {"start": start, "end": end}


def read_documents(conn: Connection, start: datetime, end: datetime) -> list[BillingDocument]:
    """Finalized invoices and credit notes issued in [start, end), ordered by issue time.

    Drafts are left out (they never sync). Voided documents are included, with their status:
    whether a voided document still needs posting (or reversing) is the sync layer's call.
    """
    rows = conn.execute(_DOCUMENTS, _check_window(start, end)).fetchall()
    if not rows:
        return []
    ids = [row[0] for row in rows]
    lines = _lines_by_document(conn, ids)
    pdfs = {
        doc_id: DocumentPdf(file_name, bytes(content))
        for doc_id, file_name, content in conn.execute(_PDFS, {"ids": ids})
    }
    payments: dict[str, list[Payment]] = defaultdict(list)
    for payment in _payments(conn, "p.invoice_id = ANY (%(ids)s)", {"ids": ids}):
        payments[payment.invoice_id].append(payment)

    entities: dict[str, InvoicingEntity] = {}
    customers: dict[str, Customer] = {}
    documents = []
    for row in rows:
        doc_id, entity_row, customer_row = row[0], row[_ENTITY], row[_CUSTOMER]
        # One object per entity and customer, however many documents share it.
        entity = entities.get(entity_row[0]) or entities.setdefault(
            entity_row[0], InvoicingEntity(*entity_row)
        )
        customer = customers.get(customer_row[0]) or customers.setdefault(
            customer_row[0], Customer(*customer_row)
        )
        documents.append(
            BillingDocument(
                **dict(zip(_DOCUMENT_FIELDS, row, strict=False)),
                entity=entity,
                customer=customer,
                lines=tuple(lines.get(doc_id, ())),
                pdf=pdfs.get(doc_id),
                payments=tuple(payments.get(doc_id, ())),
            )
        )
    return documents


def _lines_by_document(conn: Connection, ids: list[str]) -> dict[str, list[DocumentLine]]:
    products: dict[str, Product] = {}
    tax_rates: dict[str, TaxRate] = {}
    lines: dict[str, list[DocumentLine]] = defaultdict(list)
    for row in conn.execute(_LINES, {"ids": ids}):
        product = None
        if row[3] is not None:
            product = products.get(row[3]) or products.setdefault(row[3], Product(*row[3:5]))
        tax_rate = tax_rates.get(row[9]) or tax_rates.setdefault(row[9], TaxRate(*row[9:13]))
        lines[row[0]].append(
            DocumentLine(
                id=row[1],
                position=row[2],
                product=product,
                description=row[5],
                quantity=row[6],
                unit_amount=row[7],
                amount_excluding_tax=row[8],
                tax_rate=tax_rate,
                tax_amount=row[13],
            )
        )
    return lines


def _payments(conn: Connection, where: str, params: dict[str, Any]) -> list[Payment]:
    return [Payment(*row) for row in conn.execute(_PAYMENTS.format(where=where), params)]  # type: ignore[arg-type]


def read_payments(conn: Connection, start: datetime, end: datetime) -> list[Payment]:
    """Payments whose `paid_at` is in [start, end), from either source, ordered by `paid_at`.

    Each carries its document's number, type, entity and customer; a payment on a credit note
    is a refund. The sync layer picks the source it pushes or skips.
    """
    return _payments(
        conn, "p.paid_at >= %(start)s AND p.paid_at < %(end)s", _check_window(start, end)
    )


@dataclass(frozen=True, slots=True, order=True)
class ChangeMark:
    """A high-water mark over changes to finalized documents: (updated_at, id), in that order.

    `str(mark)` gives the form a Dagster sensor cursor holds; `ChangeMark.parse` reads it back.
    """

    updated_at: datetime
    id: str

    def __str__(self) -> str:
        return f"{self.updated_at.astimezone(UTC).isoformat(timespec='microseconds')}|{self.id}"

    @classmethod
    def parse(cls, text: str) -> ChangeMark:
        stamp, _, doc_id = text.partition("|")
        updated_at = datetime.fromisoformat(stamp)
        if updated_at.tzinfo is None or not doc_id:
            raise ValueError(f"not a change mark: {text!r}")
        return cls(updated_at, doc_id)


@dataclass(frozen=True, slots=True)
class ChangeBatch:
    changes: list[DocumentChange]  # in (updated_at, id) order
    mark: ChangeMark | None  # after the last change; the mark passed in when there is none


def change_head(conn: Connection) -> ChangeMark | None:
    """The latest change to a finalized document; None while there is none."""
    row = conn.execute(
        "SELECT updated_at, id FROM invoices WHERE status <> 'draft'"
        " ORDER BY updated_at DESC, id DESC LIMIT 1"
    ).fetchone()
    return ChangeMark(*row) if row else None


def changes_since(
    conn: Connection, mark: ChangeMark | str | None, limit: int = 1000
) -> ChangeBatch:
    """Finalized documents changed after `mark` (all of them for None), at most `limit`.

    `updated_at` is set in the writer's transaction, so a transaction that commits after a later
    one can land behind the mark: the hourly schedule, not the sensor, is the safety net for that.
    """
    if isinstance(mark, str):
        mark = ChangeMark.parse(mark)
    after = mark or ChangeMark(datetime.min.replace(tzinfo=UTC), "")
    rows = conn.execute(
        _CHANGES, {"updated_at": after.updated_at, "id": after.id, "limit": limit}
    ).fetchall()
    changes = [DocumentChange(*row) for row in rows]
    last = changes[-1] if changes else None
    return ChangeBatch(changes, ChangeMark(last.updated_at, last.id) if last else mark)


def read_entities(conn: Connection) -> list[InvoicingEntity]:
    return _all(
        conn,
        InvoicingEntity,
        "SELECT id, name, country, currency, timezone FROM invoicing_entities",
    )


def read_tax_rates(conn: Connection) -> list[TaxRate]:
    return _all(conn, TaxRate, "SELECT id, invoicing_entity_id, name, rate FROM tax_rates")


def read_products(conn: Connection) -> list[Product]:
    return _all(conn, Product, "SELECT id, name FROM products")


def _all(conn: Connection, model: type[T], query: str) -> list[T]:
    return [model(*row) for row in conn.execute(f"{query} ORDER BY id")]  # type: ignore[arg-type]
