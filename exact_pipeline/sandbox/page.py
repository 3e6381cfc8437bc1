"""The page for humans: what "the Exact side" holds after a sync, per division."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from decimal import Decimal
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from exact_pipeline.sandbox.core import Sandbox
from exact_pipeline.sandbox.html import e, layout, table
from exact_pipeline.sandbox.schema import Record
from exact_pipeline.sandbox.store import GLOBAL

ACCOUNTS = "crm/Accounts"
ENTRIES, ENTRY_LINES = "salesentry/SalesEntries", "salesentry/SalesEntryLines"
INVOICES, INVOICE_LINES = "salesinvoice/SalesInvoices", "salesinvoice/SalesInvoiceLines"
DOCUMENTS, ATTACHMENTS = "documents/Documents", "documents/DocumentAttachments"
RECEIVABLES = "cashflow/Receivables"
BANK, BANK_LINES = "financialtransaction/BankEntries", "financialtransaction/BankEntryLines"
INVOICE_STATUS = {10: "draft", 20: "open", 50: "processed"}


def _money(value: Any) -> str:
    return "" if value is None else f"{Decimal(value):,.2f}"


def _date(value: Any) -> str:
    return value.strftime("%Y-%m-%d") if isinstance(value, datetime) else ""


def _num(value: Any) -> str:
    return f"<td class=num>{e(value)}</td>"


def _by(rows: list[Record], field: str) -> dict[Any, list[Record]]:
    grouped: dict[Any, list[Record]] = {}
    for row in sorted(rows, key=lambda r: r.get("LineNumber") or 0):
        grouped.setdefault(row.get(field), []).append(row)
    return grouped


def _pill(paid: bool) -> str:
    return "<span class='pill paid'>paid</span>" if paid else "<span class='pill open'>open</span>"


def _cards(items: list[tuple[str, object]]) -> str:
    return (
        "<div class='cards'>"
        + "".join(
            f"<div class='card'><div class='n'>{e(n)}</div><div class='l'>{e(label)}</div></div>"
            for label, n in items
        )
        + "</div>"
    )


async def index(request: Request) -> Response:
    sandbox: Sandbox = request.app.state.sandbox
    with sandbox.lock:
        divisions = {r["Code"]: r for r in sandbox.store.rows(GLOBAL, "system/Divisions")}
        usage = sandbox.limiter.snapshot(sandbox.clock.epoch(), sandbox.config)
        rows = []
        for code in sandbox.store.divisions():
            receivables = sandbox.store.rows(code, RECEIVABLES)
            invoices = sandbox.store.rows(code, INVOICES)
            used = usage.get(str(code), {})
            access = (
                ""
                if code in sandbox.world.user.divisions
                else " <span class=muted>(no access)</span>"
            )
            rows.append(
                f"<tr><td><a href='/divisions/{code}'>{code}</a></td>"
                f"<td>{e(divisions.get(code, {}).get('Description'))}{access}</td>"
                + _num(len(sandbox.store.rows(code, ACCOUNTS)))
                + _num(len(sandbox.store.rows(code, ENTRIES)))
                + _num(f"{sum(i['Status'] == 50 for i in invoices)} / {len(invoices)}")
                + _num(len(sandbox.store.rows(code, DOCUMENTS)))
                + _num(sum(not r["IsFullyPaid"] for r in receivables))
                + _num(sum(r["IsFullyPaid"] for r in receivables))
                + _num(f"{used.get('daily_used', 0)} / {sandbox.config.daily_limit}")
                + _num(f"{used.get('minutely_used', 0)} / {sandbox.config.minutely_limit}")
                + "</tr>"
            )
        log = sandbox.requests.snapshot()
        clock = sandbox.clock.now()
        emails = len(sandbox.outbox)
    body = (
        "<h1>Administrations</h1>"
        + _cards(
            [
                ("requests answered", log["total"]),
                ("e-mails sent by Exact", emails),
                ("sandbox clock (UTC)", clock.strftime("%Y-%m-%d %H:%M")),
            ]
        )
        + "<h2>Divisions</h2>"
        + table(
            [
                "Division",
                "Name",
                "Accounts",
                "Sales entries",
                "Invoices processed / all",
                "Documents",
                "Open items",
                "Paid items",
                "Calls today",
                "Calls this window",
            ],
            rows,
            numeric={2, 3, 4, 5, 6, 7, 8, 9},
        )
        + _requests_section(log)
    )
    return HTMLResponse(layout("Exact Online sandbox", body))


def _requests_section(log: dict, division: int | None = None) -> str:
    if division is None:
        counts = log["by_endpoint"]
    else:
        counts = log["by_division_endpoint"].get(str(division), {})
    by_endpoint = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    recent = [entry for entry in reversed(log["log"]) if division in (None, entry["division"])]
    statuses = Counter(str(entry["status"] or "dropped") for entry in recent)
    summary = " · ".join(f"{status} × {n}" for status, n in sorted(statuses.items()))
    return (
        "<h2>Requests by endpoint</h2>"
        + table(
            ["Endpoint", "Calls"],
            [f"<tr><td>{e(k)}</td>{_num(n)}</tr>" for k, n in by_endpoint],
            numeric={1},
        )
        + f"<h2>Recent requests <span class='muted'>{e(summary)}</span></h2>"
        + table(
            ["At (UTC)", "Method", "Path", "Status", "Fault"],
            [
                f"<tr><td>{e(r['at'][:19])}</td><td>{e(r['method'])}</td><td>{e(r['path'])}</td>"
                f"<td>{e(r['status'] if r['status'] is not None else 'dropped')}</td>"
                f"<td>{e(r['fault'] or '')}</td></tr>"
                for r in recent[:25]
            ],
        )
    )


async def division_page(request: Request) -> Response:
    sandbox: Sandbox = request.app.state.sandbox
    code = request.path_params["division"]
    with sandbox.lock:
        if code not in sandbox.store.divisions():
            return HTMLResponse(layout("Unknown division", "<h1>Unknown division</h1>"), 404)
        data = {
            path: list(sandbox.store.rows(code, path))
            for path in (
                ACCOUNTS,
                ENTRIES,
                ENTRY_LINES,
                INVOICES,
                INVOICE_LINES,
                DOCUMENTS,
                ATTACHMENTS,
                RECEIVABLES,
                BANK,
                BANK_LINES,
            )
        }
        name = next(
            (
                r["Description"]
                for r in sandbox.store.rows(GLOBAL, "system/Divisions")
                if r["Code"] == code
            ),
            "",
        )
        usage = sandbox.limiter.snapshot(sandbox.clock.epoch(), sandbox.config).get(str(code), {})
        log = sandbox.requests.snapshot()
    receivables = data[RECEIVABLES]
    body = (
        f"<h1>{code} - {e(name)}</h1>"
        + _cards(
            [
                ("accounts", len(data[ACCOUNTS])),
                ("sales entries", len(data[ENTRIES])),
                ("sales invoices", len(data[INVOICES])),
                ("documents", len(data[DOCUMENTS])),
                ("open items", sum(not r["IsFullyPaid"] for r in receivables)),
                ("paid items", sum(r["IsFullyPaid"] for r in receivables)),
                ("calls today", usage.get("daily_used", 0)),
                ("calls left today", usage.get("daily_remaining", sandbox.config.daily_limit)),
            ]
        )
        + _entries(data)
        + _invoices(data)
        + _documents(code, data)
        + _receivables(receivables)
        + _bank(data)
        + _accounts(data[ACCOUNTS])
        + _requests_section(log, division=code)
    )
    return HTMLResponse(layout(f"Exact Online sandbox - {code}", body))


def _booked_documents(data: dict[str, list[Record]]) -> dict[Any, list[Record]]:
    return _by(data[DOCUMENTS], "FinancialTransactionEntryID")


def _attached_by_client(data: dict[str, list[Record]]) -> set[Any]:
    """The documents an invoice or entry names in `Document`: the billing PDFs the pipeline
    uploaded. Every other document booked against a sale is the one Exact rendered itself when
    the invoice was processed (PrintedSalesInvoices)."""
    return {r["Document"] for path in (ENTRIES, INVOICES) for r in data[path] if r.get("Document")}


def _doc_links(record: Record, key: str, booked: dict[Any, list[Record]]) -> str:
    """The billing PDF the record names, then Exact's own PDF booked against it."""
    ours = record.get("Document")
    links = [f"<a href='#doc-{e(ours)}'>billing PDF</a>"] if ours else []
    links += [
        f"<a href='#doc-{e(d['ID'])}'>Exact's PDF</a>"
        for d in booked.get(record[key], [])
        if d["ID"] != ours
    ]
    return " · ".join(links)


