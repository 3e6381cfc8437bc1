"""Both push modes: an invoice and its credit note land to the cent, with the credit note
negative and naming the invoice it corrects; the PDFs come back byte for byte; and each
document costs exactly 3 (sales_entry) or 4 (sales_invoice) calls."""

from __future__ import annotations

from decimal import Decimal

import pytest

from exact_pipeline.sync.documents import ledger
from exact_pipeline_tests.exact.conftest import NL, SandboxAdmin
from exact_pipeline_tests.sync.builder import Billing, day_window
from exact_pipeline_tests.sync.conftest import EngineFactory, MappingFolder

ENTRY_CALLS = ("documents/Documents", "documents/DocumentAttachments", "salesentry/SalesEntries")
INVOICE_CALLS = (
    "documents/Documents",
    "documents/DocumentAttachments",
    "salesinvoice/SalesInvoices",
    "salesinvoice/PrintedSalesInvoices",
)
MODES = {
    "sales_entry": ("salesentry/SalesEntries", ENTRY_CALLS, {"invoice": 20, "credit_note": 21}),
    "sales_invoice": (
        "salesinvoice/SalesInvoices",
        INVOICE_CALLS,
        {"invoice": 8020, "credit_note": 8021},
    ),
}


def cents(value: str) -> Decimal:
    return Decimal(value) * 100


@pytest.mark.parametrize("mode", MODES)
def test_invoice_and_credit_note_to_the_cent(
    mode: str,
    billing: Billing,
    mapping_folder: MappingFolder,
    make_engine: EngineFactory,
    admin: SandboxAdmin,
) -> None:
    mapping_folder.setting("invoice_push_mode", mode)
    path, calls, types = MODES[mode]
    customer = billing.customer("cus_known_01", "Bakkerij De Gouden Korenaar B.V.")
    invoice = billing.document(
        "INV-7001",
        customer,
        [
            ("prod_team", "1", 9900, "tax_nl_21"),
            ("prod_seat", "3", 1200, "tax_nl_21"),
            # a usage line priced in fractions of a cent, and a reduced-rate book
            ("prod_api_calls", "1234", Decimal("29.75"), "tax_nl_21"),
            ("prod_ebook", "2", 3900, "tax_nl_9"),
        ],
    )
    credit = billing.document(
        "CN-7001", customer, [("prod_seat", "1", 1200, "tax_nl_21")], original=invoice
    )
    admin.clear_requests()

    engine = make_engine()
    report = engine.push_documents(day_window())

    assert report.counts["pushed"] == 2, report.rows
    by_endpoint = admin.requests()["by_endpoint"]
    assert {k: n for k, n in by_endpoint.items() if k.startswith("POST")} == {
        f"POST {endpoint}": 2 for endpoint in calls
    }
    assert report.api_calls[NL] == admin.requests()["by_division"][str(NL)]

    stored = {r["YourRef"]: r for r in admin.store(NL, path)}
    for document, sign in ((invoice, 1), (credit, -1)):
        record = stored[document.number]
        assert cents(record["AmountFC"]) == sign * document.total_amount
        assert cents(record["VATAmountFC"]) == sign * document.tax_amount
        assert record["Type"] == types[document.type]
    invoice_number = stored["INV-7001"]["EntryNumber" if mode == "sales_entry" else "InvoiceNumber"]
    # The credit note's reference: Remarks on a sales invoice; a sales entry has no Remarks
    # (Exact refuses the field), so its Description carries the original's Exact number, which
    # is known at once (an invoice's only at booking).
    reference = stored["CN-7001"]["Description" if mode == "sales_entry" else "Remarks"]
    assert "INV-7001" in reference and "INV-7001" in stored["CN-7001"]["Description"]
    if mode == "sales_entry":
        assert str(invoice_number) in reference and "Remarks" not in stored["CN-7001"]

    rows = {row.billing_id: row for row in engine.ledger_rows(day_window())}
    for document in (invoice, credit):
        row = rows[document.id]
        assert row.state == ledger.SYNCED and row.attachment_id is not None
        pdf = admin.http.get(f"/_sandbox/attachments/{NL}/{row.attachment_id}?download=1")
        assert document.pdf is not None and pdf.content == document.pdf.content
        assert stored[document.number]["Document"] == str(row.exact_document_id)
