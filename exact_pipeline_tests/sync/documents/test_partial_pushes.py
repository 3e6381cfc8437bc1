"""Money and identity when a push stops half-way (issue 9, A): a correction, a void or a mode
switch between two steps; a PDF too large for Exact; Exact's invoice numbers read back. Each
test drives the sandbox over HTTP with its fault injection and checks what Exact holds."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import psycopg

from exact_pipeline.billing.amounts import line_amounts
from exact_pipeline.billing.models import BillingDocument, Customer
from exact_pipeline.settings import STATE_SCHEMA
from exact_pipeline.sync.core.money import to_major
from exact_pipeline.sync.documents import ledger
from exact_pipeline.sync.documents.transform import MAX_PDF_BYTES
from exact_pipeline_tests.exact.conftest import NL, SandboxAdmin
from exact_pipeline_tests.sync.builder import Billing, day_window, pdf_bytes
from exact_pipeline_tests.sync.conftest import EngineFactory, MappingFolder

TEAM = ("prod_team", "1", 9900, "tax_nl_21")  # 99.00 + 20.79 VAT
ENTRIES = "salesentry/SalesEntries"
INVOICES = "salesinvoice/SalesInvoices"


def known_customer(billing: Billing) -> Customer:
    return billing.customer("cus_known_01", "Bakkerij De Gouden Korenaar B.V.")


def reprice(billing: Billing, document: BillingDocument, quantity: int) -> Decimal:
    """Billing corrects the invoice's one line (quantity, hence amounts), not its PDF; returns
    the new total in euros."""
    (line,) = document.lines
    amount, tax = line_amounts(Decimal(quantity), line.unit_amount, line.tax_rate.rate)
    with psycopg.connect(billing.url) as conn:  # one transaction: billing checks the sums
        conn.execute(
            "UPDATE invoice_lines SET quantity = %s, amount_excluding_tax = %s,"
            " tax_amount = %s WHERE id = %s",
            (quantity, amount, tax, line.id),
        )
        conn.execute(
            "UPDATE invoices SET amount_excluding_tax = %s, tax_amount = %s,"
            " total_amount = %s WHERE id = %s",
            (amount, tax, amount + tax, document.id),
        )
    return to_major(amount + tax, "EUR")


def correct(billing: Billing, document: BillingDocument, quantity: int) -> bytes:
    """Billing corrects the invoice: its one line's quantity, hence its amounts, and its PDF.
    Returns the new PDF."""
    reprice(billing, document, quantity)
    pdf = pdf_bytes(f"{document.number} corrected")
    billing.execute("UPDATE invoice_pdfs SET content = %s WHERE invoice_id = %s", pdf, document.id)
    return pdf


def lose_the_entry_answer(admin: SandboxAdmin, path: str = ENTRIES) -> None:
    """The entry POST commits but its answer is lost, and every look-up fails."""
    admin.faults(
        {"kind": "lost_response", "path": path, "method": "POST", "times": 1},
        {"kind": "error", "status": 503, "path": path, "method": "GET"},
    )


def posts(admin: SandboxAdmin) -> Counter[str]:
    counts = admin.requests()["by_endpoint"]
    return Counter({k: n for k, n in counts.items() if not k.startswith("GET")})


def in_doubt(engine_rows: list[ledger.LedgerRow]) -> ledger.LedgerRow:
    """The only row: its entry POST sent (after the PDF steps), the answer never recorded."""
    (row,) = engine_rows
    assert row.state == ledger.FAILED and row.in_flight and row.step == "attachment", row
    return row


def test_a_correction_after_a_lost_entry_answer_is_flagged_against_what_was_posted(
    billing: Billing,
    mapping_folder: MappingFolder,
    make_engine: EngineFactory,
    admin: SandboxAdmin,
) -> None:
    """Item 1: the hash recorded as synced is the one POSTed, not billing's newer content."""
    mapping_folder.setting("invoice_push_mode", "sales_entry")
    invoice = billing.document("INV-1", known_customer(billing), [TEAM])
    lose_the_entry_answer(admin)
    first = make_engine()
    assert first.push_documents(day_window()).counts["failed"] == 1
    in_doubt(first.ledger_rows(day_window()))
    admin.clear_faults()

    correct(billing, invoice, quantity=2)
    engine = make_engine()
    report = engine.push_documents(day_window())

    assert report.counts["changed_after_sync"] == 1, report.rows
    (row,) = engine.ledger_rows(day_window())
    assert row.state == ledger.CHANGED_AFTER_SYNC and row.synced_hash != row.payload_hash
    (entry,) = admin.store(NL, ENTRIES)
    assert Decimal(entry["AmountFC"]) == Decimal("119.79")  # what was posted, once
    (difference,) = engine.totals_differences(day_window())
    assert (difference["exact_total"], difference["billing_total"]) == ("119.79", "239.58")
    assert difference["explanation"].startswith("billing corrected the document after it was")


