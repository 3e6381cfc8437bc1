"""Billing documents → Exact payloads, in two pure steps.

1. `plan_document` (mapping tables only, no Exact): every line's item, GL and VAT CODES, signed
   amounts, dates and texts; or every reason the tables cannot map it yet (`Blocked`).
2. `sales_entry_payload` / `sales_invoice_payload` (the division's master data): codes become
   Exact's GUIDs; a code the division does not have blocks the document with a plain reason.

Money: billing stores integers in the currency's minor unit; Exact gets Decimals in the
currency (`money.to_major`: cents / 100 for EUR, yen as they are, fils / 1000 for KWD).
Credit notes are negative in Exact (billing stores them positive with a type). VAT is billing's
own per-line amount, sent explicitly so Exact does not recompute (and round) it.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID
from zoneinfo import ZoneInfo

from exact_pipeline.billing.models import BillingDocument, DocumentLine
from exact_pipeline.exact import MasterData
from exact_pipeline.exact.codes import CREDIT_NOTE_TYPE, INVOICE_TYPE
from exact_pipeline.exact.fields import fit, fits, limit
from exact_pipeline.exact.models import Journal
from exact_pipeline.exact.payloads import (
    AttachmentPayload,
    DocumentPayload,
    SalesEntryLinePayload,
    SalesEntryPayload,
    SalesInvoiceLinePayload,
    SalesInvoicePayload,
)
from exact_pipeline.exact.periods import Period
from exact_pipeline.mapping import Blocked, Cause, LineCodes, Mappings, entity_timezone_cause
from exact_pipeline.sync.core.money import currency_problem, to_major
from exact_pipeline.sync.documents import reasons
from exact_pipeline.sync.documents.analytics import unusable
from exact_pipeline.sync.documents.summaries import DocumentSummary

T = TypeVar("T")


def local_date(moment: datetime, zone: str) -> date:
    return moment.astimezone(ZoneInfo(zone)).date()


@dataclass(frozen=True)
class Origin:
    """Where a code came from, to word the fix when Exact does not have it."""

    file: str
    key: str

    def __str__(self) -> str:
        return f"{self.file}, {self.key}"


@dataclass(frozen=True)
class PlannedLine:
    position: int
    description: str  # already fitted to Exact's limit
    codes: LineCodes
    # "item" | "gl" | "vat" (| "cost_center" | "cost_unit" when set) → where that code is set
    origins: dict[str, Origin]
    quantity: Decimal  # signed: negative on credit notes
    unit_price: Decimal
    amount: Decimal  # signed, excluding VAT
    vat: Decimal  # signed
    notes: str | None  # billing's quantity × unit price, when they cannot be sent as such
    period_start: date | None = None  # the service period billed, both days included
    period_end: date | None = None


@dataclass(frozen=True)
class DocumentPlan:
    """A document with all its codes resolved from the mapping tables (not yet from Exact)."""

    billing_id: str
    number: str
    mode: str  # sales_entry | sales_invoice
    entity_id: str
    division: int
    journal: str
    payment_condition: str | None
    is_credit_note: bool
    document_date: date  # the issue date in the invoicing entity's timezone
    due_date: date | None
    currency: str
    description: str
    remarks: str | None
    lines: tuple[PlannedLine, ...]
    # The financial period it is booked in when not its date's: its date's period is closed
    # in Exact and `closed_period: next_open_period` (decided at push: periods.py).
    reporting_period: Period | None = None

    @property
    def amount(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal(0))

    @property
    def vat(self) -> Decimal:
        return sum((line.vat for line in self.lines), Decimal(0))

    @property
    def total(self) -> Decimal:
        return self.amount + self.vat


def document_description(document: BillingDocument, entity: str) -> str:
    if document.is_credit_note:
        text = f"Credit note {document.number} for invoice {document.original_invoice_number}"
    else:
        text = f"Invoice {document.number}"
        if document.purchase_order:
            text += f", PO {document.purchase_order}"
    return fit(entity, "Description", text) or document.number


def credit_note_remarks(document: BillingDocument, original_exact_number: int | None) -> str:
    """What an Exact user sees on a credit note: the billing invoice it corrects and, once that
    invoice is in Exact, its Exact number."""
    text = f"Corrects invoice {document.original_invoice_number}"
    if original_exact_number is not None:
        text += f" (Exact number {original_exact_number})"
    return f"{text}; billing credit note {document.number}."


def credit_note_entry_description(
    document: BillingDocument, original_exact_number: int | None
) -> str:
    """A credit note's reference on a sales entry. SalesEntries have no Remarks field (Exact
    answers 400 to one), so the Description carries it: the billing invoice it corrects and,
    when that invoice is in Exact and the text fits, its Exact number. Exact copies the
    Description to the entry's open item and ledger lines, where an accountant sees it."""
    text = document_description(document, "SalesEntries")
    if original_exact_number is None:
        return text
    full = f"{text} (Exact {original_exact_number})"
    return full if fits("SalesEntries", "Description", full) else text


