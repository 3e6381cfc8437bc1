"""The page for humans: divisions, documents with their lines and PDFs, receivables, counters."""

from __future__ import annotations

import base64
from decimal import Decimal

from exact_pipeline_tests.sandbox.helpers import NL, ExactClient


def test_index_lists_divisions_with_counts_and_requests(exact: ExactClient) -> None:
    exact.sales_entry("10001", [("8000", Decimal(1))])
    page = exact.http.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "Cloudmeter B.V." in page.text and "Cloudmeter België BV" in page.text
    assert f"href='/divisions/{NL}'" in page.text
    assert "POST salesentry/SalesEntries" in page.text


def test_division_page_shows_entries_lines_documents_and_paid_status(exact: ExactClient) -> None:
    document = exact.created("documents/Documents", {"Subject": "INV-4242", "Type": 10})
    attachment = exact.created(
        "documents/DocumentAttachments",
        {
            "Document": document["ID"],
            "FileName": "INV-4242.pdf",
            "Attachment": base64.b64encode(b"%PDF-").decode(),
        },
    )
    entry = exact.sales_entry(
        "10001",
        [("8000", Decimal("100.00")), ("8010", Decimal("20.00"))],
        YourRef="INV-4242",
        Document=document["ID"],
    )
    page = exact.http.get(f"/divisions/{NL}").text
    for text in (
        "INV-4242",
        str(entry["EntryNumber"]),
        "GL 8010",
        "145.20",
        "INV-4242.pdf",
        "POST salesentry/SalesEntries",
    ):
        assert text in page, text
    assert "pill open" in page and "pill paid" not in page
    link = f"/_sandbox/attachments/{NL}/{attachment['ID']}"
    assert link in page
    assert exact.http.get(link).content == b"%PDF-"
    exact.created(
        "financialtransaction/BankEntries",
        {
            "JournalCode": "20",
            "BankEntryLines": [
                {
                    "Account": entry["Customer"],
                    "OurRef": entry["EntryNumber"],
                    "AmountFC": 145.2,
                    "GLAccount": exact.gl("1300")["ID"],
                }
            ],
        },
    )
    assert "pill paid" in exact.http.get(f"/divisions/{NL}").text
    assert exact.http.get("/divisions/999").status_code == 404


def test_document_view_url_leads_to_the_page(exact: ExactClient) -> None:
    document = exact.created("documents/Documents", {"Subject": "View me", "Type": 10})
    reply = exact.http.get(document["DocumentViewUrl"], follow_redirects=True)
    assert reply.status_code == 200 and "View me" in reply.text


def test_an_invoice_links_our_billing_pdf_and_exacts_own_by_name(exact: ExactClient) -> None:
    ours = exact.created("documents/Documents", {"Subject": "NL-2026-000042", "Type": 10})
    invoice = exact.created(
        "salesinvoice/SalesInvoices",
        {
            "OrderedBy": exact.account("10002")["ID"],
            "SalesInvoiceLines": [{"Item": exact.item("SUB-TEAM")["ID"]}],
            "Document": ours["ID"],
        },
    )
    printed = exact.created(
        "salesinvoice/PrintedSalesInvoices",
        {"InvoiceID": invoice["InvoiceID"], "SendEmailToCustomer": False},
    )
    page = exact.http.get(f"/divisions/{NL}").text
    assert f"<a href='#doc-{ours['ID']}'>billing PDF</a>" in page
    assert f"<a href='#doc-{printed['Document']}'>Exact's PDF</a>" in page
    assert ">document</a>" not in page
    assert "billing PDF <span class='muted'>(uploaded by the pipeline)" in page
    assert "Exact's PDF <span class='muted'>(rendered when the invoice was processed)" in page
