"""Two months of the demo company through the engine: every document lands in the sandbox to
the cent, with its PDF, booked without e-mail; a second run posts nothing."""

from __future__ import annotations

import base64
from collections import Counter
from datetime import date, datetime
from decimal import Decimal

import psycopg

from exact_pipeline.billing.read import read_documents
from exact_pipeline.demo.seed import seed_billing
from exact_pipeline.sync.core.window import Window
from exact_pipeline_tests.exact.conftest import BE, NL, SandboxAdmin
from exact_pipeline_tests.sync.builder import AMSTERDAM, Billing
from exact_pipeline_tests.sync.conftest import EngineFactory

TODAY = date(2026, 11, 23)
WINDOW = Window(datetime(2026, 9, 1, tzinfo=AMSTERDAM), datetime(2026, 11, 24, tzinfo=AMSTERDAM))


def posts(admin: SandboxAdmin) -> dict[str, int]:
    counts = admin.requests()["by_endpoint"]
    return {key: n for key, n in counts.items() if key.startswith("POST ")}


def test_two_months_land_to_the_cent_with_pdfs_and_a_rerun_posts_nothing(
    billing: Billing, make_engine: EngineFactory, admin: SandboxAdmin
) -> None:
    seed_billing(billing.url, customers=10, months=2, today=TODAY, reset=True)
    with psycopg.connect(billing.url) as conn:
        documents = read_documents(conn, WINDOW.start, WINDOW.end)
    engine = make_engine()

    admin.clear_requests()
    preview = engine.stage(WINDOW)
    assert admin.requests()["total"] == 0  # a preview costs no call
    blocked = {
        d.number
        for d in documents
        if any(line.product and line.product.id == "prod_beta_ai" for line in d.lines)
    }
    assert preview.counts["blocked"] == len(blocked)
    assert preview.counts["staged"] == len(documents) - len(blocked)

    admin.clear_requests()
    report = engine.push_documents(WINDOW)

    pushed = [d for d in documents if d.number not in blocked]
    assert report.counts["pushed"] == len(pushed) and report.counts["failed"] == 0, report.rows
    assert report.stopped is None
    # 4 calls a document: Document, attachment, invoice with its lines, booking.
    calls = posts(admin)
    for endpoint in (
        "documents/Documents",
        "documents/DocumentAttachments",
        "salesinvoice/SalesInvoices",
        "salesinvoice/PrintedSalesInvoices",
    ):
        assert calls.pop(f"POST {endpoint}") == len(pushed), endpoint
    created_accounts = calls.pop("POST crm/Accounts", 0)
    assert calls == {}
    log = admin.requests()["by_division"]
    assert report.api_calls == {NL: log.get(str(NL), 0), BE: log.get(str(BE), 0)}

    invoices = {
        division: {r["YourRef"]: r for r in admin.store(division, "salesinvoice/SalesInvoices")}
        for division in (NL, BE)
    }
    attachments = {
        division: {r["Document"]: r for r in admin.store(division, "documents/DocumentAttachments")}
        for division in (NL, BE)
    }
    for document in pushed:
        division = NL if document.entity.id == "ent_nl" else BE
        invoice = invoices[division][document.number]
        assert Decimal(invoice["AmountFC"]) == Decimal(document.total_amount) / 100
        assert Decimal(invoice["VATAmountFC"]) == Decimal(document.tax_amount) / 100
        assert Decimal(invoice["AmountFCExclVat"]) == Decimal(document.amount_excluding_tax) / 100
        assert invoice["Status"] == 50 and invoice["Type"] == 8020
        assert invoice["InvoiceDate"].startswith(
            document.issued_at.astimezone(AMSTERDAM).date().isoformat()
        )
        pdf = attachments[division][invoice["Document"]]
        assert document.pdf is not None
        assert base64.b64decode(pdf["Attachment"]) == document.pdf.content
    assert admin.http.get("/_sandbox/outbox").json() == {"emails": []}
    # every customer got exactly one account: known ones linked, the others created once
    names = Counter(
        a["Name"] for division in (NL, BE) for a in admin.store(division, "crm/Accounts")
    )
    assert max(names.values()) == 1
    new_customers = {d.customer.id for d in pushed if not d.customer.id.startswith("cus_known")}
    assert created_accounts == len(new_customers)

    admin.clear_requests()
    again = make_engine().push_documents(WINDOW)
    assert again.counts["already_synced"] == len(pushed)
    assert again.counts["blocked"] == len(blocked)
    assert posts(admin) == {}