def test_a_pdf_corrected_before_the_entry_replaces_the_attachment(
    billing: Billing,
    mapping_folder: MappingFolder,
    make_engine: EngineFactory,
    admin: SandboxAdmin,
) -> None:
    """Item 2: the entry never links another version's PDF; two calls more, only then."""
    mapping_folder.setting("invoice_push_mode", "sales_entry")
    invoice = billing.document("INV-2", known_customer(billing), [TEAM])
    admin.configure(field_limits={"SalesEntries.YourRef": 3})  # Exact refuses the entry
    assert make_engine().push_documents(day_window()).counts["blocked"] == 1
    admin.configure(field_limits={"SalesEntries.YourRef": None})

    pdf = correct(billing, invoice, quantity=3)
    admin.clear_requests()
    engine = make_engine()
    report = engine.push_documents(day_window())  # changed: no cool-down

    assert report.counts["pushed"] == 1, report.rows
    attachments = "documents/DocumentAttachments"
    assert posts(admin) == {
        f"DELETE {attachments}": 1,
        f"POST {attachments}": 1,
        f"POST {ENTRIES}": 1,
    }
    (row,) = engine.ledger_rows(day_window())
    (entry,) = admin.store(NL, ENTRIES)
    assert entry["Document"] == str(row.exact_document_id)
    (attachment,) = [a for a in admin.store(NL, attachments) if a["Document"] == entry["Document"]]
    assert attachment["ID"] == str(row.attachment_id)
    stored = admin.http.get(f"/_sandbox/attachments/{NL}/{row.attachment_id}?download=1")
    assert stored.content == pdf
    assert Decimal(entry["AmountFC"]) == Decimal("359.37")

    admin.clear_requests()
    assert make_engine().push_documents(day_window()).counts["already_synced"] == 1
    assert admin.requests()["total"] == 0


def test_a_void_while_the_entry_was_in_flight_is_flagged_not_skipped(
    billing: Billing,
    mapping_folder: MappingFolder,
    make_engine: EngineFactory,
    admin: SandboxAdmin,
) -> None:
    """Item 3: Exact may hold an open receivable: look it up, then flag it with the fix."""
    mapping_folder.setting("invoice_push_mode", "sales_entry")
    invoice = billing.document("INV-3", known_customer(billing), [TEAM])
    lose_the_entry_answer(admin)
    make_engine().push_documents(day_window())
    admin.clear_faults()

    billing.void(invoice)
    engine = make_engine()
    (staged,) = engine.stage(day_window()).rows
    assert staged["state"] != ledger.SKIPPED_VOIDED
    report = engine.push_documents(day_window())

    assert report.counts["voided_after_sync"] == 1, report.rows
    (flagged,) = engine.blocked(day_window())
    assert flagged.state == ledger.VOIDED_AFTER_SYNC and flagged.entry_id is not None
    assert "post a credit note in billing" in (flagged.last_error or "")
    assert [e["YourRef"] for e in admin.store(NL, ENTRIES)] == ["INV-3"]


def test_a_void_before_an_uncommitted_entry_is_skipped_after_looking(
    billing: Billing,
    mapping_folder: MappingFolder,
    make_engine: EngineFactory,
    admin: SandboxAdmin,
) -> None:
    """Item 3, the other outcome: the entry never arrived, so nothing is posted or flagged."""
    mapping_folder.setting("invoice_push_mode", "sales_entry")
    invoice = billing.document("INV-4", known_customer(billing), [TEAM])
    admin.faults(
        {"kind": "error", "status": 503, "path": ENTRIES, "method": "POST"},
        {"kind": "error", "status": 503, "path": ENTRIES, "method": "GET"},
    )
    make_engine().push_documents(day_window())
    admin.clear_faults()

    billing.void(invoice)
    admin.clear_requests()
    engine = make_engine()
    report = engine.push_documents(day_window())

    assert report.counts["skipped_voided"] == 1, report.rows
    assert not posts(admin) and admin.store(NL, ENTRIES) == []
    assert admin.count(f"GET {ENTRIES}") == 1 and admin.count(f"GET {INVOICES}") == 1


