"""Documents that keep failing: given up on after a bounded number of failures that are about
the document (never a spent budget, the reserve or an outage), no longer called for, listed
with their history, and put back by a person. Exact refuses one document by the sandbox's
fault rules (`body_contains` its number), the others go through."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from click.testing import CliRunner

from exact_pipeline.billing.models import Customer
from exact_pipeline.cli import main
from exact_pipeline.exact import (
    ExactClient,
    ExactValidationError,
    NotFoundError,
    OutcomeUnknownError,
    RateLimitError,
    ServerError,
)
from exact_pipeline.sync.documents import dead_letters, ledger
from exact_pipeline.sync.documents.dead_letters import Selection
from exact_pipeline.sync.documents.engine import SyncEngine
from exact_pipeline.sync.documents.ledger import LedgerRow
from exact_pipeline_tests.exact.conftest import NL, SandboxAdmin
from exact_pipeline_tests.sync.builder import Billing, day_window
from exact_pipeline_tests.sync.conftest import EngineFactory, MappingFolder

TEAM = ("prod_team", "1", 9900, "tax_nl_21")
SALES_INVOICES = "salesinvoice/SalesInvoices"
# Past the hour's cool-down of a document Exact refused (push.EXACT_COOL_DOWN).
NEXT_TRY = timedelta(hours=1, minutes=1)


@pytest.mark.parametrize(
    ("error", "went_through", "counts"),
    [
        (ExactValidationError("refused", status=400), False, True),
        (ExactValidationError("a business rule", status=500), False, True),
        (NotFoundError("gone", status=404), False, True),
        (ServerError("unavailable", status=503), True, True),
        (ServerError("unavailable", status=503), False, False),
        (KeyError("a field"), True, True),
        (KeyError("a field"), False, False),
        (OutcomeUnknownError("looking it up failed"), True, False),
        (RateLimitError("429s", status=429), True, False),
    ],
)
def test_which_failures_are_the_documents_fault(
    error: Exception, went_through: bool, counts: bool
) -> None:
    assert dead_letters.the_documents_fault(error, went_through) is counts


@pytest.fixture
def customer(billing: Billing) -> Customer:
    """A customer linked in customer_links.csv."""
    return billing.customer("cus_known_01", "Bakkerij De Gouden Korenaar B.V.")


def refuse(admin: SandboxAdmin, number: str, status: int = 500, body: str = "odata") -> None:
    """Exact answers every POST of `number`'s sales invoice with `status` (500 with a message:
    Exact's way of refusing a document on a business rule)."""
    admin.faults(
        {
            "kind": "error",
            "path": SALES_INVOICES,
            "method": "POST",
            "status": status,
            "body": body,
            "body_contains": f'"{number}"',
        }
    )


def row_of(engine: SyncEngine, number: str) -> LedgerRow:
    (row,) = [row for row in engine.ledger_rows(day_window()) if row.number == number]
    return row


def at(moment: datetime) -> Callable[[], datetime]:
    return lambda: moment


def events(state_url: str, number: str) -> list[dead_letters.Attempt]:
    """The document's history as the state database holds it."""
    billing_id = f"doc_{number.lower()}"
    with psycopg.connect(state_url, autocommit=True) as conn:
        return dead_letters.history(conn, [billing_id])[billing_id]


