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
BANK_ENTRIES = "financialtransaction/BankEntries"
RECEIVABLES = "cashflow/Receivables"
TRANSACTION_LINES = "financialtransaction/TransactionLines"

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


def money(value: Any) -> Decimal:
    return Decimal(value).quantize(CENT, ROUND_HALF_UP)


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
def _line_vat(line: Record, amount: Decimal, rate: Decimal) -> None:
    """Line VAT from its code's percentage unless the line overrides `VATAmountFC`."""
    override = line.get("VATAmountFC")
    vat = (
        money(override) if override is not None else money(amount * _dec(line.get("VATPercentage")))
    )
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
    rate = _dec(entry.get("Rate") or 1)
    for line in lines:
        _line_vat(line, money(line["AmountFC"]), rate)
        line["VATBaseAmountFC"] = line["AmountFC"]
    excl = sum((line["AmountFC"] for line in lines), Decimal(0))
    header_vat = entry.get("VATAmountFC")
    vat = (
        money(header_vat)
        if header_vat is not None
        else sum((line["VATAmountFC"] for line in lines), Decimal(0))
    )
    date = entry["EntryDate"]
    entry.update(
        VATAmountFC=vat,
        VATAmountDC=money(vat * rate),
        AmountFC=excl + vat,
        AmountDC=money((excl + vat) * rate),
        Type=21 if excl + vat < 0 else 20,
        Status=OPEN,
        EntryNumber=journal_number(ctx, entry["Journal"], entry.get("EntryNumber"), date),
    )
    entry["InvoiceNumber"] = entry["EntryNumber"]
    entry["ReportingYear"] = entry.get("ReportingYear") or date.year
    entry["ReportingPeriod"] = entry.get("ReportingPeriod") or date.month
    entry["DueDate"] = entry.get("DueDate") or _due_date(ctx, entry.get("PaymentCondition"), date)


def sales_invoice_amounts(ctx: Ctx, invoice: Record, lines: list[Record]) -> None:
    for line in lines:
        net = _dec(line.get("UnitPrice")) * (1 - _dec(line.get("Discount")))
        line["NetPrice"] = net
        _line_vat(line, money(_dec(line.get("Quantity")) * net), Decimal(1))
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


def bank_entry_amounts(ctx: Ctx, entry: Record, lines: list[Record]) -> None:
    for line in lines:
        line["AmountFC"] = money(line["AmountFC"])
        line["AmountDC"] = line["AmountFC"]
        line["Date"] = line.get("Date") or ctx.today
    date = lines[0]["Date"]
    entry["EntryNumber"] = journal_number(ctx, entry["JournalCode"], entry.get("EntryNumber"), date)
    entry["FinancialYear"] = entry.get("FinancialYear") or date.year
    entry["FinancialPeriod"] = entry.get("FinancialPeriod") or date.month
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
    number: int
    date: datetime
    due: datetime
    account: Record
    header: Record  # YourRef, Description, Currency, Document, PaymentCondition, …
    lines: list[Record]
    total: Decimal


def sales_entry_booked(ctx: Ctx, entry: Record, lines: list[Record]) -> None:
    _book_sale(
        ctx,
        Sale(
            entry_id=entry["EntryID"],
            credit=entry["Type"] == 21,
            journal=_journal(ctx, entry["Journal"]),
            number=entry["EntryNumber"],
            date=entry["EntryDate"],
            due=entry["DueDate"],
            account=_get(ctx, ACCOUNTS, entry["Customer"]),
            header=entry,
            lines=lines,
            total=entry["AmountDC"],
        ),
    )


def invoice_processed(ctx: Ctx, printed: Record, _lines: list[Record]) -> None:
    """PrintedSalesInvoices: number and book the invoice, make Exact's own PDF, maybe mail it."""
    invoice = _get(ctx, SALES_INVOICES, printed["InvoiceID"])
    if invoice["Status"] == PAID:
        raise ctx.fail(ctx.text("processed"))
    date = printed.get("InvoiceDate") or ctx.today
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
        date=date,
        due=invoice["DueDate"],
        account=account,
        header=invoice,
        lines=lines,
        total=invoice["AmountDC"],
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
            "InvoiceNumber": sale.number,
            "InvoiceDate": sale.date,
            "IsFullyPaid": sale.total == 0,
            "JournalCode": sale.journal["Code"],
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
        document.update(FinancialTransactionEntryID=sale.entry_id, SalesInvoiceNumber=sale.number)
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
                "FinancialYear": date.year,
                "FinancialPeriod": date.month,
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
                "InvoiceNumber": number if sale else None,
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
            ctx.insert(RECEIVABLES, keep | settled | {"AmountDC": paid, "AmountFC": paid})
            return


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
    items = [r for r in ctx.rows(RECEIVABLES) if r["TransactionEntryID"] == entry["EntryID"]]
    if any(r["Status"] == PAID or r["AmountDC"] != r["TransactionAmountDC"] for r in items):
        raise ctx.fail(ctx.text("payments_matched"))
    for item in items:
        ctx.remove(RECEIVABLES, item)
    for line in [r for r in ctx.rows(TRANSACTION_LINES) if r["EntryID"] == entry["EntryID"]]:
        ctx.remove(TRANSACTION_LINES, line)


def _journal(ctx: Ctx, code: str) -> Record:
    return _found(ctx.find(JOURNALS, "Code", code, trim=True))


def _get(ctx: Ctx, path: str, key: Any) -> Record:
    return _found(ctx.get(path, key))


def _found(record: Record | None) -> Record:
    # References were validated before the hooks ran.
    assert record is not None
    return record
