"""Typed Exact Online entities, named field for field as on the wire (PascalCase).

Reading is lenient (Exact returns nulls for many fields, and `$select` returns only what was
asked), so every field is optional. `/Date(ms)/` values become naive datetimes, padded codes
are trimmed, amounts are `Decimal`, GUIDs are `UUID`, deferred child collections become None.
A model's fields are also the `$select` the client sends (see `select_fields`).
"""

from __future__ import annotations

import typing
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, BeforeValidator, ConfigDict

from exact_pipeline.exact.odata import parse_date


def _trim(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _collection(value: Any) -> Any:
    """`{"__deferred": …}` (not expanded) → None; `{"results": […]}` → the list."""
    if isinstance(value, dict):
        return value.get("results")
    return value


ExactDateTime = Annotated[datetime | None, BeforeValidator(parse_date)]
TrimmedCode = Annotated[str | None, BeforeValidator(_trim)]


class ExactModel(BaseModel):
    model_config = ConfigDict(extra="ignore")


def _nested_model(annotation: Any) -> type[ExactModel] | None:
    """The line model of a `list[Line] | None` field, else None."""
    for arg in typing.get_args(annotation) or (annotation,):
        if typing.get_origin(arg) is list:
            (inner,) = typing.get_args(arg)
            if isinstance(inner, type) and issubclass(inner, ExactModel):
                return inner
    return None


def select_fields(model: type[ExactModel], *, expand: bool = False) -> list[str]:
    """`$select` for a model: its scalar fields, plus `Lines/Field` when expanding lines."""
    fields: list[str] = []
    for name, info in model.model_fields.items():
        line = _nested_model(info.annotation)
        if line is None:
            fields.append(name)
        elif expand:
            fields.extend(f"{name}/{sub}" for sub in select_fields(line))
    return fields


def lines_field(model: type[ExactModel]) -> str | None:
    """The deep-insert child collection of a model (e.g. `SalesEntryLines`), if any."""
    return next(
        (name for name, info in model.model_fields.items() if _nested_model(info.annotation)),
        None,
    )


Lines = BeforeValidator(_collection)


class Me(ExactModel):
    UserID: UUID | None = None
    UserName: str | None = None
    FullName: str | None = None
    Email: str | None = None
    CurrentDivision: int | None = None
    LanguageCode: str | None = None


class Division(ExactModel):
    Code: int | None = None
    Description: str | None = None
    Country: str | None = None
    Currency: str | None = None
    DivisionMoveDate: ExactDateTime = None


class Account(ExactModel):
    ID: UUID | None = None
    Code: TrimmedCode = None
    Name: str | None = None
    Status: str | None = None
    Email: str | None = None
    VATNumber: str | None = None
    ChamberOfCommerce: str | None = None
    AddressLine1: str | None = None
    AddressLine2: str | None = None
    Postcode: str | None = None
    City: str | None = None
    Country: TrimmedCode = None
    PaymentConditionSales: TrimmedCode = None
    SalesVATCode: TrimmedCode = None
    SalesCurrency: str | None = None
    Blocked: bool | None = None
    Remarks: str | None = None  # on accounts we create: the billing customer's id
    Modified: ExactDateTime = None


class Item(ExactModel):
    ID: UUID | None = None
    Code: TrimmedCode = None
    Description: str | None = None
    IsSalesItem: bool | None = None
    SalesVatCode: TrimmedCode = None
    GLRevenue: UUID | None = None
    Unit: str | None = None
    EndDate: ExactDateTime = None


class VATCode(ExactModel):
    ID: UUID | None = None
    Code: TrimmedCode = None
    Description: str | None = None
    Percentage: Decimal | None = None  # a fraction: 0.21
    Type: str | None = None
    VATTransactionType: str | None = None
    IsBlocked: bool | None = None


class GLAccount(ExactModel):
    ID: UUID | None = None
    Code: TrimmedCode = None
    Description: str | None = None
    Type: int | None = None
    BalanceType: str | None = None
    VATCode: TrimmedCode = None
    IsBlocked: bool | None = None


class Journal(ExactModel):
    ID: UUID | None = None
    Code: TrimmedCode = None
    Description: str | None = None
    Type: int | None = None
    Currency: str | None = None
    AllowVariableCurrency: bool | None = None  # books documents in other currencies too
    GLAccount: UUID | None = None


class PaymentCondition(ExactModel):
    ID: UUID | None = None
    Code: TrimmedCode = None
    Description: str | None = None
    PaymentDays: int | None = None


class CostCenter(ExactModel):
    """hrm/Costcenters: what a line's `CostCenter` code names. `Active` is marked obsolete
    by Exact but still served; `EndDate` ends its use."""

    ID: UUID | None = None
    Code: TrimmedCode = None
    Description: str | None = None
    Active: bool | None = None
    EndDate: ExactDateTime = None


class CostUnit(ExactModel):
    """hrm/Costunits: what a line's `CostUnit` code names (no `Active` field)."""

    ID: UUID | None = None
    Code: TrimmedCode = None
    Description: str | None = None
    EndDate: ExactDateTime = None


class JournalStatus(ExactModel):
    """read/financial/JournalStatusList: one period of a journal, open (`Status` 0) or closed
    (1); keyed by Journal, Year and Period (exact-online-api.md §9)."""

    Journal: TrimmedCode = None
    Year: int | None = None
    Period: int | None = None
    Status: int | None = None


class SalesEntryLine(ExactModel):
    ID: UUID | None = None
    EntryID: UUID | None = None
    LineNumber: int | None = None
    GLAccount: UUID | None = None
    GLAccountCode: TrimmedCode = None
    AmountFC: Decimal | None = None  # excl. VAT
    VATCode: TrimmedCode = None
    VATAmountFC: Decimal | None = None
    VATPercentage: Decimal | None = None
    Description: str | None = None
    Quantity: Decimal | None = None


class SalesEntry(ExactModel):
    EntryID: UUID | None = None
    EntryNumber: int | None = None
    EntryDate: ExactDateTime = None
    Journal: TrimmedCode = None
    Customer: UUID | None = None
    YourRef: str | None = None
    Description: str | None = None
    Currency: str | None = None
    PaymentCondition: TrimmedCode = None
    DueDate: ExactDateTime = None
    Document: UUID | None = None
    AmountFC: Decimal | None = None  # incl. VAT
    AmountDC: Decimal | None = None
    VATAmountFC: Decimal | None = None
    Type: int | None = None  # 20 entry, 21 credit note
    Status: int | None = None
    SalesEntryLines: Annotated[list[SalesEntryLine] | None, Lines] = None


class SalesInvoiceLine(ExactModel):
    ID: UUID | None = None
    InvoiceID: UUID | None = None
    LineNumber: int | None = None
    Item: UUID | None = None
    GLAccount: UUID | None = None
    Quantity: Decimal | None = None
    UnitPrice: Decimal | None = None
    NetPrice: Decimal | None = None
    AmountFC: Decimal | None = None  # excl. VAT
    VATCode: TrimmedCode = None
    VATAmountFC: Decimal | None = None
    VATPercentage: Decimal | None = None
    Description: str | None = None


class SalesInvoice(ExactModel):
    InvoiceID: UUID | None = None
    InvoiceNumber: int | None = None
    InvoiceDate: ExactDateTime = None
    OrderedBy: UUID | None = None
    InvoiceTo: UUID | None = None
    Journal: TrimmedCode = None
    Type: int | None = None  # 8020 invoice, 8021 credit note
    Status: int | None = None  # 10 draft, 20 open, 50 processed
    Currency: str | None = None
    Description: str | None = None
    YourRef: str | None = None
    OrderDate: ExactDateTime = None
    DueDate: ExactDateTime = None
    PaymentCondition: TrimmedCode = None
    Document: UUID | None = None
    AmountFC: Decimal | None = None
    AmountFCExclVat: Decimal | None = None
    VATAmountFC: Decimal | None = None
    SalesInvoiceLines: Annotated[list[SalesInvoiceLine] | None, Lines] = None


class PrintedSalesInvoice(ExactModel):
    """The reply of booking (processing) a sales invoice; POST only."""

    InvoiceID: UUID | None = None
    Document: UUID | None = None
    DocumentCreationSuccess: str | None = None
    DocumentCreationError: str | None = None
    EmailCreationSuccess: str | None = None
    EmailCreationError: str | None = None


class Document(ExactModel):
    ID: UUID | None = None
    Subject: str | None = None
    Type: int | None = None  # 10 sales invoice
    Account: UUID | None = None
    DocumentDate: ExactDateTime = None
    FinancialTransactionEntryID: UUID | None = None
    SalesInvoiceNumber: int | None = None
    Currency: str | None = None
    AmountFC: Decimal | None = None


class DocumentAttachment(ExactModel):
    ID: UUID | None = None
    Document: UUID | None = None
    FileName: str | None = None
    FileSize: Decimal | None = None
    Url: str | None = None


class Receivable(ExactModel):
    """An open (or settled) item; also the shape of `sync/Cashflow/PaymentTerms`."""

    ID: UUID | None = None
    EntryID: UUID | None = None
    Account: UUID | None = None
    AccountCode: TrimmedCode = None
    Journal: TrimmedCode = None  # the journal's code (Receivables has no JournalCode)
    InvoiceDate: ExactDateTime = None
    Description: str | None = None
    AmountDC: Decimal | None = None
    AmountFC: Decimal | None = None
    TransactionAmountDC: Decimal | None = None
    TransactionAmountFC: Decimal | None = None
    IsFullyPaid: bool | None = None
    Status: int | None = None  # 20 open … 50 matched
    LastPaymentDate: ExactDateTime = None
    DueDate: ExactDateTime = None
    InvoiceNumber: int | None = None
    EntryNumber: int | None = None
    YourRef: str | None = None
    TransactionEntryID: UUID | None = None
    TransactionID: UUID | None = None
    Currency: str | None = None


class PaymentTerm(Receivable):
    """A row of `sync/Cashflow/PaymentTerms`: a receivable (or payable) and its line type."""

    LineType: int | None = None  # codes.RECEIPT_LINE_TYPE for a receivable


class Deletion(ExactModel):
    """A row of `sync/Deleted`: a record removed from Exact, by key and entity type."""

    ID: UUID | None = None
    EntityKey: UUID | None = None
    EntityType: int | None = None  # codes.PAYMENT_TERM_DELETED: a receivable row
    DeletedDate: ExactDateTime = None


class TransactionLine(ExactModel):
    """A ledger line (`sync/Financial/TransactionLines`): Type 20/21 sales, 40 cash flow."""

    ID: UUID | None = None
    EntryID: UUID | None = None
    EntryNumber: int | None = None
    LineNumber: int | None = None
    Type: int | None = None
    Date: ExactDateTime = None
    JournalCode: TrimmedCode = None
    GLAccountCode: TrimmedCode = None
    Account: UUID | None = None
    AccountCode: TrimmedCode = None
    AmountDC: Decimal | None = None
    AmountFC: Decimal | None = None
    AmountVATFC: Decimal | None = None  # a revenue line's VAT, signed as the line
    Currency: str | None = None
    Description: str | None = None
    InvoiceNumber: int | None = None
    YourRef: str | None = None
    Status: int | None = None


class BankEntryLine(ExactModel):
    ID: UUID | None = None
    EntryID: UUID | None = None
    LineNumber: int | None = None
    Account: UUID | None = None
    AmountFC: Decimal | None = None
    GLAccount: UUID | None = None
    OurRef: int | None = None
    Date: ExactDateTime = None
    Description: str | None = None
    Notes: str | None = None


class BankEntry(ExactModel):
    EntryID: UUID | None = None
    EntryNumber: int | None = None
    JournalCode: TrimmedCode = None
    Currency: str | None = None
    FinancialYear: int | None = None
    FinancialPeriod: int | None = None
    Status: int | None = None
    BankEntryLines: Annotated[list[BankEntryLine] | None, Lines] = None


class WebhookSubscription(ExactModel):
    """webhooks/WebhookSubscriptions: an app's subscription of a division to a topic."""

    ID: UUID | None = None
    CallbackURL: str | None = None
    Topic: str | None = None
    Division: int | None = None