def test_a_document_exact_keeps_refusing_is_given_up_on_and_no_longer_called_for(
    billing: Billing, customer: Customer, make_engine: EngineFactory, admin: SandboxAdmin
) -> None:
    billing.document("BAD-1", customer, [TEAM])
    billing.document("OK-1", customer, [TEAM])
    refuse(admin, "BAD-1")
    start = datetime.now(UTC)

    outcomes = []
    for attempt in range(1, 6):  # the default: given up on at the 5th failure
        engine = make_engine(now=at(start + attempt * NEXT_TRY))
        report = engine.push_documents(day_window())
        outcomes.append(next(r["outcome"] for r in report.rows if r["number"] == "BAD-1"))
        state = row_of(engine, "BAD-1").state
        assert state == (ledger.DEAD_LETTER if attempt == 5 else ledger.BLOCKED), attempt
    assert outcomes == ["blocked"] * 4 + ["dead_letter"]
    assert report.counts["dead_letter"] == 1
    assert row_of(engine, "OK-1").state == ledger.SYNCED

    dead = row_of(engine, "BAD-1")
    assert (dead.last_error or "").startswith("needs a person: 5 failed attempt(s) since ")
    assert "Injected fault (sandbox)" in (dead.last_error or "")
    assert "exact-pipeline documents retry BAD-1" in (dead.last_error or "")
    history = engine.histories([dead])[dead.billing_id]
    assert [(a.event, a.counts) for a in history] == [("refused", True)] * 5 + [("gave_up", False)]
    assert all(a.status == 500 and a.answer == "Injected fault (sandbox)" for a in history[:5])
    assert all(a.doing == "creating the sales invoice" for a in history[:5])
    assert [a.at for a in history[:5]] == [start + n * NEXT_TRY for n in range(1, 6)]

    # Days later, a new document goes through; the one given up on costs no call at all.
    billing.document("OK-2", customer, [TEAM])
    matched = admin.fault_rules()[0]["matched"]
    admin.clear_requests()
    later = make_engine(now=at(start + timedelta(days=8))).push_documents(day_window())
    assert {r["number"]: r["outcome"] for r in later.rows} == {
        "BAD-1": "dead_letter",
        "OK-1": "already_synced",
        "OK-2": "pushed",
    }
    assert admin.count(f"POST {SALES_INVOICES}") == 1
    assert admin.fault_rules()[0]["matched"] == matched


def test_only_failures_about_the_document_count(
    billing: Billing,
    customer: Customer,
    make_engine: EngineFactory,
    admin: SandboxAdmin,
    mapping_folder: MappingFolder,
    exact: ExactClient,
    state_url: str,
) -> None:
    mapping_folder.setting("give_up_after_attempts", "1")  # any counted failure gives up
    billing.document("BAD-1", customer, [TEAM])
    billing.document("OTHER-1", customer, [TEAM])
    engine = make_engine()

    # An outage: every sales invoice fails (503 without a word), nothing goes through.
    admin.faults(
        {"kind": "error", "path": SALES_INVOICES, "method": "POST", "status": 503, "body": "empty"}
    )
    outage = engine.push_documents(day_window())
    assert outage.counts["failed"] == 2 and outage.counts["dead_letter"] == 0
    assert {row_of(engine, n).state for n in ("BAD-1", "OTHER-1")} == {ledger.FAILED}
    assert engine.histories([row_of(engine, "BAD-1")]) == {}  # shown for dead letters
    assert [(e.event, e.counts) for e in events(state_url, "BAD-1")] == [("failed", False)]

    # A 5xx for this document alone while the other goes through: the document's own.
    admin.http.delete("/_sandbox/faults")
    refuse(admin, "BAD-1", status=503, body="empty")
    own = engine.push_documents(day_window())
    outcomes = {r["number"]: r["outcome"] for r in own.rows}
    assert outcomes == {"BAD-1": "dead_letter", "OTHER-1": "pushed"}
    assert [(e.event, e.counts, e.status) for e in events(state_url, "BAD-1")] == [
        ("failed", False, 503),
        ("failed", True, 503),
        ("gave_up", False, None),
    ]

    # The reserve kept for live documents, then a spent daily budget: the division stops
    # before the document Exact would refuse is even tried.
    admin.http.delete("/_sandbox/faults")
    billing.document("BAD-2", customer, [TEAM])
    refuse(admin, "BAD-2")
    with exact.keep_in_reserve(100, NL):
        reserved = engine.push_documents(day_window())
    used = admin.http.get("/_sandbox/limits").json()["usage"][str(NL)]["daily_used"]
    admin.configure(daily_limit=used)
    spent = engine.push_documents(day_window())
    for stop in (reserved, spent):
        assert stop.stopped is not None
        assert {r["number"]: r["outcome"] for r in stop.rows}["BAD-2"] == "not_reached"
    assert admin.fault_rules()[0]["matched"] == 0
    assert row_of(engine, "BAD-2").state == ledger.STAGED
    assert events(state_url, "BAD-2") == []


