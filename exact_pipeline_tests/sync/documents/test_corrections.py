"""Corrections the way accountants make them (issue 14, item 2): with `corrections:
credit_and_repost` a document changed in billing after it reached Exact is reversed by a credit
entry quoting the original and posted again; voided, reversed only; its PDF alone changed, the
attachment is replaced and no entry touched. Exact's totals (the sandbox's store, over HTTP)
end equal to billing's, and a lost answer between reversal and repost never duplicates."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

import psycopg
import pytest

from exact_pipeline.settings import STATE_SCHEMA
from exact_pipeline.sync.core.window import Window
from exact_pipeline.sync.documents import corrections, ledger
from exact_pipeline.sync.reconciliation.engine import Reconciler
from exact_pipeline_tests.exact.conftest import NL, SandboxAdmin
from exact_pipeline_tests.sync.builder import AMSTERDAM, Billing, day_window, pdf_bytes
from exact_pipeline_tests.sync.conftest import EngineFactory, MappingFolder
from exact_pipeline_tests.sync.documents.test_partial_pushes import reprice

TEAM = ("prod_team", "1", 9900, "tax_nl_21")  # 99.00 + 20.79 VAT
ENTRIES = "salesentry/SalesEntries"
INVOICES = "salesinvoice/SalesInvoices"
ATTACHMENTS = "documents/DocumentAttachments"
STORE = {"sales_entry": ENTRIES, "sales_invoice": INVOICES}
KEY = {"sales_entry": "EntryID", "sales_invoice": "InvoiceID"}
NOVEMBER = Window(datetime(2026, 11, 1, tzinfo=AMSTERDAM), datetime(2026, 12, 1, tzinfo=AMSTERDAM))


def held(admin: SandboxAdmin, mode: str, number: str) -> list[dict[str, Any]]:
    """What Exact holds for a billing number, oldest first."""
    return [r for r in admin.store(NL, STORE[mode]) if r["YourRef"] == number]


def total(records: list[dict[str, Any]]) -> Decimal:
    return sum((Decimal(r["AmountFC"]) for r in records), Decimal(0))


def writes(admin: SandboxAdmin) -> Counter[str]:
    counts = admin.requests()["by_endpoint"]
    return Counter({k: n for k, n in counts.items() if not k.startswith("GET")})


def credit_and_repost(mapping_folder: MappingFolder, mode: str) -> None:
    mapping_folder.setting("invoice_push_mode", mode)
    mapping_folder.setting("corrections", "credit_and_repost")


def reconcile(make_session: Callable[..., Any]) -> Any:
    reconciler: Reconciler = make_session(Reconciler)
    return reconciler.reconcile("2026-11", NOVEMBER)


@pytest.mark.parametrize("mode", ["sales_entry", "sales_invoice"])
def test_a_correction_is_reversed_and_reposted_and_exact_ends_equal_to_billing(
    mode: str,
    billing: Billing,
    mapping_folder: MappingFolder,
    make_engine: EngineFactory,
    make_session: Callable[..., Any],
    admin: SandboxAdmin,
    state_url: str,
) -> None:
    credit_and_repost(mapping_folder, mode)
    customer = billing.customer("cus_known_01", "Bakkerij De Gouden Korenaar B.V.")
    invoice = billing.document("INV-1", customer, [TEAM])
    assert make_engine().push_documents(day_window()).counts["pushed"] == 1
    (original,) = held(admin, mode, "INV-1")

    new_total = reprice(billing, invoice, quantity=3)
    preview = make_engine().stage(day_window())
    assert preview.counts["staged"] == 1  # not flagged: the push corrects it
    assert "reverses that entry" in (preview.rows[0]["reason"] or "")
    engine = make_engine()
    report = engine.push_documents(day_window())

    assert report.counts["corrected"] == 1
    records = held(admin, mode, "INV-1")
    assert len(records) == 3  # the original, its reversal, the repost
    first, reversal, repost = records
    key = KEY[mode]
    assert first[key] == original[key]
    number = "EntryNumber" if mode == "sales_entry" else "InvoiceNumber"
    assert reversal["Description"].startswith("Reversal of ")
    assert str(original[number]) in reversal["Description"]  # it references the original
    assert Decimal(reversal["AmountFC"]) == -Decimal(original["AmountFC"])
    assert Decimal(reversal["VATAmountFC"]) == -Decimal(original["VATAmountFC"])
    if mode == "sales_invoice":
        assert reversal["Type"] == 8021 and str(original[number]) in reversal["Remarks"]
        assert {r["Status"] for r in records} == {50}  # all three booked
    # Exact's totals are billing's: 3 × 99.00 + VAT.
    assert total(records) == new_total == Decimal(repost["AmountFC"]) == Decimal("359.37")

    (row,) = engine.ledger_rows(day_window())
    assert row.state == ledger.SYNCED and str(row.entry_id) == repost[key]
    with psycopg.connect(state_url) as conn:
        (correction,) = corrections.of_documents(conn, [row.billing_id])[row.billing_id]
    assert str(correction.original_entry_id) == original[key]
    assert str(correction.reversal_entry_id) == reversal[key]
    assert str(correction.repost_entry_id) == repost[key]
    assert correction.reversed_at and correction.reposted_at
    (reported,) = report.rows
    assert reported["correction"].startswith(f"entry {original[number]} reversed by entry ")
    assert engine.totals_differences(day_window()) == []

    month = reconcile(make_session)  # the reversal is not "in Exact, not in billing"
    assert month.reconciled, month.comparison.differences

    admin.clear_requests()
    assert make_engine().push_documents(day_window()).counts["already_synced"] == 1
    assert admin.requests()["total"] == 0


@pytest.mark.parametrize("lost", ["reversal", "repost"])
def test_a_lost_answer_between_reversal_and_repost_never_duplicates(
    lost: str,
    billing: Billing,
    mapping_folder: MappingFolder,
    make_engine: EngineFactory,
    admin: SandboxAdmin,
    state_url: str,
) -> None:
    credit_and_repost(mapping_folder, "sales_entry")
    customer = billing.customer("cus_known_01", "Bakkerij De Gouden Korenaar B.V.")
    invoice = billing.document("INV-2", customer, [TEAM])
    make_engine().push_documents(day_window())
    new_total = reprice(billing, invoice, quantity=2)

    # The POST commits, its answer is lost, and no look-up gets through: the run dies there.
    which = {"body_contains": "Reversal of"} if lost == "reversal" else {"every": 2}
    admin.faults(
        {"kind": "lost_response", "path": ENTRIES, "method": "POST", "times": 1, **which},
        {"kind": "error", "status": 503, "path": ENTRIES, "method": "GET"},
    )
    failed = make_engine().push_documents(day_window())
    assert failed.counts["failed"] == 1, failed.rows
    assert len(held(admin, "sales_entry", "INV-2")) == (2 if lost == "reversal" else 3)

    admin.clear_faults()
    admin.clear_requests()
    report = make_engine().push_documents(day_window())

    assert report.counts["pushed"] + report.counts["corrected"] == 1, report.rows
    records = held(admin, "sales_entry", "INV-2")
    assert len(records) == 3, records  # never two reversals, never two reposts
    assert total(records) == new_total == Decimal("239.58")
    assert writes(admin)[f"POST {ENTRIES}"] == (1 if lost == "reversal" else 0)
    original, reversal, repost = (record["EntryID"] for record in records)
    (row,) = make_engine().ledger_rows(day_window())
    assert str(row.entry_id) == repost  # found past the original and the reversal
    with psycopg.connect(state_url) as conn:
        (correction,) = corrections.of_documents(conn, [row.billing_id])[row.billing_id]
    assert [str(correction.original_entry_id), str(correction.reversal_entry_id)] == [
        original,
        reversal,
    ]
    assert str(correction.repost_entry_id) == repost


def test_a_voided_document_is_reversed_only(
    billing: Billing,
    mapping_folder: MappingFolder,
    make_engine: EngineFactory,
    make_session: Callable[..., Any],
    admin: SandboxAdmin,
) -> None:
    credit_and_repost(mapping_folder, "sales_entry")
    customer = billing.customer("cus_known_01", "Bakkerij De Gouden Korenaar B.V.")
    invoice = billing.document("INV-3", customer, [TEAM])
    make_engine().push_documents(day_window())
    billing.void(invoice)
    admin.clear_requests()

    engine = make_engine()
    report = engine.push_documents(day_window())

    assert report.counts["corrected"] == 1
    assert writes(admin) == {f"POST {ENTRIES}": 1}  # the reversal, no repost
    records = held(admin, "sales_entry", "INV-3")
    assert len(records) == 2 and total(records) == 0
    (row,) = engine.ledger_rows(day_window())
    assert row.state == ledger.SKIPPED_VOIDED and row.entry_id is None
    assert "reversed by entry" in (row.last_error or "")
    assert "not reposted" in report.rows[0]["correction"]
    assert reconcile(make_session).reconciled
    admin.clear_requests()
    assert make_engine().push_documents(day_window()).counts["skipped_voided"] == 1
    assert admin.requests()["total"] == 0


@pytest.mark.parametrize("mode", ["sales_entry", "sales_invoice"])
def test_a_pdf_changed_alone_is_reattached_and_no_entry_touched(
    mode: str,
    billing: Billing,
    mapping_folder: MappingFolder,
    make_engine: EngineFactory,
    admin: SandboxAdmin,
) -> None:
    credit_and_repost(mapping_folder, mode)
    customer = billing.customer("cus_known_01", "Bakkerij De Gouden Korenaar B.V.")
    invoice = billing.document("INV-4", customer, [TEAM])
    make_engine().push_documents(day_window())
    pdf = pdf_bytes("INV-4 with the right address")
    billing.execute("UPDATE invoice_pdfs SET content = %s WHERE invoice_id = %s", pdf, invoice.id)
    admin.clear_requests()

    engine = make_engine()
    report = engine.push_documents(day_window())

    assert report.counts["pdf_replaced"] == 1, report.rows
    assert writes(admin) == {f"DELETE {ATTACHMENTS}": 1, f"POST {ATTACHMENTS}": 1}
    assert len(held(admin, mode, "INV-4")) == 1
    (row,) = engine.ledger_rows(day_window())
    assert row.state == ledger.SYNCED
    stored = admin.http.get(f"/_sandbox/attachments/{NL}/{row.attachment_id}?download=1")
    assert stored.content == pdf
    admin.clear_requests()
    assert make_engine().push_documents(day_window()).counts["already_synced"] == 1
    assert admin.requests()["total"] == 0


def test_flag_mode_is_unchanged_and_switching_corrects_what_was_flagged(
    billing: Billing,
    mapping_folder: MappingFolder,
    make_engine: EngineFactory,
    admin: SandboxAdmin,
) -> None:
    mapping_folder.setting("invoice_push_mode", "sales_entry")  # corrections: flag (default)
    customer = billing.customer("cus_known_01", "Bakkerij De Gouden Korenaar B.V.")
    invoice = billing.document("INV-5", customer, [TEAM])
    make_engine().push_documents(day_window())
    new_total = reprice(billing, invoice, quantity=4)
    admin.clear_requests()

    flagged = make_engine().push_documents(day_window())
    assert flagged.counts["changed_after_sync"] == 1 and not writes(admin)
    assert len(held(admin, "sales_entry", "INV-5")) == 1

    mapping_folder.setting("corrections", "credit_and_repost")
    corrected = make_engine().push_documents(day_window())
    assert corrected.counts["corrected"] == 1, corrected.rows
    assert total(held(admin, "sales_entry", "INV-5")) == new_total


def test_an_entry_posted_before_its_content_was_kept_stays_flagged(
    billing: Billing,
    mapping_folder: MappingFolder,
    make_engine: EngineFactory,
    admin: SandboxAdmin,
    state_url: str,
) -> None:
    credit_and_repost(mapping_folder, "sales_entry")
    customer = billing.customer("cus_known_01", "Bakkerij De Gouden Korenaar B.V.")
    invoice = billing.document("INV-6", customer, [TEAM])
    engine = make_engine()
    engine.push_documents(day_window())
    with psycopg.connect(state_url, autocommit=True) as conn:
        conn.execute(f"DELETE FROM {STATE_SCHEMA}.posted_entries")  # as an older release left it
    reprice(billing, invoice, quantity=2)
    admin.clear_requests()

    report = make_engine().push_documents(day_window())

    assert report.counts["changed_after_sync"] == 1 and not writes(admin)
    assert "cannot be reversed automatically" in (report.rows[0]["reason"] or "")
    admin.clear_requests()
    again = make_engine().push_documents(day_window())
    assert again.counts["changed_after_sync"] == 1 and admin.requests()["total"] == 0
