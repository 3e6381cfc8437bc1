"""Resync a range against real Postgres and the sandbox over HTTP: an entry a bookkeeper
deleted is pushed again exactly once (a second resync pushes nothing), a dry run posts nothing,
a document that never arrived is pushed, nothing Exact holds is posted again, a receipt and an
account deleted in Exact come back, a spent budget stops it green with when to resume."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from exact_pipeline.sync.core.window import Window
from exact_pipeline.sync.documents import ledger
from exact_pipeline.sync.documents.engine import SyncEngine
from exact_pipeline.sync.reconciliation.compare import MISSING, NOT_IN_EXACT
from exact_pipeline.sync.resync.engine import ACCOUNT_GONE, RECEIPT_GONE, Resync
from exact_pipeline.sync.resync.report import (
    PUSHED,
    RE_PUSHED,
    WOULD_PUSH,
    WOULD_RE_PUSH,
    ResyncReport,
)
from exact_pipeline_tests.exact.conftest import NL, SandboxAdmin
from exact_pipeline_tests.sandbox.helpers import ExactClient as SandboxClient
from exact_pipeline_tests.sync.builder import AMSTERDAM, Billing
from exact_pipeline_tests.sync.conftest import EngineFactory, MappingFolder
from exact_pipeline_tests.sync.payments.conftest import (
    BANK_POST,
    Payments,
    PaymentsFactory,
    paid_window,
    posts,
    sync_documents,
    undo_in_exact,
)

FIRST, LAST = date(2026, 11, 1), date(2026, 11, 30)
NOVEMBER = Window(datetime(2026, 11, 1, tzinfo=AMSTERDAM), datetime(2026, 12, 1, tzinfo=AMSTERDAM))
ENTRY_POST = "POST salesentry/SalesEntries"
INVOICE_POST = "POST salesinvoice/SalesInvoices"
TEAM = ("prod_team", 1, 9900, "tax_nl_21")  # 99.00 + 20.79 VAT = 119.79
SEATS = ("prod_seat", 3, 1200, "tax_nl_21")  # 36.00 + 7.56 VAT = 43.56


def resync(make_session: Callable[..., Any], *scopes: str, dry_run: bool = False) -> ResyncReport:
    engine: Resync = make_session(Resync)
    return engine.run(FIRST, LAST, scopes or ("documents",), dry_run=dry_run)


def entries(admin: SandboxAdmin, number: str) -> list[dict[str, Any]]:
    return [e for e in admin.store(NL, "salesentry/SalesEntries") if e["YourRef"] == number]


def delete_entry(admin: SandboxAdmin, bookkeeper: SandboxClient, number: str) -> None:
    [entry] = entries(admin, number)
    deleted = bookkeeper.delete(f"salesentry/SalesEntries(guid'{entry['EntryID']}')")
    assert deleted.status_code == 204, deleted.text


def row_of(make_engine: EngineFactory, number: str) -> ledger.LedgerRow:
    engine: SyncEngine = make_engine()
    [row] = [r for r in engine.ledger_rows(NOVEMBER) if r.number == number]
    return row


def calls(admin: SandboxAdmin) -> int:
    """API calls in the divisions (Exact's budget), as the sandbox logged them."""
    return sum(admin.requests()["by_division"].values())


def test_an_entry_a_bookkeeper_deleted_is_pushed_again_once_and_only_once(
    billing: Billing,
    make_engine: EngineFactory,
    make_session: Callable[..., Any],
    mapping_folder: MappingFolder,
    admin: SandboxAdmin,
    bookkeeper: SandboxClient,
) -> None:
    mapping_folder.setting("invoice_push_mode", "sales_entry")
    acme = billing.customer("cus_1", "Acme B.V.")
    billing.document("NL-1", acme, [TEAM])
    billing.document("NL-2", acme, [SEATS])
    assert make_engine().push_documents(NOVEMBER).counts["pushed"] == 2
    document_id = row_of(make_engine, "NL-2").exact_document_id
    admin.clear_requests()
    delete_entry(admin, bookkeeper, "NL-2")

    report = resync(make_session)

    [row] = report.rows
    assert (row["number"], row["difference"], row["outcome"]) == ("NL-2", MISSING, RE_PUSHED)
    assert (row["state"], row["billing"], row["exact"]) == ("synced", "43.56", "")
    # The deleted entry once, its PDF's Exact Document kept; NL-1, still in Exact, untouched.
    assert admin.count(ENTRY_POST) == 1 and posts(admin) == 1
    assert len(entries(admin, "NL-2")) == 1 and len(entries(admin, "NL-1")) == 1
    synced = row_of(make_engine, "NL-2")
    assert synced.state == ledger.SYNCED and not synced.in_flight
    [entry] = entries(admin, "NL-2")
    assert str(synced.entry_id) == entry["EntryID"]
    assert synced.exact_document_id == document_id
    assert report.counts()[RE_PUSHED] == 1 and report.counts()["differences"] == 1
    # As Exact counts them: the reading, the look-ups, the POST, and (the same app's budget)
    # the bookkeeper's DELETE, which the division's remaining budget already showed.
    assert report.api_calls == calls(admin) == 8
    assert "| documents | NL-2 | 2026-11-20 | 310001 | missing in Exact |" in report.markdown()
    assert report.sentence().startswith(
        "Resync 2026-11-01…2026-11-30 (documents): 1 difference(s); 1 pushed again, "
        "0 pushed for the first time"
    )

    admin.clear_requests()
    again = resync(make_session)

    assert again.rows == [] and posts(admin) == 0
    assert again.markdown() == "Billing and Exact agree over the range: nothing to resync."


def test_a_dry_run_lists_what_it_would_push_and_posts_nothing(
    billing: Billing,
    make_engine: EngineFactory,
    make_session: Callable[..., Any],
    mapping_folder: MappingFolder,
    admin: SandboxAdmin,
    bookkeeper: SandboxClient,
) -> None:
    mapping_folder.setting("invoice_push_mode", "sales_entry")
    acme = billing.customer("cus_1", "Acme B.V.")
    billing.document("NL-1", acme, [TEAM])
    make_engine().push_documents(NOVEMBER)
    billing.document("NL-2", acme, [SEATS])  # issued after the push: never arrived
    delete_entry(admin, bookkeeper, "NL-1")
    admin.clear_requests()

    report = resync(make_session, dry_run=True)

    assert [(r["number"], r["difference"], r["outcome"]) for r in report.rows] == [
        ("NL-1", MISSING, WOULD_RE_PUSH),
        ("NL-2", NOT_IN_EXACT, WOULD_PUSH),
    ]
    assert posts(admin) == 0
    assert row_of(make_engine, "NL-1").state == ledger.SYNCED  # not reset either
    assert "dry run: 1 would be pushed again, 1 pushed for the first time" in report.sentence()


def test_a_document_that_never_arrived_is_pushed_and_nothing_in_exact_again(
    billing: Billing,
    make_engine: EngineFactory,
    make_session: Callable[..., Any],
    admin: SandboxAdmin,
) -> None:
    acme = billing.customer("cus_1", "Acme B.V.")
    billing.document("NL-1", acme, [TEAM])
    make_engine().push_documents(NOVEMBER)  # sales_invoice mode: NL-1 in Exact
    billing.document("NL-2", acme, [SEATS])
    make_engine().stage(NOVEMBER)  # a preview only: NL-2 staged, never pushed
    billing.document("NL-3", acme, [SEATS])  # never even staged
    assert row_of(make_engine, "NL-2").state == ledger.STAGED
    admin.clear_requests()

    report = resync(make_session)

    assert sorted((r["number"], r["difference"], r["outcome"]) for r in report.rows) == [
        ("NL-2", NOT_IN_EXACT, PUSHED),
        ("NL-3", NOT_IN_EXACT, PUSHED),
    ]
    assert admin.count(INVOICE_POST) == 2  # NL-2 and NL-3; NL-1 is not posted again
    invoices = admin.store(NL, "salesinvoice/SalesInvoices")
    assert sorted(i["YourRef"] for i in invoices) == ["NL-1", "NL-2", "NL-3"]
    assert row_of(make_engine, "NL-2").state == ledger.SYNCED

    admin.clear_requests()
    assert resync(make_session).rows == [] and posts(admin) == 0


def test_a_spent_budget_stops_the_resync_green_with_when_to_resume(
    billing: Billing,
    make_engine: EngineFactory,
    make_session: Callable[..., Any],
    mapping_folder: MappingFolder,
    admin: SandboxAdmin,
    bookkeeper: SandboxClient,
) -> None:
    mapping_folder.setting("invoice_push_mode", "sales_entry")
    acme = billing.customer("cus_1", "Acme B.V.")
    billing.document("NL-1", acme, [TEAM])
    make_engine().push_documents(NOVEMBER)
    delete_entry(admin, bookkeeper, "NL-1")
    used = admin.http.get("/_sandbox/limits").json()["usage"][str(NL)]["daily_used"]
    admin.configure(daily_limit=used)  # division 310001's day is spent
    admin.clear_requests()

    report = resync(make_session)

    assert any("daily API budget for division 310001 is spent" in s for s in report.stopped)
    assert "goes through after" in report.sentence() or "checks again" in report.sentence()
    assert posts(admin) == 0
    assert row_of(make_engine, "NL-1").state == ledger.SYNCED  # not read: nothing reset


def test_a_receipt_a_bookkeeper_deleted_is_pushed_again_once(
    billing: Billing,
    payments: Payments,
    make_engine: EngineFactory,
    make_payments: PaymentsFactory,
    make_session: Callable[..., Any],
    mapping_folder: MappingFolder,
    admin: SandboxAdmin,
    bookkeeper: SandboxClient,
) -> None:
    mapping_folder.setting("payment_sync", "billing_to_exact")
    invoice = billing.document("NL-1", billing.customer("cus_1", "Acme B.V."), [TEAM])
    sync_documents(make_engine)
    payment_id = payments.pay(invoice, 11979)
    assert make_payments().push_payments(paid_window()).counts["pushed"] == 1
    [receipt] = admin.store(NL, "financialtransaction/BankEntries")
    undo_in_exact(bookkeeper, receipt["EntryID"])
    admin.clear_requests()

    report = resync(make_session, "payments")

    [row] = report.rows
    assert (row["number"], row["difference"], row["outcome"]) == (
        payment_id,
        RECEIPT_GONE,
        RE_PUSHED,
    )
    assert admin.count(BANK_POST) == 1 and posts(admin) == 1  # looked up, then posted once
    assert len(admin.store(NL, "financialtransaction/BankEntries")) == 1

    admin.clear_requests()
    assert resync(make_session, "payments").rows == [] and posts(admin) == 0


def test_a_customer_whose_account_was_deleted_in_exact_gets_one_again(
    billing: Billing,
    make_engine: EngineFactory,
    make_session: Callable[..., Any],
    mapping_folder: MappingFolder,
    admin: SandboxAdmin,
    bookkeeper: SandboxClient,
) -> None:
    mapping_folder.setting("customer_sync", "billing_to_exact")
    billing.document("NL-1", billing.customer("cus_1", "Acme B.V."), [TEAM])
    engine: SyncEngine = make_engine()
    engine.stage(NOVEMBER)
    assert engine.sync_customers(NOVEMBER).counts["created"] == 1
    [account] = [a for a in admin.store(NL, "crm/Accounts") if a["Name"] == "Acme B.V."]
    deleted = bookkeeper.delete(f"crm/Accounts(guid'{account['ID']}')")
    assert deleted.status_code == 204, deleted.text
    admin.clear_requests()

    report = resync(make_session, "customers")

    [row] = report.rows
    assert (row["number"], row["difference"], row["outcome"]) == ("cus_1", ACCOUNT_GONE, PUSHED)
    assert row["detail"].startswith("created: account ")
    assert admin.count("POST crm/Accounts") == 1 and posts(admin) == 1
    [again] = [a for a in admin.store(NL, "crm/Accounts") if a["Name"] == "Acme B.V."]
    assert again["ID"] != account["ID"]

    admin.clear_requests()
    assert resync(make_session, "customers").rows == [] and posts(admin) == 0