@pytest.mark.parametrize("by_number", [True, False])
def test_put_back_it_syncs_once_the_cause_is_gone(
    billing: Billing,
    customer: Customer,
    make_engine: EngineFactory,
    admin: SandboxAdmin,
    mapping_folder: MappingFolder,
    state_url: str,
    by_number: bool,
) -> None:
    mapping_folder.setting("give_up_after_attempts", "2")
    billing.document("BAD-1", customer, [TEAM])
    refuse(admin, "BAD-1")
    start = datetime.now(UTC)
    for attempt in (1, 2):
        make_engine(now=at(start + attempt * NEXT_TRY)).push_documents(day_window())
    engine = make_engine(now=at(start + 3 * NEXT_TRY))
    assert row_of(engine, "BAD-1").state == ledger.DEAD_LETTER

    selection = Selection(documents=("BAD-1", "NOPE-9")) if by_number else Selection(all=True)
    put = engine.put_back(selection, by="a test")
    assert [row.number for row in put.rows] == ["BAD-1"]
    assert put.not_found == (["NOPE-9"] if by_number else [])
    back = row_of(engine, "BAD-1")
    assert (back.state, back.attempts, back.block_kind) == (ledger.STAGED, 0, None)

    # Still refused: the count starts afresh (one failure is not two).
    engine.push_documents(day_window())
    assert row_of(engine, "BAD-1").state == ledger.BLOCKED

    admin.http.delete("/_sandbox/faults")
    report = make_engine(now=at(start + 5 * NEXT_TRY)).push_documents(day_window())
    assert report.counts["pushed"] == 1
    stored = admin.store(NL, SALES_INVOICES)
    assert [r["YourRef"] for r in stored] == ["BAD-1"]
    assert [e.event for e in events(state_url, "BAD-1")] == [
        "refused",
        "refused",
        "gave_up",
        "put_back",
        "refused",
    ]


def test_a_change_in_billing_puts_a_dead_letter_back_by_itself(
    billing: Billing,
    customer: Customer,
    make_engine: EngineFactory,
    admin: SandboxAdmin,
    mapping_folder: MappingFolder,
) -> None:
    mapping_folder.setting("give_up_after_attempts", "1")
    billing.document("BAD-1", customer, [TEAM])
    refuse(admin, "BAD-1")
    engine = make_engine()
    engine.push_documents(day_window())
    assert row_of(engine, "BAD-1").state == ledger.DEAD_LETTER
    engine.stage(day_window())
    assert row_of(engine, "BAD-1").state == ledger.DEAD_LETTER  # unchanged: stays

    admin.http.delete("/_sandbox/faults")
    billing.execute("UPDATE invoices SET purchase_order = 'PO-7' WHERE number = %s", "BAD-1")
    report = make_engine().push_documents(day_window())
    assert report.counts["pushed"] == 1


def test_the_cli_lists_them_with_their_history_and_puts_them_back(
    billing: Billing,
    customer: Customer,
    make_engine: EngineFactory,
    admin: SandboxAdmin,
    mapping_folder: MappingFolder,
    state_url: str,
) -> None:
    mapping_folder.setting("give_up_after_attempts", "1")
    billing.document("BAD-1", customer, [TEAM])
    refuse(admin, "BAD-1")
    engine = make_engine()
    engine.push_documents(day_window())
    cli = CliRunner()
    where = ["--state-url", state_url]
    listing = ["documents", "dead-letters", *where, "--mappings", str(mapping_folder.folder)]

    listed = cli.invoke(main, listing)

    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    assert lines[0].startswith("BAD-1  Bakkerij De Gouden Korenaar B.V.  issued 2026-11-20")
    assert lines[1].startswith("  needs a person: 1 failed attempt(s) since ")
    assert "refused while creating the sales invoice (HTTP 500):" in lines[2]
    assert lines[3] == "      Injected fault (sandbox)"
    assert "gave_up" in lines[4]

    assert cli.invoke(main, ["documents", "retry", *where]).exit_code == 2  # which ones?
    missing = cli.invoke(main, ["documents", "retry", "NOPE-9", *where])
    assert missing.exit_code == 1
    assert "not given up on (nothing to put back): NOPE-9" in missing.output

    put = cli.invoke(main, ["documents", "retry", "BAD-1", *where])

    assert put.exit_code == 0, put.output
    assert put.output == "put back: BAD-1 (issued 2026-11-20)\n"
    back = row_of(engine, "BAD-1")
    assert back.state == ledger.STAGED
    assert back.last_error == (
        "put back by exact-pipeline documents retry after it was given up on: the next push of "
        "its day posts it"
    )
    assert [e.event for e in events(state_url, "BAD-1")][-1] == "put_back"
    assert cli.invoke(main, listing).output == ("No document is given up on.\n")
