"""Closed periods (`closed_period: block | next_open_period`): a document dated in a period a
bookkeeper closed in Exact is blocked with the period named and nothing posted, or booked in
the next open period with its own date kept (both push modes); a period closed between the
stage and the push is decided again on Exact's refusal; the statuses are read once and kept
across runs. Periods are closed through the sandbox's admin API, as a bookkeeper would."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from exact_pipeline.defs.metadata import preview
from exact_pipeline.exact import ExactClient, ExactConfig
from exact_pipeline.state.exact import open_exact
from exact_pipeline.sync.documents import ledger
from exact_pipeline_tests.exact.conftest import FAST_RETRY, NL, TOKEN_KEY, SandboxAdmin
from exact_pipeline_tests.sync.builder import Billing, day_window
from exact_pipeline_tests.sync.conftest import EngineFactory, MappingFolder

STATUSES = "GET read/financial/JournalStatusList"
ENTRIES = {"sales_entry": "salesentry/SalesEntries", "sales_invoice": "salesinvoice/SalesInvoices"}
MODES = sorted(ENTRIES)
Run = Callable[[], ExactClient]


@pytest.fixture
def next_run(exact: ExactClient, config: ExactConfig, state_url: str) -> Run:
    """A new client on the same state database (the next run); closed by its `with`."""
    return lambda: open_exact(config, state_url, TOKEN_KEY, retry=FAST_RETRY)


def close(admin: SandboxAdmin, year: int, period: int, *, closed: bool = True) -> None:
    """What a bookkeeper does in Exact: close (or reopen) a period of the sales journal 70."""
    body = {"division": NL, "journal": "70", "year": year, "period": period, "closed": closed}
    admin.http.post("/_sandbox/periods", json=body).raise_for_status()


def posts(admin: SandboxAdmin) -> list[str]:
    """Every POST to Exact's document endpoints so far."""
    endpoints = admin.requests()["by_endpoint"]
    return [key for key in endpoints if key.startswith(("POST documents", "POST sales"))]


def in_exact(admin: SandboxAdmin, mode: str, number: str) -> dict[str, Any]:
    (found,) = [r for r in admin.store(NL, ENTRIES[mode]) if r["YourRef"] == number]
    return found


def booked(admin: SandboxAdmin, mode: str) -> set[str]:
    """The numbers Exact has booked (a sales invoice only once PrintedSalesInvoices took it)."""
    entries = admin.store(NL, ENTRIES[mode])
    if mode == "sales_entry":
        return {r["YourRef"] for r in entries}
    printed = {r["InvoiceID"] for r in admin.store(NL, "salesinvoice/PrintedSalesInvoices")}
    return {r["YourRef"] for r in entries if r["InvoiceID"] in printed}


def ledger_periods(admin: SandboxAdmin, entry_id: str) -> set[tuple[int, int]]:
    lines = admin.store(NL, "financialtransaction/TransactionLines")
    return {(r["FinancialYear"], r["FinancialPeriod"]) for r in lines if r["EntryID"] == entry_id}


@pytest.fixture
def customer(billing: Billing) -> Any:
    return billing.customer("cus_known_01", "Bakkerij De Gouden Korenaar B.V.")


@pytest.mark.parametrize("mode", MODES)
def test_block_names_the_period_and_posts_nothing(
    mode: str,
    billing: Billing,
    customer: Any,
    mapping_folder: MappingFolder,
    make_engine: EngineFactory,
    next_run: Run,
    admin: SandboxAdmin,
) -> None:
    mapping_folder.setting("invoice_push_mode", mode)
    close(admin, 2026, 11)
    billing.document("INV-9101", customer, [("prod_team", "1", 9900, "tax_nl_21")])
    admin.clear_requests()
    engine = make_engine()
    report = engine.push_documents(day_window())
    (row,) = engine.blocked(day_window())
    assert report.counts["blocked"] == 1, report.rows
    assert row.block_kind == ledger.PERIOD and row.retry_after is None
    reason = row.last_error or ""
    assert "2026-11-20 falls in period 2026/11 of sales journal 70" in reason, reason
    assert "closed in Exact division 310001" in reason
    assert "reopen period 2026/11 of journal 70 in Exact" in reason
    assert "closed_period: next_open_period" in reason
    assert posts(admin) == []  # not even the PDF's Document

    close(admin, 2026, 11, closed=False)  # reopened: the next run posts it, in its own period
    with next_run() as second:
        again = make_engine(exact=second).push_documents(day_window())
    assert again.counts["pushed"] == 1, again.rows
    entry = in_exact(admin, mode, "INV-9101")
    key = "EntryID" if mode == "sales_entry" else "InvoiceID"
    assert ledger_periods(admin, entry[key]) == {(2026, 11)}


