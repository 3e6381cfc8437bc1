"""A document's life in the ledger: blocked until its mapping is fixed, flagged (never re-posted)
when billing changes or voids it after posting, skipped when voided before, never when a
draft; long texts shortened instead of refused."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from exact_pipeline.exact.fields import ELLIPSIS
from exact_pipeline.settings import STATE_SCHEMA
from exact_pipeline.sync.documents import ledger
from exact_pipeline_tests.exact.conftest import NL, SandboxAdmin
from exact_pipeline_tests.sync.builder import Billing, day_window
from exact_pipeline_tests.sync.conftest import EngineFactory, MappingFolder

TEAM = ("prod_team", "1", 9900, "tax_nl_21")
BETA = ("prod_beta_ai", "1", 1900, "tax_nl_21")


def posts(admin: SandboxAdmin) -> int:
    counts = admin.requests()["by_endpoint"]
    return sum(n for key, n in counts.items() if key.startswith("POST"))


def test_blocked_by_the_mapping_then_by_exact_then_pushed_once_fixed(
    billing: Billing,
    mapping_folder: MappingFolder,
    make_engine: EngineFactory,
    admin: SandboxAdmin,
) -> None:
    customer = billing.customer("cus_known_01", "Bakkerij De Gouden Korenaar B.V.")
    billing.document("INV-1", customer, [TEAM])
    billing.document("INV-2", customer, [TEAM, BETA])

    engine = make_engine()
    preview = engine.stage(day_window())
    assert preview.counts["staged"] == 1 and preview.counts["blocked"] == 1
    blocked_row = next(r for r in preview.rows if r["number"] == "INV-2")
    assert "prod_beta_ai" in blocked_row["reason"] and "products.csv" in blocked_row["reason"]
    admin.clear_requests()
    first = engine.push_documents(day_window())
    assert first.counts["pushed"] == 1 and first.counts["blocked"] == 1
    assert posts(admin) == 4  # INV-1 only

    # mapped, but to an item the division does not have: blocked before any write
    mapping_folder.append("products.csv", "prod_beta_ai,SUB-NOPE,")
    admin.clear_requests()
    engine = make_engine()
    second = engine.push_documents(day_window())
    assert second.counts["blocked"] == 1 and posts(admin) == 0
    (row,) = engine.blocked(day_window())
    assert row.block_kind == ledger.MASTER_DATA
    assert "item SUB-NOPE does not exist in Exact division 310001" in (row.last_error or "")

    mapping_folder.replace("products.csv", "SUB-NOPE", "SUB-AI-BETA")
    admin.clear_requests()
    third = make_engine().push_documents(day_window())
    assert third.counts["pushed"] == 1 and third.counts["already_synced"] == 1
    assert posts(admin) == 4
    lines = next(
        r for r in admin.store(NL, "salesinvoice/SalesInvoices") if r["YourRef"] == "INV-2"
    )
    assert lines["AmountFCExclVat"] == "118.00"


def test_changed_after_sync_is_flagged_and_never_reposted(
    billing: Billing, make_engine: EngineFactory, admin: SandboxAdmin
) -> None:
    customer = billing.customer("cus_known_01", "Bakkerij De Gouden Korenaar B.V.")
    invoice = billing.document("INV-9", customer, [TEAM])
    make_engine().push_documents(day_window())

    billing.execute(
        "UPDATE invoice_lines SET description = 'Team plan, corrected' WHERE invoice_id = %s",
        invoice.id,
    )
    admin.clear_requests()
    engine = make_engine()
    report = engine.push_documents(day_window())

    assert report.counts["changed_after_sync"] == 1 and posts(admin) == 0
    (flagged,) = engine.blocked(day_window())
    assert flagged.state == ledger.CHANGED_AFTER_SYNC
    reason = flagged.last_error or ""
    assert "changed in billing after it was posted to Exact on" in reason
    assert "credit note" in reason

    accepted = engine.accept_change(invoice.id)
    assert accepted.state == ledger.SYNCED
    again = make_engine().push_documents(day_window())
    assert again.counts["already_synced"] == 1 and posts(admin) == 0


def test_a_billing_session_in_another_time_zone_changes_no_posted_document(
    billing: Billing,
    make_engine: EngineFactory,
    admin: SandboxAdmin,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A content hash writes the document's moments (`hashing`) in the zone billing's session
    reads them in. The server's zone changing, a restore or replica in another, or a PGTZ set on
    a new host would otherwise make every posted document read again (here: paid) differ from
    what was posted: flagged, or with `credit_and_repost`, reversed and posted again."""
    customer = billing.customer("cus_known_01", "Bakkerij De Gouden Korenaar B.V.")
    invoice = billing.document("INV-9", customer, [TEAM])
    make_engine().push_documents(day_window())

    monkeypatch.setenv("PGTZ", "Asia/Kathmandu")  # +05:45: no zone the first run could be in
    billing.execute("UPDATE invoices SET status = 'paid' WHERE id = %s", invoice.id)
    admin.clear_requests()
    engine = make_engine()
    report = engine.push_documents(day_window())

    assert report.counts["already_synced"] == 1 and posts(admin) == 0
    assert engine.blocked(day_window()) == []
    # A new document is hashed in the ledger's zone as well: the stage and the push agree.
    billing.document("INV-10", customer, [TEAM])
    assert engine.stage(day_window()).counts["staged"] == 1
    assert make_engine().push_documents(day_window()).counts["pushed"] == 1