def plan_document(
    document: BillingDocument, mappings: Mappings, original_exact_number: int | None = None
) -> DocumentPlan | Blocked:
    """The document's codes and amounts from the mapping tables, or every cause that blocks it.

    `original_exact_number`: for a credit note, the Exact number of the invoice it corrects
    (when that invoice is already posted), quoted in the remarks (sales invoices) or the
    description (sales entries).
    """
    settings = mappings.settings
    header = _header_entity(settings.invoice_push_mode)
    causes, codes = _resolve(document, mappings, header)
    if causes:
        return Blocked(causes=tuple(causes))
    planned = [
        _plan_line(document, line, line_codes, mappings, header)
        for line, line_codes in zip(document.lines, codes, strict=True)
    ]
    entity = mappings.entity(document.entity.id)
    zone = document.entity.timezone
    return DocumentPlan(
        billing_id=document.id,
        number=document.number,
        mode=settings.invoice_push_mode,
        entity_id=document.entity.id,
        division=entity.division,
        journal=entity.sales_journal,
        payment_condition=entity.payment_condition,
        is_credit_note=document.is_credit_note,
        document_date=local_date(document.issued_at, zone),
        due_date=local_date(document.due_at, zone) if document.due_at else None,
        currency=document.currency,
        description=_description(document, header, original_exact_number),
        remarks=_remarks(document, original_exact_number),
        lines=tuple(planned),
    )


def blocking(document: BillingDocument | DocumentSummary, mappings: Mappings) -> Blocked | None:
    """What `plan_document` would block the document for, or None when it plans it: the
    mapping tables' verdict without planning a line (what a stage needs of the plan)."""
    header = _header_entity(mappings.settings.invoice_push_mode)
    # Beyond its number, a document's verdict follows from these alone: one that plans is
    # remembered (most documents of a year share their line structure with many others).
    entity = document.entity
    key = (entity.id, entity.timezone, document.currency, document.is_credit_note)
    key += (document.line_structure,)
    planned = _per_tables("documents", mappings)
    if key in planned and fits(header, "YourRef", document.number):
        return None
    causes, _ = _resolve(document, mappings, header)
    if causes:
        return Blocked(causes=tuple(causes))
    if len(planned) >= _PLANNED_AT_MOST:
        planned.clear()
    planned[key] = True
    return None


_PLANNED_AT_MOST = 50_000  # tens of MB at most

# What the mapping tables decide follows from them alone: kept per tables (the frozen model
# last used; a run uses one), e.g. each line's codes once, not once per line of a year.
_memos: dict[str, tuple[Mappings, dict[Any, Any]]] = {}


def _per_tables(name: str, mappings: Mappings) -> dict[Any, Any]:
    memo = _memos.get(name)  # one read: threads (the divisions' pushes) may swap it meanwhile
    if memo is None or memo[0] is not mappings:
        memo = _memos[name] = (mappings, {})
    return memo[1]


def _resolve(
    document: BillingDocument | DocumentSummary, mappings: Mappings, header: str
) -> tuple[list[Cause], list[LineCodes]]:
    """Every cause blocking the document (its header's, then its lines' in order) and, when
    there is none, each line's codes."""
    causes = _header_causes(document, mappings, header)
    codes: list[LineCodes] = []
    resolved_lines = _per_tables("lines", mappings)
    entity_id, credit_note = document.entity.id, document.is_credit_note
    for position, product_id, tax_rate_id in document.line_keys:
        key = (entity_id, product_id, tax_rate_id, credit_note)
        resolved = resolved_lines.get(key)
        if resolved is None:
            resolved = resolved_lines[key] = mappings.resolve_line(*key)
        if isinstance(resolved, Blocked):
            causes.extend(reasons.on_line(position, cause) for cause in resolved.causes)
        else:
            codes.append(resolved)
    return causes, codes


