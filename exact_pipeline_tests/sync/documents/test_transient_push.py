"""A flaky afternoon at Exact holds no document for an hour, and a run with many refusals never
runs into Exact's error block."""

from __future__ import annotations

import re
from collections import Counter

from exact_pipeline.exact.errorblock import PAUSE_AT
from exact_pipeline.sync.documents import ledger
from exact_pipeline_tests.exact.conftest import FAST_RETRY, NL, SandboxAdmin
from exact_pipeline_tests.sync.builder import Billing, day_window
from exact_pipeline_tests.sync.conftest import EngineFactory
from exact_pipeline_tests.sync.documents.test_faults import STEPS, assert_each_once, invoices

DOCUMENTS, ATTACHMENTS, INVOICES, BOOKING = STEPS


def test_transient_errors_never_hold_a_document(
    billing: Billing, make_engine: EngineFactory, admin: SandboxAdmin
) -> None:
    numbers = invoices(billing, 4)
    admin.faults(
        # a 500 that carries a message once is not Exact's refusal: tried again
        {"kind": "error", "status": 500, "path": INVOICES, "method": "POST", "times": 1},
        {"kind": "error", "status": 500, "path": BOOKING, "method": "POST", "times": 1},
        # gateways and a 500 without Exact's message, on every step, the booking included
        {"kind": "error", "status": 502, "body": "html", "path": BOOKING, "times": 2},
        {"kind": "error", "status": 503, "body": "empty", "path": DOCUMENTS, "times": 2},
        {"kind": "error", "status": 500, "body": "empty", "path": ATTACHMENTS, "times": 1},
        {"kind": "error", "status": 504, "body": "html", "path": INVOICES, "every": 3},
    )

    report = make_engine().push_documents(day_window())

    assert report.counts["pushed"] == 4, report.rows
    assert all(rule["fired"] for rule in admin.fault_rules())
    assert_each_once(admin, numbers)  # every invoice booked: a receivable, in this run


def test_a_document_exact_keeps_failing_fails_plainly_and_the_next_run_retries_it(
    billing: Billing, make_engine: EngineFactory, admin: SandboxAdmin
) -> None:
    numbers = invoices(billing, 1)
    attempts = FAST_RETRY.write_attempts
    admin.faults(
        {"kind": "error", "status": 503, "body": "html", "path": BOOKING, "times": attempts}
    )
    engine = make_engine()

    assert engine.push_documents(day_window()).counts["failed"] == 1
    (failed,) = engine.blocked(day_window())
    assert failed.state == ledger.FAILED and failed.retry_after is None
    reason = failed.last_error or ""
    assert "Exact was unavailable while creating the booking of the sales invoice" in reason
    assert "mapping" not in reason  # nothing for the user to fix

    assert make_engine().push_documents(day_window()).counts["pushed"] == 1  # no hour's wait
    assert_each_once(admin, numbers)


def test_many_refused_documents_never_reach_exacts_error_block(
    billing: Billing, make_engine: EngineFactory, admin: SandboxAdmin
) -> None:
    invoices(billing, PAUSE_AT + 3)
    admin.faults({"kind": "error", "status": 400, "path": INVOICES, "method": "POST"})
    engine = make_engine()

    report = engine.push_documents(day_window())

    assert report.counts["blocked"] == PAUSE_AT and report.counts["not_reached"] == 3
    assert admin.count(f"POST {INVOICES}") == PAUSE_AT
    assert admin.http.get("/_sandbox/limits").json()["blocked"] == {}
    stopped = report.stopped or ""
    assert stopped.startswith(
        f"Exact refused {PAUSE_AT} calls to {INVOICES} in division {NL} within the last hour"
    )
    assert re.search(r"until \d{4}-\d\d-\d\d \d\d:\d\d \(CET\); 3 documents stay staged", stopped)
    states = Counter(row.state for row in engine.ledger_rows(day_window()))
    assert states == {ledger.BLOCKED: PAUSE_AT, ledger.STAGED: 3}

    # The next run within the hour does not call the endpoint either.
    again = make_engine().push_documents(day_window())
    assert again.counts["not_reached"] == 3 and again.stopped
    assert admin.count(f"POST {INVOICES}") == PAUSE_AT