@pytest.mark.parametrize("mode", MODES)
def test_next_open_period_books_it_there_with_its_own_date(
    mode: str,
    billing: Billing,
    customer: Any,
    mapping_folder: MappingFolder,
    make_engine: EngineFactory,
    next_run: Run,
    admin: SandboxAdmin,
) -> None:
    mapping_folder.setting("invoice_push_mode", mode).setting("closed_period", "next_open_period")
    close(admin, 2026, 11)
    close(admin, 2026, 12)
    billing.document("INV-9201", customer, [("prod_team", "1", 9900, "tax_nl_21")])
    report = make_engine().push_documents(day_window())
    (row,) = [r for r in report.rows if r["number"] == "INV-9201"]
    # 2026/12 is closed too, and the sandbox lists no 2027 yet: nowhere open after it
    assert row["outcome"] == "blocked", row
    assert "no later period of the journal is open" in row["reason"]
    assert "create the next financial year there" in row["reason"]

    close(admin, 2026, 12, closed=False)
    admin.clear_requests()
    with next_run() as second:
        assert make_engine(exact=second).push_documents(day_window()).counts["pushed"] == 1
    entry = in_exact(admin, mode, "INV-9201")
    if mode == "sales_entry":
        assert entry["EntryDate"].startswith("2026-11-20"), entry["EntryDate"]
        assert (entry["ReportingYear"], entry["ReportingPeriod"]) == (2026, 12)
        entry_id = entry["EntryID"]
    else:
        assert entry["InvoiceDate"].startswith("2026-11-20"), entry["InvoiceDate"]
        (booking,) = admin.store(NL, "salesinvoice/PrintedSalesInvoices")
        assert (booking["ReportingYear"], booking["ReportingPeriod"]) == (2026, 12)
        assert booking["InvoiceDate"].startswith("2026-11-20")
        entry_id = entry["InvoiceID"]
    assert ledger_periods(admin, entry_id) == {(2026, 12)}
    assert admin.count(STATUSES) == 1  # its period was closed: confirmed once this run

    # The stage's preview shows the period a document will be booked in (from the cache).
    billing.document("INV-9202", customer, [("prod_seat", "2", 1200, "tax_nl_21")])
    with next_run() as third:
        staged = make_engine(exact=third).stage(day_window())
    (shown,) = [r for r in staged.rows if r["number"] == "INV-9202"]
    assert shown["reporting_period"] == "2026/12 (2026/11 is closed; its own date kept)"
    (booked_row,) = [r for r in staged.rows if r["number"] == "INV-9201"]
    assert "reporting_period" not in booked_row  # synced: nothing left to decide
    table = preview(staged)["payload preview"].records
    assert {r.data["number"]: r.data["reporting_period"] for r in table}["INV-9202"].startswith(
        "2026/12"
    )


@pytest.mark.parametrize("policy", ["block", "next_open_period"])
@pytest.mark.parametrize("mode", MODES)
def test_a_period_closed_after_the_statuses_were_read_is_decided_again(
    mode: str,
    policy: str,
    billing: Billing,
    customer: Any,
    mapping_folder: MappingFolder,
    make_engine: EngineFactory,
    next_run: Run,
    admin: SandboxAdmin,
) -> None:
    mapping_folder.setting("invoice_push_mode", mode).setting("closed_period", policy)
    billing.document("INV-9301", customer, [("prod_team", "1", 9900, "tax_nl_21")])
    assert make_engine().push_documents(day_window()).counts["pushed"] == 1  # reads: all open
    billing.document("INV-9302", customer, [("prod_seat", "2", 1200, "tax_nl_21")])
    make_engine().stage(day_window())

    close(admin, 2026, 11)  # after the stage, with the cache saying open
    admin.clear_requests()
    with next_run() as second:
        engine = make_engine(exact=second)
        report = engine.push_documents(day_window())
        row = ledger.document(engine._state, "doc_inv-9302")
    assert row is not None
    assert admin.count(STATUSES) == 1  # read again on Exact's refusal, once
    if policy == "block":
        assert report.counts["blocked"] == 1, report.rows
        assert row.block_kind == ledger.PERIOD and row.retry_after is None  # no cool-down
        assert "period 2026/11 of sales journal 70" in (row.last_error or "")
        assert booked(admin, mode) == {"INV-9301"}
    else:
        assert report.counts["pushed"] == 1, report.rows
        assert row.state == ledger.SYNCED
        assert booked(admin, mode) == {"INV-9301", "INV-9302"}
        entry = in_exact(admin, mode, "INV-9302")
        key = "EntryID" if mode == "sales_entry" else "InvoiceID"
        assert ledger_periods(admin, entry[key]) == {(2026, 12)}


def test_the_statuses_are_read_once_and_kept_across_runs(
    billing: Billing,
    customer: Any,
    make_engine: EngineFactory,
    next_run: Run,
    admin: SandboxAdmin,
) -> None:
    billing.document("INV-9401", customer, [("prod_team", "1", 9900, "tax_nl_21")])
    admin.clear_requests()
    assert make_engine().push_documents(day_window()).counts["pushed"] == 1
    assert admin.count(STATUSES) == 1

    billing.document("INV-9402", customer, [("prod_seat", "2", 1200, "tax_nl_21")])
    admin.clear_requests()
    with next_run() as second:
        assert make_engine(exact=second).push_documents(day_window()).counts["pushed"] == 1
    assert admin.count(STATUSES) == 0
