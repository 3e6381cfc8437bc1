"""Hand-built billing rows for the sync tests: the demo's entities, tax rates and products,
plus exactly the customers and documents a test names (amounts computed the billing way)."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import psycopg

from exact_pipeline.billing.amounts import line_amounts
from exact_pipeline.billing.database import apply_schema
from exact_pipeline.billing.models import (
    BillingDocument,
    Customer,
    DocumentLine,
    DocumentPdf,
    DocumentStatus,
)
from exact_pipeline.billing.write import write_customers, write_documents, write_reference_data
from exact_pipeline.demo.documents import reference_data
from exact_pipeline.sync.core.window import Window

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
DAY = date(2026, 11, 20)


def day_window(day: date = DAY, days: int = 1) -> Window:
    start = datetime.combine(day, datetime.min.time(), AMSTERDAM)
    return Window(start, start + timedelta(days=days))


def pdf_bytes(number: str) -> bytes:
    """A small file that passes billing's %PDF- check and differs per document."""
    return f"%PDF-1.4\n% {number}\n".encode() + bytes(range(256)) + number.encode()


class Billing:
    """A billing database for one test; documents are written as they are built."""

    def __init__(self, url: str) -> None:
        self.url = url
        apply_schema(url)
        reference = reference_data()
        self.entities = {e.id: e for e in reference.entities}
        self.tax_rates = {t.id: t for t in reference.tax_rates}
        self.products = {p.id: p for p in reference.products}
        self._ids = itertools.count(1)
        with psycopg.connect(url) as conn:
            write_reference_data(conn, reference)

    def customer(
        self,
        customer_id: str,
        name: str,
        *,
        email: str | None = None,
        vat_number: str | None = None,
        country: str = "NL",
    ) -> Customer:
        created = datetime(2026, 1, 1, tzinfo=UTC)
        customer = Customer(
            customer_id,
            name,
            email,
            vat_number,
            "Keizersgracht 1",
            None,
            "1015 AA",
            "Amsterdam",
            country,
            created,
            created,
        )
        with psycopg.connect(self.url) as conn:
            write_customers(conn, [customer])
        return customer

    def document(
        self,
        number: str,
        customer: Customer,
        lines: list[tuple[str | None, str | Decimal, int | Decimal, str]],
        *,
        entity: str = "ent_nl",
        issued: datetime | None = None,
        status: DocumentStatus = "to_pay",
        original: BillingDocument | None = None,
        descriptions: list[str] | None = None,
        with_pdf: bool = True,
        purchase_order: str | None = None,
        currency: str = "EUR",
    ) -> BillingDocument:
        """`lines`: (product id, quantity, unit amount in minor units, tax rate id)."""
        issued = issued or datetime.combine(DAY, datetime.min.time(), AMSTERDAM) + timedelta(
            hours=10, minutes=next(self._ids)
        )
        doc_id = f"doc_{number.lower()}"
        built = []
        for position, (product_id, quantity, unit, tax_rate_id) in enumerate(lines, start=1):
            rate = self.tax_rates[tax_rate_id]
            amount, tax = line_amounts(Decimal(quantity), Decimal(unit), rate.rate)
            product = self.products[product_id] if product_id else None
            text = (
                descriptions[position - 1]
                if descriptions
                else (product.name if product else "Adjustment")
            )
            built.append(
                DocumentLine(
                    f"{doc_id}_l{position}",
                    position,
                    product,
                    text,
                    Decimal(quantity),
                    Decimal(unit),
                    amount,
                    rate,
                    tax,
                )
            )
        excl = sum(line.amount_excluding_tax for line in built)
        tax = sum(line.tax_amount for line in built)
        document = BillingDocument(
            id=doc_id,
            number=number,
            type="credit_note" if original else "invoice",
            status=status,
            entity=self.entities[entity],
            customer=customer,
            currency=currency,
            issued_at=issued,
            due_at=issued + timedelta(days=14),
            amount_excluding_tax=excl,
            tax_amount=tax,
            total_amount=excl + tax,
            original_invoice_id=original.id if original else None,
            original_invoice_number=original.number if original else None,
            purchase_order=purchase_order,
            created_at=issued,
            updated_at=issued,
            lines=tuple(built),
            pdf=DocumentPdf(f"{number}.pdf", pdf_bytes(number)) if with_pdf else None,
            payments=(),
        )
        with psycopg.connect(self.url) as conn:
            write_documents(conn, [document])
        return document

    def execute(self, statement: str, *params: Any) -> None:
        with psycopg.connect(self.url) as conn:
            conn.execute(statement, params)  # type: ignore[arg-type]

    def void(self, document: BillingDocument) -> BillingDocument:
        self.execute("UPDATE invoices SET status = 'voided' WHERE id = %s", document.id)
        return replace(document, status="voided")