def _entries(data: dict[str, list[Record]]) -> str:
    lines = _by(data[ENTRY_LINES], "EntryID")
    booked = _booked_documents(data)
    rows = []
    for entry in sorted(data[ENTRIES], key=lambda r: r["EntryNumber"]):
        kind = "credit note" if entry["Type"] == 21 else "invoice"
        rows.append(
            f"<tr id='entry-{e(entry['EntryID'])}'>{_num(entry['EntryNumber'])}"
            f"<td>{_date(entry['EntryDate'])}</td><td>{e(entry.get('CustomerName'))}</td>"
            f"<td>{e(entry.get('YourRef'))}</td><td>{e(entry.get('Description'))}</td>"
            f"<td>{kind}</td>{_num(_money(entry['AmountFC'] - entry['VATAmountFC']))}"
            f"{_num(_money(entry['VATAmountFC']))}{_num(_money(entry['AmountFC']))}"
            f"<td>{_doc_links(entry, 'EntryID', booked)}</td></tr>"
        )
        rows.extend(
            f"<tr class='sub'><td></td><td colspan=2>GL {e(line.get('GLAccountCode'))} "
            f"· VAT {e((line.get('VATCode') or '').strip())}</td>"
            f"<td colspan=3>{e(line.get('Description'))}</td>{_num(_money(line['AmountFC']))}"
            f"{_num(_money(line['VATAmountFC']))}<td></td><td></td></tr>"
            for line in lines.get(entry["EntryID"], [])
        )
    headers = [
        "Entry",
        "Date",
        "Customer",
        "Your ref",
        "Description",
        "Type",
        "Excl. VAT",
        "VAT",
        "Total",
        "PDFs",
    ]
    return f"<h2>Sales entries ({len(data[ENTRIES])})</h2>" + table(headers, rows, {0, 6, 7, 8})


