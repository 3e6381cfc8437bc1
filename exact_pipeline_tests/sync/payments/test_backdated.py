"""A payment booked today for a day whose partition already ran (back-dated) is pushed by the
next run, whatever day that run is for; once, and without a call when nothing is new."""

from __future__ import annotations

from datetime import datetime

from exact_pipeline_tests.exact.conftest import NL, SandboxAdmin
from exact_pipeline_tests.sync.builder import AMSTERDAM, Billing, day_window
from exact_pipeline_tests.sync.conftest import EngineFactory
from exact_pipeline_tests.sync.payments.conftest import (
    BANK_POST,
    TEAM,
    Payments,
    PaymentsFactory,
    outstanding,
    paid_window,
    sync_documents,
)


def today_window() -> object:
    return day_window(datetime.now(AMSTERDAM).date())


def test_a_back_dated_payment_is_pushed_by_todays_run_once(
    billing: Billing,
    payments: Payments,
    make_engine: EngineFactory,
    make_payments: PaymentsFactory,
    admin: SandboxAdmin,
) -> None:
    customer = billing.customer("cus_known_01", "Bakkerij De Gouden Korenaar B.V.")
    invoice = billing.document("INV-1", customer, [TEAM])
    sync_documents(make_engine)
    ran = make_payments().push_payments(paid_window())  # the payment's day runs: nothing yet
    assert ran.rows == []

    payment = payments.pay(invoice, invoice.total_amount)  # recorded now, paid on that day

    today = make_payments().push_payments(today_window())
    assert today.counts["pushed"] == 1, [(r["outcome"], r["reason"]) for r in today.rows]
    assert [row["payment"] for row in today.rows] == [payment]
    assert outstanding(admin, NL, "INV-1") == 0

    admin.clear_requests()
    again = make_payments().push_payments(today_window())
    day_again = make_payments().push_payments(paid_window())
    assert again.rows == []  # nothing new: not even reported again
    assert day_again.counts["already_done"] == 1 and day_again.counts["pushed"] == 0
    assert admin.requests()["by_endpoint"] == {}  # and no call to Exact
    assert admin.count(BANK_POST) == 0


def test_a_back_dated_payment_on_a_document_not_in_exact_waits_and_then_goes(
    billing: Billing,
    payments: Payments,
    make_engine: EngineFactory,
    make_payments: PaymentsFactory,
    admin: SandboxAdmin,
) -> None:
    """Recorded before its document reached Exact: it waits visibly, and goes once the
    document is there."""
    customer = billing.customer("cus_known_01", "Bakkerij De Gouden Korenaar B.V.")
    invoice = billing.document("INV-1", customer, [TEAM])
    make_payments().push_payments(today_window())  # a first run: the pipeline looks from here
    payments.pay(invoice, invoice.total_amount)

    waiting = make_payments().push_payments(today_window())
    assert waiting.counts["waiting"] == 1, waiting.rows

    sync_documents(make_engine)
    pushed = make_payments().push_payments(today_window())
    assert pushed.counts["pushed"] == 1, pushed.rows
    assert admin.count(BANK_POST) == 1