def test_a_mode_switch_while_the_entry_was_in_flight_never_posts_twice(
    billing: Billing,
    mapping_folder: MappingFolder,
    make_engine: EngineFactory,
    admin: SandboxAdmin,
) -> None:
    """Item 4: the entry found on the endpoint it went to; nothing on the other one."""
    mapping_folder.setting("invoice_push_mode", "sales_entry")
    billing.document("INV-5", known_customer(billing), [TEAM])
    lose_the_entry_answer(admin)
    first = make_engine()
    first.push_documents(day_window())
    in_doubt(first.ledger_rows(day_window()))
    admin.clear_faults()

    mapping_folder.setting("invoice_push_mode", "sales_invoice")
    admin.clear_requests()
    engine = make_engine()
    report = engine.push_documents(day_window())

    assert report.counts["pushed"] == 1, report.rows
    assert not posts(admin)
    assert [e["YourRef"] for e in admin.store(NL, ENTRIES)] == ["INV-5"]
    assert admin.store(NL, INVOICES) == []
    (row,) = engine.ledger_rows(day_window())
    assert row.push_mode == "sales_entry" and row.state == ledger.SYNCED


def test_a_pdf_over_exacts_limit_is_blocked_once_before_any_write(
    billing: Billing, make_engine: EngineFactory, admin: SandboxAdmin
) -> None:
    """Item 6: blocked with the document, the field and the fix; no empty Exact Document, no
    hourly retry; a smaller PDF in billing lets it through."""
    invoice = billing.document("INV-6", known_customer(billing), [TEAM])
    large = pdf_bytes("INV-6") + b"\0" * (10 * 1024 * 1024)  # over Exact's 10 MB as it is
    billing.execute("UPDATE invoice_pdfs SET content = %s WHERE invoice_id = %s", large, invoice.id)
    admin.clear_requests()

    engine = make_engine()
    report = engine.push_documents(day_window())

    assert report.counts["blocked"] == 1, report.rows
    assert not posts(admin)
    assert not [d for d in admin.store(NL, "documents/Documents") if "INV-6" in d["Subject"]]
    (blocked,) = engine.blocked(day_window())
    assert blocked.block_kind == ledger.BILLING
    reason = blocked.last_error or ""
    assert reason.startswith("Invoice INV-6: its PDF INV-6.pdf (invoice_pdfs.content) is ")
    assert f"{MAX_PDF_BYTES:,} bytes" in reason and "Store a smaller PDF" in reason

    later = datetime.now(UTC) + timedelta(hours=3)
    admin.clear_requests()
    assert make_engine(now=lambda: later).push_documents(day_window()).counts["blocked"] == 1
    assert admin.requests()["total"] == 0

    billing.execute(
        "UPDATE invoice_pdfs SET content = %s WHERE invoice_id = %s", pdf_bytes("INV-6"), invoice.id
    )
    assert make_engine().push_documents(day_window()).counts["pushed"] == 1


def test_sales_invoice_mode_records_exacts_invoice_numbers_in_batches(
    billing: Billing, make_engine: EngineFactory, admin: SandboxAdmin
) -> None:
    """Item 7: the number Exact gives at booking lands in the ledger, read in full batches
    across runs (a partial one waits: no GET), at once for a credit note that quotes it (one
    GET for the whole pending batch). The read after the day: test_read_back.py."""
    customer = known_customer(billing)
    invoices = [billing.document(f"INV-7{n}", customer, [TEAM]) for n in range(3)]
    admin.clear_requests()

    engine = make_engine()
    report = engine.push_documents(day_window())

    assert report.counts["pushed"] == 3, report.rows
    assert admin.count(f"GET {INVOICES}") == 0
    assert {r["exact_number"] for r in report.rows} == {None}

    billing.document("CN-70", customer, [TEAM], original=invoices[0])
    admin.clear_requests()
    report = make_engine().push_documents(day_window())

    assert admin.count(f"GET {INVOICES}") == 1
    numbers = {r["YourRef"]: r["InvoiceNumber"] for r in admin.store(NL, INVOICES)}
    assert all(numbers.values())
    rows = {row.number: row.entry_number for row in engine.ledger_rows(day_window())}
    assert {n: rows[n] for n in ("INV-70", "INV-71", "INV-72")} == {
        n: numbers[n] for n in ("INV-70", "INV-71", "INV-72")
    }
    shown = {r["number"]: r["exact_number"] for r in report.rows}
    assert shown["INV-70"] == numbers["INV-70"]
    credit = next(r for r in admin.store(NL, INVOICES) if r["YourRef"] == "CN-70")
    assert f"(Exact number {numbers['INV-70']})" in credit["Remarks"]


def test_the_ledger_gains_the_new_marks_on_an_existing_database(state_url: str) -> None:
    with psycopg.connect(state_url, autocommit=True) as conn:
        ledger.ensure_schema(conn)
        conn.execute(
            f"ALTER TABLE {STATE_SCHEMA}.ledger_documents"
            " DROP COLUMN posting_hash, DROP COLUMN attachment_digest"
        )
        ledger.ensure_schema(conn)
        assert ledger.documents(conn, ["doc_none"]) == {}  # selects every column