def _invoices(data: dict[str, list[Record]]) -> str:
    lines = _by(data[INVOICE_LINES], "InvoiceID")
    booked = _booked_documents(data)
    rows = []
    for invoice in sorted(
        data[INVOICES], key=lambda r: (r.get("InvoiceNumber") or 0, r["Created"])
    ):
        rows.append(
            f"<tr>{_num(invoice.get('InvoiceNumber') or '')}"
            f"<td>{_date(invoice.get('InvoiceDate'))}</td>"
            f"<td>{e(invoice.get('OrderedByName'))}</td><td>{e(invoice.get('YourRef'))}</td>"
            f"<td>{e(INVOICE_STATUS.get(invoice['Status'], invoice['Status']))}</td>"
            f"<td>{'credit note' if invoice['Type'] in (8021, 8024) else 'invoice'}</td>"
            f"{_num(_money(invoice['AmountFCExclVat']))}{_num(_money(invoice['VATAmountFC']))}"
            f"{_num(_money(invoice['AmountFC']))}"
            f"<td>{_doc_links(invoice, 'InvoiceID', booked)}</td></tr>"
        )
        rows.extend(
            f"<tr class='sub'><td></td><td colspan=2>{e(line.get('ItemCode'))} "
            f"· VAT {e((line.get('VATCode') or '').strip())}</td>"
            f"<td colspan=3>{e(line.get('Description'))} × {e(line.get('Quantity'))}</td>"
            f"{_num(_money(line['AmountFC']))}{_num(_money(line['VATAmountFC']))}<td></td><td></td></tr>"
            for line in lines.get(invoice["InvoiceID"], [])
        )
    headers = [
        "Number",
        "Date",
        "Customer",
        "Your ref",
        "Status",
        "Type",
        "Excl. VAT",
        "VAT",
        "Total",
        "PDFs",
    ]
    return f"<h2>Sales invoices ({len(data[INVOICES])})</h2>" + table(headers, rows, {0, 6, 7, 8})


