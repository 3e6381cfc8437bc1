"""payment_sync billing_to_exact: billing's payments become receipts that settle the documents'
open items in Exact (full, partial, several, refunds), once; a payment whose document is not in
Exact waits and goes later; one that Exact already has is blocked, not posted twice."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from exact_pipeline.exact import ExactClient, ExactConfig
from exact_pipeline.state.exact import open_exact
from exact_pipeline.sync.payments import ledger as payment_ledger
from exact_pipeline_tests.exact.conftest import FAST_RETRY, NL, TOKEN_KEY, SandboxAdmin
from exact_pipeline_tests.sync.builder import Billing, day_window
from exact_pipeline_tests.sync.conftest import EngineFactory, MappingFolder
from exact_pipeline_tests.sync.payments.conftest import (
    BANK_POST,
    SEAT,
    TEAM,
    Payments,
    PaymentsFactory,
    items_of,
    outstanding,
    paid_window,
    pay_in_exact,
    sync_documents,
)

BETA = ("prod_beta_ai", "1", 1900, "tax_nl_21")  # not in the demo's products.csv


@pytest.fixture(autouse=True)
def pushing(mapping_folder: MappingFolder) -> None:
    mapping_folder.setting("payment_sync", "billing_to_exact")


def bank_lines(admin: SandboxAdmin) -> dict[str, dict]:
    return {r["Description"]: r for r in admin.store(NL, "financialtransaction/BankEntryLines")}


@pytest.mark.parametrize("push_mode", ["sales_invoice", "sales_entry"])
def test_receipts_settle_full_partial_several_and_refunds_once(
    push_mode: str,
    billing: Billing,
    payments: Payments,
    mapping_folder: MappingFolder,
    make_engine: EngineFactory,
    make_payments: PaymentsFactory,
    admin: SandboxAdmin,
) -> None:
    mapping_folder.setting("invoice_push_mode", push_mode)
    customer = billing.customer("cus_known_01", "Bakkerij De Gouden Korenaar B.V.")
    full = billing.document("INV-1", customer, [TEAM])  # 119.79
    part = billing.document("INV-2", customer, [TEAM])  # 119.79
    split = billing.document("INV-3", customer, [TEAM, SEAT])  # 134.31
    credit = billing.document("CN-1", customer, [SEAT], original=split)  # 14.52
    sync_documents(make_engine)
    ids = [
        payments.pay(full, 11979),
        payments.pay(part, 5000),
        payments.pay(split, 10000),
        payments.pay(split, 3431),
        payments.pay(credit, 1452),  # the refund
    ]
    admin.clear_requests()

    report = make_payments().push_payments(paid_window())

    assert report.counts["pushed"] == 5, report.rows
    assert admin.count(BANK_POST) == 5
    assert report.amounts == {"EUR": "289.58"}  # 119.79 + 50 + 100 + 34.31 - 14.52
    assert outstanding(admin, NL, "INV-1") == 0
    assert outstanding(admin, NL, "INV-2") == Decimal("69.79")
    assert outstanding(admin, NL, "INV-3") == 0
    assert outstanding(admin, NL, "CN-1") == 0
    assert all(r["IsFullyPaid"] for r in items_of(admin, NL, "INV-3"))
    partial = sorted(items_of(admin, NL, "INV-2"), key=lambda r: Decimal(r["AmountFC"]))
    assert [(r["AmountFC"], r["IsFullyPaid"]) for r in partial] == [
        ("50.00", True),
        ("69.79", False),
    ]
    lines = bank_lines(admin)
    number = {n: items_of(admin, NL, n)[0]["InvoiceNumber"] for n in ("INV-1", "CN-1")}
    assert lines[f"billing payment {ids[0]}"]["OurRef"] == number["INV-1"]
    assert lines[f"billing payment {ids[0]}"]["AmountFC"] == "119.79"
    assert lines[f"billing payment {ids[4]}"]["OurRef"] == number["CN-1"]
    assert lines[f"billing payment {ids[4]}"]["AmountFC"] == "-14.52"
    pushed_rows = {row["payment"]: row for row in report.rows}
    assert pushed_rows[ids[4]]["amount"] == "-14.52" and pushed_rows[ids[4]]["exact_entry"]

    admin.clear_requests()
    again = make_payments().push_payments(paid_window())
    assert again.counts["already_done"] == 5 and again.counts["pushed"] == 0
    assert admin.requests()["total"] == 0  # the ledger answers: not a single call
    assert make_payments().differences(day_window()) == []


def test_a_payment_waits_for_its_document_and_goes_once_it_syncs(
    billing: Billing,
    payments: Payments,
    mapping_folder: MappingFolder,
    make_engine: EngineFactory,
    make_payments: PaymentsFactory,
    admin: SandboxAdmin,
) -> None:
    customer = billing.customer("cus_known_01", "Bakkerij De Gouden Korenaar B.V.")
    blocked = billing.document("INV-9", customer, [TEAM, BETA])  # 142.78, product unmapped
    payment = payments.pay(blocked, 14278)
    sync_documents(make_engine)
    admin.clear_requests()

    first = make_payments().push_payments(paid_window())

    assert first.counts["waiting"] == 1 and admin.count(BANK_POST) == 0
    (row,) = first.rows
    assert "INV-9 is not in Exact yet (blocked" in row["reason"] and "products.csv" in row["reason"]
    (pending,) = make_payments().pending()
    assert pending.payment_id == payment and pending.state == payment_ledger.WAITING

    mapping_folder.append("products.csv", "prod_beta_ai,SUB-AI-BETA,")
    sync_documents(make_engine)
    admin.clear_requests()
    later_day = make_payments().push_payments(day_window(date(2026, 11, 24)))

    assert later_day.counts["pushed"] == 1, later_day.rows
    assert admin.count(BANK_POST) == 1
    assert outstanding(admin, NL, "INV-9") == 0
    assert make_payments().pending() == []


def test_a_payment_exact_already_has_is_blocked_not_posted_twice(
    billing: Billing,
    payments: Payments,
    make_engine: EngineFactory,
    make_payments: PaymentsFactory,
    exact: ExactClient,
    admin: SandboxAdmin,
) -> None:
    customer = billing.customer("cus_known_01", "Bakkerij De Gouden Korenaar B.V.")
    invoice = billing.document("INV-1", customer, [TEAM])
    sync_documents(make_engine)
    pay_in_exact(exact, admin, NL, "INV-1", "119.79")  # the bookkeeper was quicker
    payments.pay(invoice, 11979)
    admin.clear_requests()

    report = make_payments().push_payments(paid_window())

    assert report.counts["blocked"] == 1 and admin.count(BANK_POST) == 0
    (row,) = report.rows
    assert "Exact shows 0.00 open on invoice INV-1" in row["reason"]
    assert "registered in Exact already" in row["reason"]
    assert make_payments().differences(day_window()) == []  # one payment, on both sides

    make_payments().accept(row["payment"])  # the bookkeeper confirms: it is that payment
    admin.clear_requests()
    again = make_payments().push_payments(paid_window())
    assert again.counts["already_done"] == 1 and admin.requests()["total"] == 0
    assert make_payments().pending() == []


def test_a_lost_answer_is_looked_up_by_the_next_run_not_posted_again(
    billing: Billing,
    payments: Payments,
    make_engine: EngineFactory,
    make_payments: PaymentsFactory,
    admin: SandboxAdmin,
) -> None:
    customer = billing.customer("cus_known_01", "Bakkerij De Gouden Korenaar B.V.")
    invoice = billing.document("INV-1", customer, [TEAM])
    sync_documents(make_engine)
    payment = payments.pay(invoice, 11979)
    # The receipt is committed but its answer lost, and looking it up fails too.
    admin.faults(
        {"kind": "lost_response", "path": "BankEntries", "method": "POST", "times": 1},
        {"kind": "error", "path": "BankEntryLines", "method": "GET", "status": 503},
    )

    first = make_payments().push_payments(paid_window())

    assert first.counts["failed"] == 1, first.rows
    assert "nothing is posted twice" in first.rows[0]["reason"]
    admin.clear_faults()
    admin.clear_requests()
    second = make_payments().push_payments(paid_window())

    assert second.counts["pushed"] == 1 and admin.count(BANK_POST) == 0
    assert [d for d in bank_lines(admin) if payment in d] == [f"billing payment {payment}"]
    assert outstanding(admin, NL, "INV-1") == 0


def test_the_daily_budget_stops_the_division_and_the_next_day_goes_on(
    billing: Billing,
    payments: Payments,
    make_engine: EngineFactory,
    make_payments: PaymentsFactory,
    admin: SandboxAdmin,
    config: ExactConfig,
    state_url: str,
) -> None:
    customer = billing.customer("cus_known_01", "Bakkerij De Gouden Korenaar B.V.")
    invoices = [billing.document(f"INV-{n}", customer, [TEAM]) for n in (1, 2, 3)]
    sync_documents(make_engine)  # the run's client has read the master data already
    ids = [payments.pay(invoice, 11979) for invoice in invoices]
    used = admin.http.get("/_sandbox/limits").json()["usage"][str(NL)]["daily_used"]
    admin.configure(daily_limit=used + 2)  # the open items and one receipt

    report = make_payments().push_payments(paid_window())

    assert (report.counts["pushed"], report.counts["not_reached"]) == (1, 2), report.rows
    assert report.stopped is not None and report.stopped.startswith(
        f"Exact's daily API budget for division {NL} is spent; 2 payments stay waiting and go "
        "through after "
    )
    admin.advance(86_400)  # the next day: a fresh budget, and a new run with a new client
    with open_exact(config, state_url, TOKEN_KEY, retry=FAST_RETRY) as tomorrow:
        rest = make_payments(exact=tomorrow).push_payments(paid_window())
    assert (rest.counts["pushed"], rest.counts["already_done"]) == (2, 1), rest.rows
    lines = bank_lines(admin)
    assert all(f"billing payment {payment}" in lines for payment in ids)
    assert admin.count(BANK_POST) == 3