def quoting_original(
    plan: DocumentPlan, document: BillingDocument, original_exact_number: int | None
) -> DocumentPlan:
    """`plan` (made without it) with the Exact number of the invoice a credit note corrects,
    known only once that invoice is booked: only the texts change, nothing is planned again."""
    if not plan.is_credit_note or original_exact_number is None:
        return plan
    header = _header_entity(plan.mode)
    return replace(
        plan,
        description=_description(document, header, original_exact_number),
        remarks=_remarks(document, original_exact_number),
    )


def _header_entity(mode: str) -> str:
    return "SalesEntries" if mode == "sales_entry" else "SalesInvoices"


def _description(document: BillingDocument, header: str, original: int | None) -> str:
    if document.is_credit_note and header == "SalesEntries":
        return credit_note_entry_description(document, original)
    return document_description(document, header)


def _remarks(document: BillingDocument, original: int | None) -> str | None:
    return credit_note_remarks(document, original) if document.is_credit_note else None


def _header_causes(
    document: BillingDocument | DocumentSummary, mappings: Mappings, header: str
) -> list[Cause]:
    causes: list[Cause] = []
    if document.entity.id not in mappings.settings.entities:
        causes.append(mappings.unmapped_entity(document.entity.id))
    if not fits(header, "YourRef", document.number):
        causes.append(reasons.number_too_long(document.number, limit(header, "YourRef")))
    if not document.line_count:
        causes.append(reasons.NO_LINES)
    if problem := currency_problem(document.currency):
        causes.append(reasons.unknown_currency(document.number, problem))
    entity = document.entity
    if zone_cause := entity_timezone_cause(entity.id, entity.timezone):
        causes.append(zone_cause)
    return causes


def _plan_line(
    document: BillingDocument,
    line: DocumentLine,
    codes: LineCodes,
    mappings: Mappings,
    header: str,
) -> PlannedLine:
    sign = document.sign
    amount = line.amount_excluding_tax
    currency = document.currency
    quantity, unit_price, notes = _quantity_and_price(line, currency)
    lines_entity = "SalesEntryLines" if header == "SalesEntries" else "SalesInvoiceLines"
    text = line.description or (line.product.name if line.product else f"Line {line.position}")
    return PlannedLine(
        position=line.position,
        description=fit(lines_entity, "Description", text) or f"Line {line.position}",
        codes=codes,
        origins=_origins(document, line, mappings),
        quantity=sign * quantity,
        unit_price=unit_price,
        amount=to_major(sign * amount, currency),
        vat=to_major(sign * line.tax_amount, currency),
        notes=notes,
        period_start=line.period_start,
        period_end=line.period_end,
    )


def _quantity_and_price(line: DocumentLine, currency: str) -> tuple[Decimal, Decimal, str | None]:
    """Quantity and unit price whose product is the line amount EXACTLY, whatever rounding
    Exact applies: billing's own when its unit price is whole minor units and quantity × price
    is the amount; otherwise one unit at the line amount, with billing's figures kept as a note
    (usage lines priced in fractions of a cent)."""
    unit = line.unit_amount
    if unit == unit.to_integral_value() and line.quantity * unit == line.amount_excluding_tax:
        return line.quantity, to_major(unit, currency), None
    price = _plain(to_major(unit, currency))
    note = f"{_plain(line.quantity)} × {price} (billing's quantity × unit price)"
    return Decimal(1), to_major(line.amount_excluding_tax, currency), note


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _origins(
    document: BillingDocument, line: DocumentLine, mappings: Mappings
) -> dict[str, Origin]:
    entity_key = f"entities.{document.entity.id}"
    product = mappings.products.get(line.product.id) if line.product else None
    default_gl = "default_credit_note_gl" if document.is_credit_note else "default_invoice_gl"
    analytics = {
        column: Origin("products.csv", f"product {product.product_id}, column {column}")
        for column in ("cost_center", "cost_unit")
        if product and getattr(product, column)
    }
    return {
        "item": Origin("products.csv", f"product {product.product_id}")
        if product
        else Origin("settings.yaml", f"{entity_key}.default_item_code"),
        "gl": Origin("products.csv", f"product {product.product_id}, column gl_account")
        if product and product.gl_account
        else Origin("settings.yaml", f"{entity_key}.{default_gl}"),
        "vat": Origin("tax_codes.csv", f"tax rate {line.tax_rate.id}"),
        **analytics,
    }


