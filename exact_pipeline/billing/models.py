"""Typed rows of the billing database, as the sync engine sees them.

Amounts are integers in minor units (cents); quantities, unit amounts and rates are Decimals.
Credit notes carry positive amounts: `type` (or `sign`) gives the direction.

Treat every record as read-only. The per-document ones (documents, lines, payments) are plain
slotted dataclasses rather than frozen ones only because a frozen dataclass costs five times as
much to build, and a backfill or the demo seed builds hundreds of thousands of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

DocumentType = Literal["invoice", "credit_note"]
DocumentStatus = Literal["draft", "to_pay", "partially_paid", "paid", "voided"]
PaymentSource = Literal["billing", "exact_online"]


@dataclass(frozen=True, slots=True)
class InvoicingEntity:
    id: str
    name: str
    country: str  # ISO 3166-1 alpha-2
    currency: str  # ISO 4217
    timezone: str  # IANA name, e.g. Europe/Amsterdam


@dataclass(frozen=True, slots=True)
class TaxRate:
    id: str
    invoicing_entity_id: str
    name: str
    rate: Decimal  # percent, e.g. Decimal("21")


@dataclass(frozen=True, slots=True)
class Product:
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class ReferenceData:
    """What documents refer to and mapping tables map: entities, tax rates, products."""

    entities: list[InvoicingEntity]
    tax_rates: list[TaxRate]
    products: list[Product]


@dataclass(frozen=True, slots=True)
class Customer:
    id: str
    name: str
    email: str | None
    vat_number: str | None
    address_line1: str | None
    address_line2: str | None
    zip: str | None
    city: str | None
    country: str
    created_at: datetime
    updated_at: datetime


@dataclass(slots=True)
class DocumentLine:
    id: str
    position: int
    product: Product | None  # None: a free line, e.g. a manual adjustment
    description: str
    quantity: Decimal
    unit_amount: Decimal  # minor units excluding tax; may hold fractions of a cent
    amount_excluding_tax: int
    tax_rate: TaxRate
    tax_amount: int
    # The service period billed, both days included (None: not given, or a billing database
    # without the columns).
    period_start: date | None = None
    period_end: date | None = None


@dataclass(frozen=True, slots=True)
class DocumentPdf:
    file_name: str
    content: bytes


@dataclass(slots=True)
class Payment:
    """Money received for an invoice, or refunded for a credit note (see `document_type`)."""

    id: str
    invoice_id: str
    invoice_number: str
    document_type: DocumentType
    invoicing_entity_id: str
    customer_id: str
    amount: int
    currency: str
    paid_at: datetime
    method: str
    source: PaymentSource
    external_id: str | None  # Exact's id for payments written back from Exact
    created_at: datetime


class Signed:
    """An invoice (+1) or a credit note (-1), from its `type`."""

    __slots__ = ()
    type: DocumentType

    @property
    def is_credit_note(self) -> bool:
        return self.type == "credit_note"

    @property
    def sign(self) -> int:
        """+1 for an invoice, -1 for a credit note: multiply stored amounts to get the ledger's."""
        return -1 if self.is_credit_note else 1


@dataclass(slots=True)
class BillingDocument(Signed):
    """An invoice or a credit note, with everything needed to post it."""

    id: str
    number: str
    type: DocumentType
    status: DocumentStatus
    entity: InvoicingEntity
    customer: Customer
    currency: str
    issued_at: datetime
    due_at: datetime | None
    amount_excluding_tax: int
    tax_amount: int
    total_amount: int
    original_invoice_id: str | None  # credit notes: the invoice they correct
    original_invoice_number: str | None
    purchase_order: str | None
    created_at: datetime
    updated_at: datetime
    lines: tuple[DocumentLine, ...]  # ordered by position
    pdf: DocumentPdf | None  # None: the billing system holds no PDF for it
    payments: tuple[Payment, ...]  # ordered by paid_at

    @property
    def line_keys(self) -> tuple[tuple[int, str | None, str], ...]:
        """(position, product id, tax rate id) of each line, in order: what its codes are mapped
        from."""
        return tuple(
            (line.position, line.product.id if line.product else None, line.tax_rate.id)
            for line in self.lines
        )

    @property
    def line_structure(self) -> tuple[tuple[int, str | None, str], ...]:
        """What a verdict on its line codes is remembered by (`line_keys`)."""
        return self.line_keys

    @property
    def line_count(self) -> int:
        return len(self.lines)

    @property
    def pdf_size(self) -> int | None:
        """The PDF's size in bytes; None without a PDF."""
        return len(self.pdf.content) if self.pdf else None

    @property
    def pdf_name(self) -> str | None:
        """The PDF's file name; None without a PDF."""
        return self.pdf.file_name if self.pdf else None

    @property
    def paid_amount(self) -> int:
        return sum(p.amount for p in self.payments)


@dataclass(frozen=True, slots=True)
class DocumentChange:
    """A finalized document that changed: what the sensor needs to pick its partition."""

    id: str
    number: str
    type: DocumentType
    status: DocumentStatus
    invoicing_entity_id: str
    issued_at: datetime
    updated_at: datetime
