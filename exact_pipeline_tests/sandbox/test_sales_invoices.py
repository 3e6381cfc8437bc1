"""salesinvoice/SalesInvoices and PrintedSalesInvoices: drafts, defaults from items, booking."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import pypdf

from exact_pipeline_tests.sandbox.helpers import ExactClient


def _invoice(exact: ExactClient, lines: list[dict[str, Any]], **extra: Any) -> dict:
    body = {"OrderedBy": exact.account("10002")["ID"], "SalesInvoiceLines": lines} | extra
    return exact.created("salesinvoice/SalesInvoices", body)


def test_lines_default_gl_vat_price_and_description_from_the_item(exact: ExactClient) -> None:
    team, book = exact.item("SUB-TEAM"), exact.item("HW-BOOK")
    invoice = _invoice(
        exact,
        [{"Item": team["ID"], "Quantity": 2}, {"Item": book["ID"], "UnitPrice": 39.00}],
        YourRef="INV-5001",
    )
    lines = invoice["SalesInvoiceLines"]["results"]
    assert [line["GLAccount"] for line in lines] == [team["GLRevenue"], book["GLRevenue"]]
    assert [line["VATCode"] for line in lines] == ["1", "2"]
    assert [line["UnitPrice"] for line in lines] == [99.0, 39.0]
    assert [line["Description"] for line in lines] == [
        "Team plan (monthly)",
        "Handbook (printed book)",
    ]
    assert [line["AmountFC"] for line in lines] == [198.0, 39.0]
    assert [line["VATAmountFC"] for line in lines] == [41.58, 3.51]
    assert invoice["AmountFCExclVat"] == 237.0 and invoice["VATAmountFC"] == 45.09
    assert invoice["AmountFC"] == 282.09
    assert invoice["Status"] == 20 and invoice["Type"] == 8020 and invoice["Journal"] == "70"
    assert invoice["InvoiceNumber"] is None
    assert invoice["InvoiceTo"] == invoice["OrderedBy"]
    # a draft is not a receivable
    assert exact.store("cashflow/Receivables") == []


def test_line_vat_override_and_item_validation(exact: ExactClient) -> None:
    team = exact.item("SUB-TEAM")
    invoice = _invoice(exact, [{"Item": team["ID"], "UnitPrice": 10.05, "VATAmountFC": 2.12}])
    assert invoice["SalesInvoiceLines"]["results"][0]["VATAmountFC"] == 2.12
    reply = exact.post(
        "salesinvoice/SalesInvoices",
        {"OrderedBy": exact.account("10002")["ID"], "SalesInvoiceLines": [{"Quantity": 1}]},
    )
    assert reply.status_code == 500
    assert (
        reply.json()["error"]["message"]["value"]
        == "Verplicht: Grootboekrekening\nVerplicht: Artikel"  # page order
    )


def test_processing_books_the_invoice_without_mailing(exact: ExactClient) -> None:
    team = exact.item("SUB-TEAM")
    invoice = _invoice(exact, [{"Item": team["ID"]}], YourRef="INV-6001")
    printed = exact.created(
        "salesinvoice/PrintedSalesInvoices",
        {
            "InvoiceID": invoice["InvoiceID"],
            "SendEmailToCustomer": False,
            "InvoiceDate": "2026-11-21",
        },
    )
    assert printed["InvoiceID"] == invoice["InvoiceID"] and printed["Document"]
    assert printed["DocumentCreationSuccess"] == "Document aangemaakt"
    assert printed["EmailCreationSuccess"] is None
    booked = exact.get(f"salesinvoice/SalesInvoices(guid'{invoice['InvoiceID']}')").json()["d"]
    assert booked["Status"] == 50 and booked["InvoiceNumber"] == 26700001
    receivable = exact.one(
        "cashflow/Receivables", f"TransactionEntryID eq guid'{invoice['InvoiceID']}'"
    )
    assert receivable["InvoiceNumber"] == 26700001 and receivable["YourRef"] == "INV-6001"
    assert receivable["AmountDC"] == 119.79 and receivable["IsFullyPaid"] is False
    assert exact.http.get("/_sandbox/outbox").json() == {"emails": []}
    assert exact.store("salesinvoice/PrintedSalesInvoices")[0]["SendEmailToCustomer"] is False
    # Exact renders its own PDF as a sales-invoice document
    document = exact.get(f"documents/Documents(guid'{printed['Document']}')").json()["d"]
    assert document["Type"] == 10 and document["Subject"] == "Factuur 26700001"
    attachment = exact.one(
        "documents/DocumentAttachments", f"Document eq guid'{printed['Document']}'"
    )
    pdf = exact.http.get(attachment["Url"] + "&Download=1", headers=exact.auth)
    text = pypdf.PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    assert "Factuur 26700001" in text and "119.79" in text


def test_processing_with_email_is_recorded(exact: ExactClient) -> None:
    invoice = _invoice(exact, [{"Item": exact.item("SUB-TEAM")["ID"]}])
    printed = exact.created(
        "salesinvoice/PrintedSalesInvoices",
        {"InvoiceID": invoice["InvoiceID"], "SendEmailToCustomer": True},
    )
    assert printed["EmailCreationSuccess"] == "E-mail verstuurd"
    emails = exact.http.get("/_sandbox/outbox").json()["emails"]
    assert [(m["invoice_id"], m["to"]) for m in emails] == [
        (invoice["InvoiceID"], "admin@jansenzonen.nl")
    ]


def test_processed_invoice_is_immutable(exact: ExactClient) -> None:
    invoice = _invoice(exact, [{"Item": exact.item("SUB-TEAM")["ID"]}])
    key = f"salesinvoice/SalesInvoices(guid'{invoice['InvoiceID']}')"
    assert exact.put(key, {"YourRef": "draft change"}).status_code == 204
    exact.created("salesinvoice/PrintedSalesInvoices", {"InvoiceID": invoice["InvoiceID"]})
    again = exact.post("salesinvoice/PrintedSalesInvoices", {"InvoiceID": invoice["InvoiceID"]})
    assert again.status_code == 500
    assert "al verwerkt" in again.json()["error"]["message"]["value"]
    assert exact.put(key, {"YourRef": "late"}).status_code == 500
    assert exact.delete(key).status_code == 500
    assert exact.get("salesinvoice/PrintedSalesInvoices").status_code == 405


def test_draft_can_be_deleted(exact: ExactClient) -> None:
    invoice = _invoice(exact, [{"Item": exact.item("SUB-TEAM")["ID"]}])
    assert (
        exact.delete(f"salesinvoice/SalesInvoices(guid'{invoice['InvoiceID']}')").status_code == 204
    )
    assert exact.store("salesinvoice/SalesInvoiceLines") == []


def test_credit_notes_carry_negative_quantities(exact: ExactClient) -> None:
    team = exact.item("SUB-TEAM")["ID"]
    credit = _invoice(exact, [{"Item": team, "Quantity": -1}], Type=8021, YourRef="CN-7001")
    assert credit["AmountFC"] == -119.79
    exact.created("salesinvoice/PrintedSalesInvoices", {"InvoiceID": credit["InvoiceID"]})
    receivable = exact.one("cashflow/Receivables", "YourRef eq 'CN-7001'")
    assert receivable["AmountDC"] == -119.79 and receivable["TransactionType"] == 21
    document = exact.one("documents/Documents", "Subject eq 'Creditnota 26700001'")
    assert document["SalesInvoiceNumber"] == 26700001
    wrong_sign = exact.post(
        "salesinvoice/SalesInvoices",
        {
            "OrderedBy": exact.account("10002")["ID"],
            "Type": 8021,
            "SalesInvoiceLines": [{"Item": team}],
        },
    )
    assert wrong_sign.status_code == 500
    assert "Ongeldig: Type" in wrong_sign.json()["error"]["message"]["value"]


def test_invoice_and_entry_share_the_journal_sequence(exact: ExactClient) -> None:
    exact.sales_entry("10001", [("8000", Decimal(1))])
    invoice = _invoice(exact, [{"Item": exact.item("SUB-TEAM")["ID"]}])
    exact.created("salesinvoice/PrintedSalesInvoices", {"InvoiceID": invoice["InvoiceID"]})
    booked = exact.get(f"salesinvoice/SalesInvoices(guid'{invoice['InvoiceID']}')").json()["d"]
    assert booked["InvoiceNumber"] == 26700002
