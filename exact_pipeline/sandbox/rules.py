"""Exact's business rules, as hooks the entity declarations name.

Numbering per journal, amounts and VAT from lines, receivables and ledger lines when a
document is booked (a sales entry on POST, a sales invoice when PrintedSalesInvoices
processes it), payments matched by bank-entry lines.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from iso4217 import Currency

from exact_pipeline.sandbox import reference
from exact_pipeline.sandbox.context import Ctx
from exact_pipeline.sandbox.invoice_pdf import render_invoice_pdf
from exact_pipeline.sandbox.schema import Record

ACCOUNTS = "crm/Accounts"
GL_ACCOUNTS = "financial/GLAccounts"
JOURNALS = "financial/Journals"
VAT_CODES = "vat/VATCodes"
PAYMENT_CONDITIONS = "cashflow/PaymentConditions"
DOCUMENTS = "documents/Documents"
DOCUMENT_TYPES = "documents/DocumentTypes"
ATTACHMENTS = "documents/DocumentAttachments"
SALES_ENTRIES = "salesentry/SalesEntries"
SALES_INVOICES = "salesinvoice/SalesInvoices"
SALES_INVOICE_LINES = "salesinvoice/SalesInvoiceLines"
SALES_ENTRY_LINES = "salesentry/SalesEntryLines"
BANK_ENTRIES = "financialtransaction/BankEntries"
RECEIVABLES = "cashflow/Receivables"
TRANSACTION_LINES = "financialtransaction/TransactionLines"
JOURNAL_STATUS = "read/financial/JournalStatusList"

# Documents numbered from a journal's sequence: (set, journal field, number field).
NUMBERED = (
    (SALES_ENTRIES, "Journal", "EntryNumber"),
    (SALES_INVOICES, "Journal", "InvoiceNumber"),
    (BANK_ENTRIES, "JournalCode", "EntryNumber"),
)
CREDIT_NOTE_TYPES = (8021, 8024)
INVOICE_TYPES = (8020, 8021, 8023, 8024)
SALES_DOCUMENT_TYPE = 10
OPEN, PAID = 20, 50
CENT = Decimal("0.01")


def money(value: Any, step: Decimal = CENT) -> Decimal:
    """Rounded to `step`: a cent in the division's currency (DC), the document currency's own
    minor unit in FC (Exact's general/Currencies precision: JPY 1, KWD 0.001)."""
    return Decimal(value).quantize(step, ROUND_HALF_UP)


def fc_step(header: Record) -> Decimal:
    """The minor unit of the header's currency (ISO 4217); a cent for a code ISO lacks."""
    try:
        exponent = Currency((header.get("Currency") or "EUR").strip().upper()).exponent
    except ValueError:
        exponent = None
    return CENT if exponent is None else Decimal(1).scaleb(-exponent)


def _dec(value: Any) -> Decimal:
    return Decimal(0) if value is None else Decimal(value)


# numbering -------------------------------------------------------------------------------
def journal_number(ctx: Ctx, journal_code: str, supplied: int | None, date: datetime) -> int:
    """Next number of a journal's sequence (26700001: year, journal, serial). A supplied
    number is kept when free and silently replaced when taken, as Exact does."""
    code = journal_code.strip()
    taken = {
        r[number]
        for path, journal, number in NUMBERED
        for r in ctx.rows(path)
        if (r.get(journal) or "").strip() == code and r.get(number) is not None
    }
    if supplied is not None and supplied not in taken:
        return supplied
    first = (
        (date.year % 100 * 100 + int(code)) * 10_000 + 1 if code.isdigit() and len(code) <= 2 else 1
    )
    return ctx.store.next_number(f"{ctx.division}:{code}:{date.year}", first, taken)


def account_code(ctx: Ctx, account: Record, _lines: list[Record]) -> None:
    """Codes are left-padded to 18; a missing code is the highest numeric code + 1."""
    code = (account.get("Code") or "").strip()
    if not code:
        numbers = [
            int(c) for r in ctx.rows(ACCOUNTS) if (c := (r.get("Code") or "").strip()).isdigit()
        ]
        code = str(max(numbers, default=0) + 1)
    account["Code"] = code.rjust(18)


def document_numbering(ctx: Ctx, document: Record, _lines: list[Record]) -> None:
    document["HID"] = ctx.store.next_number(f"{ctx.division}:documents", 1, set())
    document["DocumentViewUrl"] = (
        f"{ctx.base_url}/docs/DocView.aspx?DocumentID={document['ID']}&_Division_={ctx.division}"
    )


def attachment_file(ctx: Ctx, attachment: Record, _lines: list[Record]) -> None:
    attachment["FileSize"] = Decimal(len(base64.b64decode(attachment["Attachment"])))
    attachment["Url"] = (
        f"{ctx.base_url}/docs/SysAttachment.aspx?ID={attachment['ID']}&_Division_={ctx.division}"
    )


# amounts ---------------------------------------------------------------------------------
def _line_vat(line: Record, amount: Decimal, rate: Decimal, step: Decimal) -> None:
    """Line VAT from its code's percentage unless the line overrides `VATAmountFC`."""
    override = line.get("VATAmountFC")
    percentage = _dec(line.get("VATPercentage"))
    vat = money(override, step) if override is not None else money(amount * percentage, step)
    line.update(
        AmountFC=amount,
        AmountDC=money(amount * rate),
        VATAmountFC=vat,
        VATAmountDC=money(vat * rate),
    )


def _due_date(ctx: Ctx, condition: str | None, date: datetime) -> datetime:
    found = ctx.find(PAYMENT_CONDITIONS, "Code", condition, trim=True) if condition else None
    return date + timedelta(days=found["PaymentDays"] if found else 0)


def sales_entry_amounts(ctx: Ctx, entry: Record, lines: list[Record]) -> None:
    """A new entry: its totals, its number in the journal's sequence and its invoice number
    (the client's when given, as Exact accepts it on POST; else the entry number)."""
    date = entry["EntryDate"]
    entry["ReportingYear"] = entry.get("ReportingYear") or date.year
    entry["ReportingPeriod"] = entry.get("ReportingPeriod") or date.month
    refuse_closed_period(ctx, entry["Journal"], entry["ReportingYear"], entry["ReportingPeriod"])
    _sales_entry_totals(entry, lines)
    entry.update(
        Status=OPEN,
        EntryNumber=journal_number(ctx, entry["Journal"], entry.get("EntryNumber"), date),
    )
    entry["InvoiceNumber"] = entry.get("InvoiceNumber") or entry["EntryNumber"]
    entry["DueDate"] = entry.get("DueDate") or _due_date(ctx, entry.get("PaymentCondition"), date)


def _sales_entry_totals(entry: Record, lines: list[Record]) -> None:
    """Line VAT and amounts, then the header's: its VAT is the given header VAT or the
    lines' sum; Type 21 (credit note) when the total is negative."""
    rate, step = _dec(entry.get("Rate") or 1), fc_step(entry)
    for line in lines:
        _line_vat(line, money(line["AmountFC"], step), rate, step)
        line["VATBaseAmountFC"] = line["AmountFC"]
    excl = sum((line["AmountFC"] for line in lines), Decimal(0))
    header_vat = entry.get("VATAmountFC")
    vat = (
        money(header_vat, step)
        if header_vat is not None
        else sum((line["VATAmountFC"] for line in lines), Decimal(0))
    )
    entry.update(
        VATAmountFC=vat,
        VATAmountDC=money(vat * rate),
        AmountFC=excl + vat,
        AmountDC=money((excl + vat) * rate),
        Type=21 if excl + vat < 0 else 20,
    )


# Line fields the VAT amount is computed from.
LINE_VAT_INPUTS = frozenset({"AmountFC", "VATCode", "Quantity", "UnitPrice", "Discount"})

# Header fields whose change changes the booking (open item and ledger lines).
REBOOK_FIELDS = frozenset(
    {
        "Customer",
        "Journal",
        "EntryDate",
        "Currency",
        "Rate",
        "VATAmountFC",
        "InvoiceNumber",
        "EntryNumber",
        "ReportingYear",
        "ReportingPeriod",
        "DueDate",
        "PaymentCondition",
    }
)


def sales_entry_guard(ctx: Ctx, entry: Record, changes: Record | None) -> None:
    """A booked entry's booking (and its lines) cannot change once payments are matched, nor
    in a closed period, nor move into one. `changes`: the header's new values (None: a line)."""
    if changes is not None and not set(changes) & REBOOK_FIELDS:
        return
    _refuse_when_paid(ctx, entry, "payments_matched_change")
    for booked in (entry, entry | (changes or {})):
        refuse_closed_period(
            ctx, booked["Journal"], booked["ReportingYear"], booked["ReportingPeriod"]
        )


def sales_entry_updated(ctx: Ctx, entry: Record, changed: set[str]) -> None:
    """A PUT on the header: booked again when the change touches the booking."""
    if changed & REBOOK_FIELDS:
        _rebook(ctx, entry, keep_header_vat=True)


def sales_entry_rebooked(ctx: Ctx, entry: Record, line: Record | None, changed: set[str]) -> None:
    """A line was added, changed or deleted on its own: the header's VAT becomes the lines'
    sum again and the entry is booked again."""
    _forget_computed_vat(line, changed)
    _rebook(ctx, entry, keep_header_vat=False)


def _forget_computed_vat(line: Record | None, changed: set[str]) -> None:
    """A line whose amount or VAT code changed without a new VAT amount gets its VAT computed
    again (a stored VAT amount is otherwise taken as the client's override)."""
    if line is not None and changed & LINE_VAT_INPUTS and "VATAmountFC" not in changed:
        line["VATAmountFC"] = None


def _rebook(ctx: Ctx, entry: Record, *, keep_header_vat: bool) -> None:
    transaction_removed(ctx, entry)  # refused once payments are matched against it
    lines = _lines(ctx, SALES_ENTRY_LINES, "EntryID", entry["EntryID"])
    if not keep_header_vat:
        entry["VATAmountFC"] = None
    _sales_entry_totals(entry, lines)
    for line in lines:
        ctx.touch(line)
    ctx.touch(entry)
    sales_entry_booked(ctx, entry, lines)


def _lines(ctx: Ctx, path: str, parent_key: str, parent: Any) -> list[Record]:
    found = [r for r in ctx.rows(path) if r[parent_key] == parent]
    return sorted(found, key=lambda r: r.get("LineNumber") or 0)


def sales_invoice_amounts(ctx: Ctx, invoice: Record, lines: list[Record]) -> None:
    step = fc_step(invoice)
    for line in lines:
        net = _dec(line.get("UnitPrice")) * (1 - _dec(line.get("Discount")))
        line["NetPrice"] = net
        _line_vat(line, money(_dec(line.get("Quantity")) * net, step), Decimal(1), step)
    excl = sum((line["AmountFC"] for line in lines), Decimal(0))
    vat = sum((line["VATAmountFC"] for line in lines), Decimal(0))
    if invoice["Type"] not in INVOICE_TYPES:
        raise ctx.fail(ctx.text("invalid_value", label=ctx.label("Type")))
    total = excl + vat
    if total != 0 and (invoice["Type"] in CREDIT_NOTE_TYPES) != (total < 0):
        raise ctx.fail(ctx.text("credit_note_sign"))
    invoice.update(
        AmountFCExclVat=excl, VATAmountFC=vat, AmountFC=total, AmountDC=total, Status=OPEN
    )


def sales_invoice_recalculated(
    ctx: Ctx, invoice: Record, line: Record | None, changed: set[str]
) -> None:
    """A line was added, changed or deleted on its own (the invoice is not booked yet)."""
    _forget_computed_vat(line, changed)
    lines = _lines(ctx, SALES_INVOICE_LINES, "InvoiceID", invoice["InvoiceID"])
    sales_invoice_amounts(ctx, invoice, lines)
    for line in lines:
        ctx.touch(line)
    ctx.touch(invoice)


def bank_entry_amounts(ctx: Ctx, entry: Record, lines: list[Record]) -> None:
    for line in lines:
        line["AmountFC"] = money(line["AmountFC"], fc_step(entry))
        line["AmountDC"] = line["AmountFC"]
        line["Date"] = line.get("Date") or ctx.today
    date = lines[0]["Date"]
    entry["FinancialYear"] = entry.get("FinancialYear") or date.year
    entry["FinancialPeriod"] = entry.get("FinancialPeriod") or date.month
    refuse_closed_period(
        ctx, entry["JournalCode"], entry["FinancialYear"], entry["FinancialPeriod"]
    )
    entry["EntryNumber"] = journal_number(ctx, entry["JournalCode"], entry.get("EntryNumber"), date)
    if entry.get("ClosingBalanceFC") is None:
        entry["ClosingBalanceFC"] = _dec(entry.get("OpeningBalanceFC")) + sum(
            (line["AmountFC"] for line in lines), Decimal(0)
        )
    entry["Status"] = OPEN


# booking ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Sale:
    """A sales document being booked: what its receivable and ledger lines are made of."""

    entry_id: str
    credit: bool
    journal: Record
    number: int  # entry number
    invoice_number: int
    date: datetime
    due: datetime
    account: Record
    header: Record  # YourRef, Description, Currency, Document, PaymentCondition, …
    lines: list[Record]
    total: Decimal
    period: tuple[int, int]  # the financial year and period it is booked in


def sales_entry_booked(ctx: Ctx, entry: Record, lines: list[Record]) -> None:
    _book_sale(
        ctx,
        Sale(
            entry_id=entry["EntryID"],
            credit=entry["Type"] == 21,
            journal=_journal(ctx, entry["Journal"]),
            number=entry["EntryNumber"],
            invoice_number=entry["InvoiceNumber"],
            date=entry["EntryDate"],
            due=entry["DueDate"],
            account=_get(ctx, ACCOUNTS, entry["Customer"]),
            header=entry,
            lines=lines,
            total=entry["AmountDC"],
            period=(entry["ReportingYear"], entry["ReportingPeriod"]),
        ),
    )


def invoice_processed(ctx: Ctx, printed: Record, _lines: list[Record]) -> None:
    """PrintedSalesInvoices: number and book the invoice, make Exact's own PDF, maybe mail it."""
    invoice = _get(ctx, SALES_INVOICES, printed["InvoiceID"])
    if invoice["Status"] == PAID:
        raise ctx.fail(ctx.text("processed"))
    date = printed.get("InvoiceDate") or ctx.today
    period = (
        printed.get("ReportingYear") or date.year,
        printed.get("ReportingPeriod") or date.month,
    )
    refuse_closed_period(ctx, invoice["Journal"], *period)
    number = journal_number(ctx, invoice["Journal"], None, date)
    invoice.update(
        InvoiceNumber=number,
        InvoiceDate=date,
        Status=PAID,
        DueDate=invoice.get("DueDate") or _due_date(ctx, invoice.get("PaymentCondition"), date),
    )
    ctx.touch(invoice)
    account = _get(ctx, ACCOUNTS, invoice["InvoiceTo"])
    lines = [r for r in ctx.rows(SALES_INVOICE_LINES) if r["InvoiceID"] == invoice["InvoiceID"]]
    sale = Sale(
        entry_id=invoice["InvoiceID"],
        credit=invoice["Type"] in CREDIT_NOTE_TYPES,
        journal=_journal(ctx, invoice["Journal"]),
        number=number,
        invoice_number=number,
        date=date,
        due=invoice["DueDate"],
        account=account,
        header=invoice,
        lines=lines,
        total=invoice["AmountDC"],
        period=period,
    )
    _book_sale(ctx, sale)
    document = _exact_pdf(ctx, sale)
    printed.update(Document=document["ID"], DocumentCreationSuccess=ctx.text("document_created"))
    if printed.get("SendEmailToCustomer"):
        ctx.outbox.append(
            {
                "division": ctx.division,
                "invoice_id": invoice["InvoiceID"],
                "invoice_number": number,
                "to": account.get("Email"),
                "at": ctx.now.isoformat(),
            }
        )
        printed["EmailCreationSuccess"] = ctx.text("email_sent")


def _book_sale(ctx: Ctx, sale: Sale) -> None:
    header = sale.header
    ctx.insert(
        RECEIVABLES,
        {
            "HID": _receivable_hid(ctx),
            "Account": sale.account["ID"],
            "AccountCode": sale.account["Code"],
            "AccountName": sale.account["Name"],
            "AmountDC": sale.total,
            "AmountFC": sale.total,
            "TransactionAmountDC": sale.total,
            "TransactionAmountFC": sale.total,
            "Currency": header.get("Currency"),
            "Description": header.get("Description"),
            "DueDate": sale.due,
            "EndDate": sale.due,
            "EntryNumber": sale.number,
            "EntryID": sale.entry_id,
            "InvoiceNumber": sale.invoice_number,
            "InvoiceDate": sale.date,
            "IsFullyPaid": sale.total == 0,
            "Journal": sale.journal["Code"],
            "JournalDescription": sale.journal.get("Description"),
            "LastPaymentDate": None,
            "PaymentCondition": header.get("PaymentCondition"),
            "PaymentMethod": "B",
            "PaymentReference": header.get("PaymentReference"),
            "Status": OPEN,
            "TransactionEntryID": sale.entry_id,
            "TransactionID": sale.entry_id,
            "TransactionType": 21 if sale.credit else 20,
            "YourRef": header.get("YourRef"),
            "Document": header.get("Document"),
        },
    )
    vat_by_code: dict[str, Decimal] = {}
    ledger = [(sale.journal.get("GLAccount"), sale.total, sale.account, None, None)]
    for line in sale.lines:
        ledger.append((line["GLAccount"], -line["AmountDC"], None, line, line.get("Description")))
        if line.get("VATCode") and line["VATAmountDC"]:
            code = line["VATCode"]
            vat_by_code[code] = vat_by_code.get(code, Decimal(0)) + line["VATAmountDC"]
    for code, vat in vat_by_code.items():
        vat_code = ctx.find(VAT_CODES, "Code", code, trim=True) or {}
        ledger.append((vat_code.get("GLToPay"), -vat, None, None, vat_code.get("Description")))
    _post_ledger(
        ctx, sale.entry_id, 21 if sale.credit else 20, sale.number, sale.date, sale, ledger
    )
    if header.get("Document") and (document := ctx.get(DOCUMENTS, header["Document"])):
        document.update(
            FinancialTransactionEntryID=sale.entry_id, SalesInvoiceNumber=sale.invoice_number
        )
        ctx.touch(document)


LedgerRow = tuple[str | None, Decimal, Record | None, Record | None, str | None]


def _post_ledger(
    ctx: Ctx,
    entry_id: str,
    kind: int,
    number: int,
    date: datetime,
    sale: Sale | None,
    rows: list[LedgerRow],
) -> None:
    """Transaction lines: LineNumber 0 is the counter-booking (debtor or bank), then lines.
    Debit positive, credit negative."""
    header = sale.header if sale else {}
    for number_in_entry, (gl_id, amount, account, line, description) in enumerate(rows):
        gl = ctx.get(GL_ACCOUNTS, gl_id) if gl_id else None
        ctx.insert(
            TRANSACTION_LINES,
            {
                "EntryID": entry_id,
                "EntryNumber": number,
                "LineNumber": number_in_entry,
                "Type": kind,
                "Date": date,
                "FinancialYear": sale.period[0] if sale else date.year,
                "FinancialPeriod": sale.period[1] if sale else date.month,
                "JournalCode": sale.journal["Code"] if sale else None,
                "GLAccount": gl_id,
                "GLAccountCode": gl["Code"] if gl else None,
                "Account": account["ID"] if account else None,
                "AccountCode": account["Code"] if account else None,
                "AccountName": account["Name"] if account else None,
                "AmountDC": amount,
                "AmountFC": amount,
                "AmountVATFC": -line["VATAmountFC"] if line else None,
                "VATCode": line.get("VATCode") if line else None,
                "Currency": header.get("Currency", "EUR"),
                "Description": description or header.get("Description"),
                "InvoiceNumber": sale.invoice_number if sale else None,
                "YourRef": header.get("YourRef"),
                "DueDate": sale.due if sale else None,
                "Document": header.get("Document"),
                "Status": PAID,
            },
        )


def _exact_pdf(ctx: Ctx, sale: Sale) -> Record:
    subject_key = "credit_note_subject" if sale.credit else "invoice_subject"
    document_type = ctx.get(DOCUMENT_TYPES, SALES_DOCUMENT_TYPE) or {}
    document = {
        "Subject": ctx.text(subject_key, number=sale.number),
        "Type": SALES_DOCUMENT_TYPE,
        "TypeDescription": document_type.get("Description"),
        "Account": sale.account["ID"],
        "AccountName": sale.account["Name"],
        "DocumentDate": sale.date,
        "AmountFC": sale.total,
        "Currency": sale.header.get("Currency"),
        "FinancialTransactionEntryID": sale.entry_id,
        "SalesInvoiceNumber": sale.number,
    }
    ctx.insert(DOCUMENTS, document)
    document_numbering(ctx, document, [])
    pdf = render_invoice_pdf(document["Subject"], sale.account["Name"], sale.date, sale.lines)
    attachment = {
        "Document": document["ID"],
        "FileName": f"{sale.number}.pdf",
        "Attachment": base64.b64encode(pdf).decode(),
    }
    ctx.insert(ATTACHMENTS, attachment)
    attachment_file(ctx, attachment, [])
    return document


# payments --------------------------------------------------------------------------------
def bank_entry_booked(ctx: Ctx, entry: Record, lines: list[Record]) -> None:
    journal = _journal(ctx, entry["JournalCode"])
    total = sum((line["AmountDC"] for line in lines), Decimal(0))
    ledger: list[LedgerRow] = [(journal.get("GLAccount"), total, None, None, None)]
    for line in lines:
        _settle(ctx, entry, line)
        account = ctx.get(ACCOUNTS, line["Account"]) if line.get("Account") else None
        ledger.append(
            (line["GLAccount"], -line["AmountDC"], account, None, line.get("Description"))
        )
    _post_ledger(ctx, entry["EntryID"], 40, entry["EntryNumber"], lines[0]["Date"], None, ledger)


def _settle(ctx: Ctx, entry: Record, line: Record) -> None:
    """Match a receipt to the customer's open item with that invoice number: fully when the
    amounts agree, partially (splitting the item; the rest stays open) when it is less."""
    gl = ctx.get(GL_ACCOUNTS, line["GLAccount"])
    if not line.get("Account") or line.get("OurRef") is None or not gl or gl["Type"] != 20:
        return
    paid = line["AmountDC"]
    for item in sorted(ctx.rows(RECEIVABLES), key=lambda r: r["Created"]):
        if (
            item["Account"] != line["Account"]
            or item["IsFullyPaid"]
            or line["OurRef"] not in (item["InvoiceNumber"], item["EntryNumber"])
        ):
            continue
        outstanding = item["AmountDC"]
        settled = {
            "IsFullyPaid": True,
            "Status": PAID,
            "LastPaymentDate": line["Date"],
            "EntryID": entry["EntryID"],
        }
        if paid == outstanding:
            item.update(settled)
            ctx.touch(item)
            return
        if paid * outstanding > 0 and abs(paid) < abs(outstanding):
            item.update(
                AmountDC=outstanding - paid,
                AmountFC=outstanding - paid,
                LastPaymentDate=line["Date"],
            )
            ctx.touch(item)
            keep = {k: v for k, v in item.items() if k not in ("ID", "Timestamp", "Created")}
            paid_part = {"AmountDC": paid, "AmountFC": paid, "HID": _receivable_hid(ctx)}
            ctx.insert(RECEIVABLES, keep | settled | paid_part)
            return


def _receivable_hid(ctx: Ctx) -> int:
    """The open item's number in read/financial/ReceivablesList (stored, not served on
    cashflow/Receivables, which documents no such field)."""
    return ctx.store.next_number(f"{ctx.division}:receivables", 1, set())


def receivables_list(_ctx: Ctx, rows: list[Record]) -> list[Record]:
    """read/financial/ReceivablesList: the open items, in that endpoint's own field names."""
    return [
        {
            "HID": row.get("HID"),
            "Id": row["ID"],
            "AccountId": row["Account"],
            "AccountCode": row["AccountCode"],
            "AccountName": row["AccountName"],
            "Amount": row["AmountDC"],
            "AmountInTransit": Decimal(0),
            "CurrencyCode": row["Currency"],
            "Description": row["Description"],
            "DueDate": row["DueDate"],
            "EntryNumber": row["EntryNumber"],
            "InvoiceDate": row["InvoiceDate"],
            "InvoiceNumber": row["InvoiceNumber"],
            "JournalCode": row.get("Journal"),
            "JournalDescription": row.get("JournalDescription"),
            "YourRef": row["YourRef"],
        }
        for row in rows
        if not row["IsFullyPaid"]
    ]


def bank_entry_removed(ctx: Ctx, entry: Record) -> None:
    """Deleting a bank entry undoes what its lines settled: a split-off paid part joins its
    item's open rest again (the part is deleted: a tombstone in sync/Deleted), an item it paid
    in full is open again; its ledger lines go."""
    for item in [r for r in ctx.rows(RECEIVABLES) if r["EntryID"] == entry["EntryID"]]:
        rest = next(
            (
                r
                for r in ctx.rows(RECEIVABLES)
                if r["TransactionEntryID"] == item["TransactionEntryID"]
                and r["Account"] == item["Account"]
                and not r["IsFullyPaid"]
            ),
            None,
        )
        if rest is not None:
            amount = rest["AmountDC"] + item["AmountDC"]
            rest.update(AmountDC=amount, AmountFC=amount)
            ctx.touch(rest)
            ctx.remove(RECEIVABLES, item)
        else:
            item.update(
                IsFullyPaid=False,
                Status=OPEN,
                LastPaymentDate=None,
                EntryID=item["TransactionEntryID"],
            )
            ctx.touch(item)
    for line in [r for r in ctx.rows(TRANSACTION_LINES) if r["EntryID"] == entry["EntryID"]]:
        ctx.remove(TRANSACTION_LINES, line)


def transaction_removed(ctx: Ctx, entry: Record) -> None:
    """Deleting a sales entry removes its open item and ledger lines, unless paid against."""
    for item in _refuse_when_paid(ctx, entry):
        ctx.remove(RECEIVABLES, item)
    for line in [r for r in ctx.rows(TRANSACTION_LINES) if r["EntryID"] == entry["EntryID"]]:
        ctx.remove(TRANSACTION_LINES, line)


# periods --------------------------------------------------------------------------------
OPEN_PERIOD, CLOSED_PERIOD = 0, 1


def period_id(journal: str, year: int, period: int) -> str:
    """The store key of a closed period (JournalStatusList's key has three fields)."""
    return f"{journal.strip()}|{year}|{period}"


def refuse_closed_period(ctx: Ctx, journal: str, year: int, period: int) -> None:
    """Exact refuses a booking into a closed period (a business rule: 500)."""
    if ctx.get(JOURNAL_STATUS, period_id(journal, year, period)) is not None:
        raise ctx.fail(ctx.text("period_closed", journal=journal.strip(), year=year, period=period))


def set_period_status(ctx: Ctx, journal: str, year: int, period: int, closed: bool) -> None:
    """The admin API's switch: close a period (stored) or open it again (removed)."""
    key = period_id(journal, year, period)
    existing = ctx.get(JOURNAL_STATUS, key)
    if closed and existing is None:
        record = {"ID": key, "Journal": journal.strip(), "Year": year, "Period": period}
        ctx.insert(JOURNAL_STATUS, record | {"Status": CLOSED_PERIOD})
    elif not closed and existing is not None:
        ctx.remove(JOURNAL_STATUS, existing)


def journal_status_list(ctx: Ctx, closed: list[Record]) -> list[Record]:
    """read/financial/JournalStatusList: every period (1-12) of last year, this year and any
    year with a closed period, per journal; open unless closed through the admin API.
    Descriptions are the reference's value labels."""
    documented = reference.entity(JOURNAL_STATUS)["fields"]
    type_labels = documented["JournalType"]["values"]
    status_labels = documented["Status"]["values"]
    closed_ids = {row["ID"] for row in closed}
    years = sorted({ctx.now.year - 1, ctx.now.year} | {row["Year"] for row in closed})
    rows: list[Record] = []
    for journal in ctx.rows(JOURNALS):
        code = journal["Code"].strip()
        for year in years:
            for period in range(1, 13):
                status = (
                    CLOSED_PERIOD if period_id(code, year, period) in closed_ids else OPEN_PERIOD
                )
                rows.append(
                    {
                        "Journal": code,
                        "JournalDescription": journal["Description"],
                        "JournalType": journal["Type"],
                        "JournalTypeDescription": type_labels.get(str(journal["Type"])),
                        "Year": year,
                        "Period": period,
                        "Status": status,
                        "StatusDescription": status_labels[str(status)],
                    }
                )
    return rows


def _refuse_when_paid(ctx: Ctx, entry: Record, message: str = "payments_matched") -> list[Record]:
    """The entry's open items; refused when payments are matched against any of them."""
    items = [r for r in ctx.rows(RECEIVABLES) if r["TransactionEntryID"] == entry["EntryID"]]
    if any(r["Status"] == PAID or r["AmountDC"] != r["TransactionAmountDC"] for r in items):
        raise ctx.fail(ctx.text(message))
    return items


def _journal(ctx: Ctx, code: str) -> Record:
    return _found(ctx.find(JOURNALS, "Code", code, trim=True))


def _get(ctx: Ctx, path: str, key: Any) -> Record:
    return _found(ctx.get(path, key))


def _found(record: Record | None) -> Record:
    # References were validated before the hooks ran.
    assert record is not None
    return record