def test_the_first_zone_the_ledger_sees_is_kept_even_by_a_run_starting_at_the_same_time(
    state_url: str,
) -> None:
    with (
        psycopg.connect(state_url, autocommit=True) as first,
        psycopg.connect(state_url, autocommit=True) as second,
        ThreadPoolExecutor(max_workers=1) as thread,
    ):
        ledger.ensure_schema(first)
        first.execute(f"DELETE FROM {STATE_SCHEMA}.ledger_hash_zone")
        with first.transaction():  # the first run's insert, not committed yet
            assert ledger.hash_zone(first, "Europe/Amsterdam") == "Europe/Amsterdam"
            racing = thread.submit(ledger.hash_zone, second, "Asia/Kathmandu")
            time.sleep(0.3)  # the second run waits on the first's row
            assert not racing.done()
        assert racing.result(timeout=10) == "Europe/Amsterdam"
        assert ledger.hash_zone(second, "UTC") == "Europe/Amsterdam"


def test_voided_documents_and_drafts(
    billing: Billing, make_engine: EngineFactory, admin: SandboxAdmin
) -> None:
    customer = billing.customer("cus_known_01", "Bakkerij De Gouden Korenaar B.V.")
    billing.document("INV-V1", customer, [TEAM], status="voided")
    posted = billing.document("INV-V2", customer, [TEAM])
    billing.document("DRAFT-1", customer, [TEAM], status="draft")
    admin.clear_requests()

    engine = make_engine()
    first = engine.push_documents(day_window())
    assert first.counts["skipped_voided"] == 1 and first.counts["pushed"] == 1
    assert posts(admin) == 4
    assert [row.number for row in engine.ledger_rows(day_window())] == ["INV-V1", "INV-V2"]

    billing.void(posted)
    admin.clear_requests()
    second = engine.push_documents(day_window())
    assert second.counts["voided_after_sync"] == 1 and posts(admin) == 0
    (flagged,) = engine.blocked(day_window())
    assert flagged.number == "INV-V2" and flagged.state == ledger.VOIDED_AFTER_SYNC
    assert "voided in billing after it was posted" in (flagged.last_error or "")
    stored = [r["YourRef"] for r in admin.store(NL, "salesinvoice/SalesInvoices")]
    assert stored == ["INV-V2"]


def test_long_texts_are_shortened_not_refused(
    billing: Billing, make_engine: EngineFactory, admin: SandboxAdmin
) -> None:
    name = "Coöperatieve Vereniging van Zeer Lange Namen en Nog Langere Achternamen U.A."
    customer = billing.customer("cus_long", name, email="finance@lang.example")
    long_line = "Team plan for the period 1 November 2026 to 30 November 2026, " * 3
    billing.document(
        "INV-LONG", customer, [TEAM], descriptions=[long_line], purchase_order="PO-" + "7" * 60
    )

    report = make_engine().push_documents(day_window())

    assert report.counts["pushed"] == 1, report.rows
    (invoice,) = admin.store(NL, "salesinvoice/SalesInvoices")
    assert len(invoice["Description"]) == 60 and invoice["Description"].endswith(ELLIPSIS)
    assert invoice["Description"].startswith("Invoice INV-LONG, PO PO-777")
    (line,) = admin.store(NL, "salesinvoice/SalesInvoiceLines")
    assert len(line["Description"]) == 60 and line["Description"].endswith(ELLIPSIS)
    assert line["Description"].startswith("Team plan for the period 1 November 2026")
    account = next(a for a in admin.store(NL, "crm/Accounts") if a["ID"] == invoice["OrderedBy"])
    assert len(account["Name"]) == 50 and account["Name"].endswith(ELLIPSIS)
    assert account["Name"].startswith("Coöperatieve Vereniging van Zeer Lange")