# --- step 2: codes → Exact GUIDs ----------------------------------------------------------


class _Binder:
    """Looks codes up in one division's master data, collecting every missing one."""

    def __init__(self, master_data: MasterData, division: int) -> None:
        self.md = master_data
        self.division = division
        self.causes: list[Cause] = []

    def _missing(self, what: str, code: str, origin: Origin | str) -> None:
        self.causes.append(reasons.missing_code(what, code, self.division, origin))

    def lookup(self, table: dict[str, T], what: str, code: str, origin: Origin | str) -> T | None:
        found = table.get(code)
        if found is None:
            self._missing(what, code, origin)
        return found

    def _guid(self, table: dict[str, Any], what: str, code: str, origin: Origin) -> UUID:
        found = self.lookup(table, what, code, origin)
        return found.ID if found is not None else _NO_ID

    def gl(self, line: PlannedLine) -> UUID:
        return self._guid(
            self.md.gl_accounts, "GL account", line.codes.gl_account, line.origins["gl"]
        )

    def item(self, line: PlannedLine) -> UUID:
        code = line.codes.item_code
        assert code is not None, "sales_invoice mode resolves an item for every line"
        return self._guid(self.md.items, "item", code, line.origins["item"])

    def header(self, plan: DocumentPlan) -> None:
        entity_key = f"settings.yaml, entities.{plan.entity_id}"
        journal = self.lookup(
            self.md.journals, "sales journal", plan.journal, f"{entity_key}.sales_journal"
        )
        if journal is not None and not books_currency(journal, plan.currency):
            self.causes.append(
                reasons.journal_cannot_book(
                    plan.number, plan.currency, plan.journal, journal, self.division, entity_key
                )
            )
        if plan.payment_condition:
            self.lookup(
                self.md.payment_conditions,
                "payment condition",
                plan.payment_condition,
                f"{entity_key}.payment_condition",
            )

    def vat(self, line: PlannedLine) -> str:
        self.lookup(self.md.vat_codes, "VAT code", line.codes.vat_code, line.origins["vat"])
        return line.codes.vat_code

    def analytics(self, line: PlannedLine, day: date) -> None:
        """The line's cost centre and cost unit (codes on the wire): each must exist, be
        active and not have ended by the document's date (`analytics.unusable`)."""
        for column, what, table, code in (
            ("cost_center", "cost centre", self.md.cost_centers, line.codes.cost_center),
            ("cost_unit", "cost unit", self.md.cost_units, line.codes.cost_unit),
        ):
            if code is None:
                continue
            origin = line.origins[column]
            found = self.lookup(table, what, code, origin)
            if found is not None and (problem := unusable(found, day)):
                self.causes.append(
                    reasons.unusable_code(what, code, problem, self.division, origin)
                )

    def plan(self, plan: DocumentPlan, items: bool) -> list[_BoundLine]:
        """The plan's header codes and each line's looked up (`items`: each line's item too,
        first), then each line's cost centre and unit; what is missing is collected. One bound
        line per planned line, in order."""
        self.header(plan)
        bound = [
            _BoundLine(self.item(line) if items else None, self.gl(line), self.vat(line))
            for line in plan.lines
        ]
        for line in plan.lines:
            self.analytics(line, plan.document_date)
        return bound

    def result(self, build: Callable[[], T]) -> T | Blocked:
        if self.causes:
            return Blocked(causes=tuple(dict.fromkeys(self.causes)))
        return build()


@dataclass(frozen=True)
class _BoundLine:
    """A planned line's Exact ids, in the plan's line order."""

    item: UUID | None  # sales_invoice mode only
    gl: UUID
    vat: str


_NO_ID = UUID(int=0)  # placeholder while causes are collected; never sent


def books_currency(journal: Journal, currency: str) -> bool:
    """Whether Exact can book a document in `currency` in this journal: a journal books its
    own currency, and any other only when it allows variable currencies (Exact's
    financial/Journals `Currency` and `AllowVariableCurrency`). A journal that does not say
    its currency is not second-guessed."""
    own = (journal.Currency or "").strip().upper()
    return bool(journal.AllowVariableCurrency) or not own or own == currency.strip().upper()


