"""The bodies POSTed to Exact, as validated models (field names as on the wire): the strict
write side of `models`, which is lenient for reading.

Validation is the last guard before a write: amounts are Decimals in whole minor units of the
document's currency (never floats; two decimals for EUR, none for JPY), texts fit Exact's
limits (see `fields`), a sales entry's header VAT is the sum of its lines' VAT, and a credit
note is negative. `body()` gives what `ExactClient.create` sends (None fields left out, so
Exact's own defaults apply).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from exact_pipeline.exact.codes import CREDIT_NOTE_TYPE, SALES_DOCUMENT_TYPE
from exact_pipeline.exact.currency import to_minor
from exact_pipeline.exact.fields import limit

# Four decimals: ISO 4217's largest minor unit; each payload checks its own currency's.
Money = Annotated[Decimal, Field(decimal_places=4)]


def _text(entity: str, field: str) -> Any:
    return Field(min_length=1, max_length=limit(entity, field))


def _code(entity: str, field: str) -> Any:
    return Field(None, min_length=1, max_length=limit(entity, field))


def _check_period(start: date | None, end: date | None) -> None:
    if start is not None and end is not None and end < start:
        raise ValueError(f"a line's service period ends ({end}) before it starts ({start})")


def _whole_minor_units(currency: str, amounts: Iterable[Decimal]) -> None:
    for amount in amounts:
        to_minor(amount, currency)  # ValueError naming the amount and the currency


class Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def body(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class DocumentPayload(Payload):
    """documents/Documents: the container of our PDF."""

    Subject: str = _text("Documents", "Subject")
    Type: int = SALES_DOCUMENT_TYPE
    Account: UUID
    DocumentDate: date
    Currency: str
    AmountFC: Money

    @model_validator(mode="after")
    def _amount_fits_the_currency(self) -> DocumentPayload:
        _whole_minor_units(self.Currency, [self.AmountFC])
        return self


class AttachmentPayload(Payload):
    """documents/DocumentAttachments: the PDF itself, base64-encoded."""

    Document: UUID
    FileName: str = _text("DocumentAttachments", "FileName")
    Attachment: str


class SalesEntryLinePayload(Payload):
    GLAccount: UUID
    AmountFC: Money  # excluding VAT
    VATCode: str
    VATAmountFC: Money  # billing's own VAT: Exact does not recompute it
    Description: str = _text("SalesEntryLines", "Description")
    Quantity: Decimal
    CostCenter: str | None = _code("SalesEntryLines", "CostCenter")  # hrm/Costcenters code
    CostUnit: str | None = _code("SalesEntryLines", "CostUnit")  # hrm/Costunits code
    # The service period, both days included: Exact spreads the revenue over it.
    From: date | None = None
    To: date | None = None

    @model_validator(mode="after")
    def _period_in_order(self) -> SalesEntryLinePayload:
        _check_period(self.From, self.To)
        return self


class SalesEntryPayload(Payload):
    Customer: UUID
    Journal: str
    EntryDate: date
    YourRef: str = _text("SalesEntries", "YourRef")
    Description: str = _text("SalesEntries", "Description")
    Currency: str
    PaymentCondition: str | None = None
    DueDate: date | None = None
    Document: UUID | None = None
    VATAmountFC: Money
    # The financial period booked in, sent only when it is not EntryDate's: a document dated
    # in a closed period, moved to the first open one (sync/documents/periods.py).
    ReportingYear: int | None = None
    ReportingPeriod: int | None = Field(None, ge=1, le=13)
    # No Remarks: Exact documents none on SalesEntries and answers 400 to it; a credit note's
    # reference to the invoice it corrects is in its Description (see transform).
    SalesEntryLines: list[SalesEntryLinePayload] = Field(min_length=1)

    @model_validator(mode="after")
    def _header_vat_is_the_lines_vat(self) -> SalesEntryPayload:
        amounts = [(line.AmountFC, line.VATAmountFC) for line in self.SalesEntryLines]
        _whole_minor_units(self.Currency, [amount for pair in amounts for amount in pair])
        lines_vat = sum((line.VATAmountFC for line in self.SalesEntryLines), Decimal(0))
        if lines_vat != self.VATAmountFC:
            raise ValueError(f"header VAT {self.VATAmountFC} is not the lines' {lines_vat}")
        return self


class SalesInvoiceLinePayload(Payload):
    Item: UUID
    GLAccount: UUID
    VATCode: str
    Quantity: Decimal
    UnitPrice: Decimal  # Quantity × UnitPrice is the line amount exactly (see transform)
    VATAmountFC: Money
    Description: str = _text("SalesInvoiceLines", "Description")
    Notes: str | None = None
    CostCenter: str | None = _code("SalesInvoiceLines", "CostCenter")
    CostUnit: str | None = _code("SalesInvoiceLines", "CostUnit")
    # The service period, both days included (a sales invoice line's names for From/To).
    StartTime: date | None = None
    EndTime: date | None = None

    @model_validator(mode="after")
    def _period_in_order(self) -> SalesInvoiceLinePayload:
        _check_period(self.StartTime, self.EndTime)
        return self


class SalesInvoicePayload(Payload):
    OrderedBy: UUID
    Journal: str
    Type: Literal[8020, 8021]
    YourRef: str = _text("SalesInvoices", "YourRef")
    Description: str = _text("SalesInvoices", "Description")
    Currency: str
    OrderDate: date
    DueDate: date | None = None
    PaymentCondition: str | None = None
    Document: UUID | None = None
    Remarks: str | None = None
    SalesInvoiceLines: list[SalesInvoiceLinePayload] = Field(min_length=1)

    @model_validator(mode="after")
    def _credit_notes_are_negative(self) -> SalesInvoicePayload:
        _whole_minor_units(self.Currency, (line.VATAmountFC for line in self.SalesInvoiceLines))
        total = sum(
            (line.Quantity * line.UnitPrice + line.VATAmountFC for line in self.SalesInvoiceLines),
            Decimal(0),
        )
        if total and (self.Type == CREDIT_NOTE_TYPE) != (total < 0):
            raise ValueError(f"a type {self.Type} invoice cannot total {total}")
        return self


class PrintPayload(Payload):
    """salesinvoice/PrintedSalesInvoices: books the invoice. Exact never e-mails it: the
    billing system already sent it to the customer."""

    InvoiceID: UUID
    InvoiceDate: date
    # As on SalesEntryPayload: only for a document moved out of a closed period.
    ReportingYear: int | None = None
    ReportingPeriod: int | None = Field(None, ge=1, le=13)
    SendEmailToCustomer: Literal[False] = False

    def body(self) -> dict[str, Any]:
        # SendEmailToCustomer is sent explicitly (False is not None), never defaulted.
        return self.model_dump(exclude_none=True)


class AccountPayload(Payload):
    """crm/Accounts: a customer created from billing (Exact numbers its Code itself)."""

    Name: str = _text("Accounts", "Name")
    Email: str | None = Field(None, max_length=limit("Accounts", "Email"))
    VATNumber: str | None = Field(None, max_length=limit("Accounts", "VATNumber"))
    AddressLine1: str | None = Field(None, max_length=limit("Accounts", "AddressLine1"))
    AddressLine2: str | None = Field(None, max_length=limit("Accounts", "AddressLine2"))
    Postcode: str | None = Field(None, max_length=limit("Accounts", "Postcode"))
    City: str | None = Field(None, max_length=limit("Accounts", "City"))
    Country: str = Field(pattern=r"^[A-Z]{2}$")
    Status: Literal["C"] = "C"
    Remarks: str | None = None


class WebhookSubscriptionPayload(Payload):
    """webhooks/WebhookSubscriptions: both fields mandatory (reference §8); HTTPS in
    production."""

    CallbackURL: str = Field(min_length=1)
    Topic: str = Field(min_length=1)
