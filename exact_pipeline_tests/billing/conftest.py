"""A billing database with the catalogue's reference data, and documents built by hand."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg
import pytest

from exact_pipeline.billing.amounts import line_amounts
from exact_pipeline.billing.database import apply_schema
from exact_pipeline.billing.models import (
    BillingDocument,
    Customer,
    DocumentLine,
    DocumentPdf,
    DocumentStatus,
    DocumentType,
    Payment,
    ReferenceData,
    TaxRate,
)
from exact_pipeline.billing.write import write_customers, write_reference_data
from exact_pipeline.demo.documents import reference_data

REFERENCE: ReferenceData = reference_data()
ENTITIES = {e.id: e for e in REFERENCE.entities}
TAX_RATES = {t.id: t for t in REFERENCE.tax_rates}
PRODUCTS = {p.id: p for p in REFERENCE.products}
CREATED = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

CUSTOMERS = {
    c.id: c
    for c in (
        Customer(
            "cus_a",
            "Zeeën & Ærø B.V. (test)",
            "a@example.nl",
            "NL000000001B01",
            "Straße 1",
            None,
            "1011 AB",
            "Amsterdam",
            "NL",
            CREATED,
            CREATED,
        ),
        Customer(
            "cus_b", "Bruxelles SA", None, None, None, None, None, None, "BE", CREATED, CREATED
        ),
    )
}

Line = tuple[str | None, str, str, str]  # product id, quantity, unit amount, tax rate id


def make_document(
    doc_id: str,
    issued_at: datetime,
    lines: Sequence[Line] = (("prod_team", "1", "9900", "tax_nl_21"),),
    *,
    customer: str = "cus_a",
    entity: str = "ent_nl",
    type: DocumentType = "invoice",
    status: DocumentStatus = "to_pay",
    original: BillingDocument | None = None,
    paid: Sequence[tuple[int, datetime]] = (),
    updated_at: datetime | None = None,
    pdf: bytes | None = None,
) -> BillingDocument:
    """A document whose totals are its lines' sums (the billing system's rounding)."""
    priced = []
    for position, (product_id, quantity, unit, rate_id) in enumerate(lines, start=1):
        rate: TaxRate = TAX_RATES[rate_id]
        amount, tax = line_amounts(Decimal(quantity), Decimal(unit), rate.rate)
        product = PRODUCTS[product_id] if product_id else None
        description = product.name if product else "Manual adjustment"
        priced.append(
            DocumentLine(
                f"{doc_id}-{position}",
                position,
                product,
                description,
                Decimal(quantity),
                Decimal(unit),
                amount,
                rate,
                tax,
            )
        )
    amount = sum(line.amount_excluding_tax for line in priced)
    tax = sum(line.tax_amount for line in priced)
    number = doc_id.upper()
    payments = tuple(
        Payment(
            f"pay_{doc_id}_{i}",
            doc_id,
            number,
            type,
            entity,
            customer,
            paid_amount,
            "EUR",
            paid_at,
            "bank_transfer",
            "billing",
            None,
            paid_at,
        )
        for i, (paid_amount, paid_at) in enumerate(paid)
    )
    return BillingDocument(
        id=doc_id,
        number=number,
        type=type,
        status=status,
        entity=ENTITIES[entity],
        customer=CUSTOMERS[customer],
        currency="EUR",
        issued_at=issued_at,
        due_at=issued_at + timedelta(days=14),
        amount_excluding_tax=amount,
        tax_amount=tax,
        total_amount=amount + tax,
        original_invoice_id=original.id if original else None,
        original_invoice_number=original.number if original else None,
        purchase_order=None,
        created_at=issued_at,
        updated_at=updated_at or issued_at,
        lines=tuple(priced),
        pdf=DocumentPdf(f"{number}.pdf", pdf) if pdf else None,
        payments=payments,
    )


@pytest.fixture(scope="module")
def billing_url(make_database: Callable[[str], str], request: pytest.FixtureRequest) -> str:
    """A fresh billing database per test module: schema, catalogue reference data, customers."""
    url = make_database(f"billing_{request.module.__name__.rsplit('.', 1)[-1]}")
    apply_schema(url)
    with psycopg.connect(url) as conn:
        write_reference_data(conn, REFERENCE)
        write_customers(conn, list(CUSTOMERS.values()))
    return url


@pytest.fixture
def conn(billing_url: str) -> Iterator[psycopg.Connection[Any]]:
    """A connection whose work is rolled back after the test, leaving the module's data."""
    with psycopg.connect(billing_url) as connection:
        yield connection
        connection.rollback()