def sales_entry_payload(
    plan: DocumentPlan, master_data: MasterData, account: UUID, document: UUID | None
) -> SalesEntryPayload | Blocked:
    bind = _Binder(master_data, plan.division)
    lines = bind.plan(plan, items=False)
    return bind.result(
        lambda: SalesEntryPayload(
            Customer=account,
            Journal=plan.journal,
            EntryDate=plan.document_date,
            YourRef=plan.number,
            Description=plan.description,
            Currency=plan.currency,
            PaymentCondition=plan.payment_condition,
            DueDate=plan.due_date,
            Document=document,
            VATAmountFC=plan.vat,
            ReportingYear=plan.reporting_period[0] if plan.reporting_period else None,
            ReportingPeriod=plan.reporting_period[1] if plan.reporting_period else None,
            SalesEntryLines=[
                SalesEntryLinePayload(
                    GLAccount=bound.gl,
                    AmountFC=line.amount,
                    VATCode=bound.vat,
                    VATAmountFC=line.vat,
                    Description=line.description,
                    Quantity=line.quantity,
                    CostCenter=line.codes.cost_center,
                    CostUnit=line.codes.cost_unit,
                    From=line.period_start,
                    To=line.period_end,
                )
                for line, bound in zip(plan.lines, lines, strict=True)
            ],
        )
    )


def sales_invoice_payload(
    plan: DocumentPlan, master_data: MasterData, account: UUID, document: UUID | None
) -> SalesInvoicePayload | Blocked:
    bind = _Binder(master_data, plan.division)
    lines = bind.plan(plan, items=True)
    return bind.result(
        lambda: SalesInvoicePayload(
            OrderedBy=account,
            Journal=plan.journal,
            Type=CREDIT_NOTE_TYPE if plan.is_credit_note else INVOICE_TYPE,
            YourRef=plan.number,
            Description=plan.description,
            Currency=plan.currency,
            OrderDate=plan.document_date,
            DueDate=plan.due_date,
            PaymentCondition=plan.payment_condition,
            Document=document,
            Remarks=plan.remarks,
            SalesInvoiceLines=[
                SalesInvoiceLinePayload(
                    Item=bound.item,
                    GLAccount=bound.gl,
                    VATCode=bound.vat,
                    Quantity=line.quantity,
                    UnitPrice=line.unit_price,
                    VATAmountFC=line.vat,
                    Description=line.description,
                    Notes=line.notes,
                    CostCenter=line.codes.cost_center,
                    CostUnit=line.codes.cost_unit,
                    StartTime=line.period_start,
                    EndTime=line.period_end,
                )
                for line, bound in zip(plan.lines, lines, strict=True)
            ],
        )
    )


def document_subject(number: str, is_credit_note: bool) -> str:
    """The Exact Document's subject; unique per billing number, so it finds the Document again
    after a lost response."""
    kind = "Credit note" if is_credit_note else "Invoice"
    return f"{kind} {number} (billing PDF)"


def document_payload(plan: DocumentPlan, account: UUID) -> DocumentPayload:
    return DocumentPayload(
        Subject=document_subject(plan.number, plan.is_credit_note),
        Account=account,
        DocumentDate=plan.document_date,
        Currency=plan.currency,
        AmountFC=plan.total,
    )


def attachment_payload(document: UUID, file_name: str, content: bytes) -> AttachmentPayload:
    return AttachmentPayload(
        Document=document,
        FileName=fit("DocumentAttachments", "FileName", file_name) or "document.pdf",
        Attachment=base64.b64encode(content).decode("ascii"),
    )


# Exact refuses a request over 10 MB, and the PDF travels base64-encoded (4 characters per 3
# bytes) inside a small JSON body. The reference reads the limit as the file before encoding;
# counting the encoded request against 10^7 bytes (the stricter reading) is safe either way:
# 7,499,250 bytes of PDF make at most 9,999,000 characters, plus at most 1,000 of JSON around
# them (the document's GUID and a file name of at most 200 characters).
EXACT_REQUEST_LIMIT = 10_000_000
_JSON_AROUND = 1_000
MAX_PDF_BYTES = (EXACT_REQUEST_LIMIT - _JSON_AROUND) // 4 * 3


def oversized_pdf(document: BillingDocument | DocumentSummary) -> str | None:
    """Why the document's PDF cannot go to Exact (too large for one request), or None."""
    size = document.pdf_size
    if size is None or size <= MAX_PDF_BYTES:
        return None
    return reasons.pdf_too_large(document, size, MAX_PDF_BYTES)