def _documents(code: int, data: dict[str, list[Record]]) -> str:
    attachments = _by(data[ATTACHMENTS], "Document")
    ours = _attached_by_client(data)
    rows = []
    for doc in sorted(data[DOCUMENTS], key=lambda r: r["HID"]):
        files = " ".join(
            f"<a href='/_sandbox/attachments/{code}/{e(a['ID'])}'>{e(a['FileName'])}</a> "
            f"<span class='muted'>({int(a['FileSize']):,} bytes)</span>"
            for a in attachments.get(doc["ID"], [])
        )
        rows.append(
            f"<tr id='doc-{e(doc['ID'])}'>{_num(doc['HID'])}<td>{e(doc['Subject'])}</td>"
            f"<td>{e(doc.get('TypeDescription') or doc['Type'])}</td>"
            f"<td>{_origin(doc, ours)}</td><td>{e(doc.get('AccountName'))}</td>"
            f"<td>{_date(doc.get('DocumentDate'))}</td>{_num(doc.get('SalesInvoiceNumber') or '')}"
            f"<td>{files or '<span class=muted>no file</span>'}</td></tr>"
        )
    headers = ["#", "Subject", "Type", "Made by", "Account", "Date", "Booked as", "Files"]
    return f"<h2>Documents ({len(data[DOCUMENTS])})</h2>" + table(headers, rows, {0, 6})


def _origin(doc: Record, ours: set[Any]) -> str:
    if doc["ID"] in ours:
        return "billing PDF <span class='muted'>(uploaded by the pipeline)</span>"
    if doc.get("FinancialTransactionEntryID"):
        return "Exact's PDF <span class='muted'>(rendered when the invoice was processed)</span>"
    return ""


def _receivables(receivables: list[Record]) -> str:
    rows = [
        f"<tr>{_num(r['InvoiceNumber'])}<td>{e(r['AccountName'])}</td><td>{e(r.get('YourRef'))}</td>"
        f"{_num(_money(r['TransactionAmountDC']))}{_num(_money(r['AmountDC']))}"
        f"<td>{_date(r.get('DueDate'))}</td><td>{_pill(r['IsFullyPaid'])}</td>"
        f"<td>{_date(r.get('LastPaymentDate'))}</td></tr>"
        for r in sorted(receivables, key=lambda r: (r["InvoiceNumber"], r["Created"]))
    ]
    headers = [
        "Invoice",
        "Customer",
        "Your ref",
        "Invoice total",
        "This item",
        "Due",
        "Status",
        "Last payment",
    ]
    return f"<h2>Receivables ({len(receivables)})</h2>" + table(headers, rows, {0, 3, 4})


def _bank(data: dict[str, list[Record]]) -> str:
    lines = _by(data[BANK_LINES], "EntryID")
    rows = [
        f"<tr>{_num(entry['EntryNumber'])}<td>{_date(line.get('Date'))}</td>"
        f"<td>{e(line.get('AccountName'))}</td>{_num(line.get('OurRef') or '')}"
        f"<td>{e(line.get('Description'))}</td>{_num(_money(line['AmountFC']))}</tr>"
        for entry in sorted(data[BANK], key=lambda r: r["EntryNumber"])
        for line in lines.get(entry["EntryID"], [])
    ]
    headers = ["Entry", "Date", "Customer", "Our ref (invoice)", "Description", "Amount"]
    return f"<h2>Bank entries ({len(data[BANK])})</h2>" + table(headers, rows, {0, 3, 5})


def _accounts(accounts: list[Record]) -> str:
    rows = [
        f"<tr><td>{e(a['Code'].strip())}</td><td>{e(a['Name'])}</td><td>{e(a.get('Email'))}</td>"
        f"<td>{e(a.get('VATNumber'))}</td><td>{e(a.get('Country'))}</td><td>{_date(a['Created'])}</td></tr>"
        for a in sorted(accounts, key=lambda a: a["Code"])
    ]
    headers = ["Code", "Name", "E-mail", "VAT number", "Country", "Created"]
    return f"<h2>Accounts ({len(accounts)})</h2>" + table(headers, rows)
