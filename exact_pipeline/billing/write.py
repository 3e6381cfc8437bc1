"""Writing typed rows into the billing database with COPY (the demo seed, and test fixtures)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import psycopg

from exact_pipeline.billing.database import copy_rows
from exact_pipeline.billing.models import (
    BillingDocument,
    Customer,
    DocumentPdf,
    ReferenceData,
)

Connection = psycopg.Connection[Any]

_INVOICE_COLUMNS = (
    "id",
    "number",
    "type",
    "status",
    "customer_id",
    "invoicing_entity_id",
    "currency",
    "issued_at",
    "due_at",
    "amount_excluding_tax",
    "tax_amount",
    "total_amount",
    "original_invoice_id",
    "purchase_order",
    "created_at",
    "updated_at",
)
_LINE_COLUMNS = (
    "id",
    "invoice_id",
    "position",
    "product_id",
    "description",
    "quantity",
    "unit_amount",
    "amount_excluding_tax",
    "tax_rate_id",
    "tax_amount",
    "period_start",
    "period_end",
)
_PAYMENT_COLUMNS = (
    "id",
    "invoice_id",
    "amount",
    "currency",
    "paid_at",
    "method",
    "source",
    "external_id",
    "created_at",
)
_CUSTOMER_COLUMNS = (
    "id",
    "name",
    "email",
    "vat_number",
    "address_line1",
    "address_line2",
    "zip",
    "city",
    "country",
    "created_at",
    "updated_at",
)


def write_reference_data(conn: Connection, reference: ReferenceData) -> None:
    copy_rows(
        conn,
        "invoicing_entities",
        ("id", "name", "country", "currency", "timezone"),
        ((e.id, e.name, e.country, e.currency, e.timezone) for e in reference.entities),
    )
    copy_rows(
        conn,
        "tax_rates",
        ("id", "invoicing_entity_id", "name", "rate"),
        ((t.id, t.invoicing_entity_id, t.name, t.rate) for t in reference.tax_rates),
    )
    copy_rows(conn, "products", ("id", "name"), ((p.id, p.name) for p in reference.products))


def write_customers(conn: Connection, customers: Sequence[Customer]) -> None:
    copy_rows(
        conn,
        "customers",
        _CUSTOMER_COLUMNS,
        (tuple(getattr(c, column) for column in _CUSTOMER_COLUMNS) for c in customers),
    )


def write_documents(
    conn: Connection,
    documents: Sequence[BillingDocument],
    pdfs: Iterable[tuple[str, DocumentPdf]] | None = None,
) -> None:
    """Documents with their lines, PDFs and payments. `pdfs`: (document id, PDF) pairs to store
    instead of the documents' own, e.g. rendered while the rows stream."""
    copy_rows(
        conn,
        "invoices",
        _INVOICE_COLUMNS,
        (
            (
                d.id,
                d.number,
                d.type,
                d.status,
                d.customer.id,
                d.entity.id,
                d.currency,
                d.issued_at,
                d.due_at,
                d.amount_excluding_tax,
                d.tax_amount,
                d.total_amount,
                d.original_invoice_id,
                d.purchase_order,
                d.created_at,
                d.updated_at,
            )
            for d in documents
        ),
    )
    copy_rows(
        conn,
        "invoice_lines",
        _LINE_COLUMNS,
        (
            (
                line.id,
                d.id,
                line.position,
                line.product.id if line.product else None,
                line.description,
                line.quantity,
                line.unit_amount,
                line.amount_excluding_tax,
                line.tax_rate.id,
                line.tax_amount,
                line.period_start,
                line.period_end,
            )
            for d in documents
            for line in d.lines
        ),
    )
    copy_rows(
        conn,
        "invoice_pdfs",
        ("invoice_id", "file_name", "content"),
        (
            (doc_id, pdf.file_name, pdf.content)
            for doc_id, pdf in (
                ((d.id, d.pdf) for d in documents if d.pdf) if pdfs is None else pdfs
            )
        ),
        binary_types=("text", "text", "bytea"),
    )
    copy_rows(
        conn,
        "payments",
        _PAYMENT_COLUMNS,
        (
            tuple(getattr(p, column) for column in _PAYMENT_COLUMNS)
            for d in documents
            for p in d.payments
        ),
    )
