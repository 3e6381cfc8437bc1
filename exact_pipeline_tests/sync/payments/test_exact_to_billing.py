"""payment_sync exact_to_billing: payments registered in Exact through the API land in billing
once, to the cent, with the right status; the status change re-posts nothing; a payment on a
document we did not push, or one billing already holds, is reported and not written; one undone
in Exact later is reported, and billing keeps it."""

from __future__ import annotations

from datetime import date

import pytest

from exact_pipeline.exact import ExactClient, LookupKey
from exact_pipeline.exact.endpoints import ACCOUNTS, SALES_ENTRIES
from exact_pipeline_tests.exact.conftest import NL, SandboxAdmin
from exact_pipeline_tests.sync.builder import Billing, day_window
from exact_pipeline_tests.sync.conftest import EngineFactory, MappingFolder
from exact_pipeline_tests.sync.payments.conftest import (
    SEAT,
    TEAM,
    Payments,
    PaymentsFactory,
    SandboxClient,
    pay_in_exact,
    posts,
    sync_documents,
    undo_in_exact,
)


@pytest.fixture(autouse=True)
def importing(mapping_folder: MappingFolder) -> None:
    mapping_folder.setting("payment_sync", "exact_to_billing")


def test_payments_made_in_exact_land_once_with_the_status(
    billing: Billing,
    payments: Payments,
    make_engine: EngineFactory,
    make_payments: PaymentsFactory,
    exact: ExactClient,
    admin: SandboxAdmin,
) -> None:
    customer = billing.customer("cus_known_01", "Bakkerij De Gouden Korenaar B.V.")
    full = billing.document("INV-1", customer, [TEAM])  # 119.79
    part = billing.document("INV-2", customer, [TEAM])  # 119.79
    split = billing.document("INV-3", customer, [TEAM, SEAT])  # 134.31
    credit = billing.document("CN-1", customer, [SEAT], original=split)  # 14.52
    sync_documents(make_engine)
    for number, amount in (
        ("INV-1", "119.79"),
        ("INV-2", "50.00"),
        ("INV-3", "100.00"),
        ("INV-3", "34.31"),
        ("CN-1", "-14.52"),  # the refund
    ):
        pay_in_exact(exact, admin, NL, number, amount)

    report = make_payments().import_payments()

    assert report.counts["imported"] == 5, report.rows
    assert report.amounts == {"EUR": "289.58"}
    rows = payments.rows()
    assert sorted((r["number"], r["amount"]) for r in rows) == [
        ("CN-1", 1452),
        ("INV-1", 11979),
        ("INV-2", 5000),
        ("INV-3", 3431),
        ("INV-3", 10000),
    ]
    assert {r["source"] for r in rows} == {"exact_online"}
    settled = {r["ID"] for r in admin.store(NL, "cashflow/Receivables") if r["IsFullyPaid"]}
    assert {r["external_id"] for r in rows} == settled  # Exact's ids, one payment each
    assert [payments.status(d) for d in (full, part, split, credit)] == [
        "paid",
        "partially_paid",
        "paid",
        "paid",
    ]
    assert make_payments().differences(day_window()) == []

    admin.clear_requests()
    again = make_payments().import_payments()
    assert again.counts["imported"] == 0 and len(payments.rows()) == 5
    assert posts(admin) == 0
    # The status change moved the documents' updated_at, and the next document run sees them:
    # their payload leaves payments out, so they stay synced and nothing is posted.
    rerun = make_engine().push_documents(day_window())
    assert rerun.counts["already_synced"] == 4 and posts(admin) == 0


def test_a_payment_on_a_document_we_did_not_push_is_reported_not_written(
    billing: Billing,
    payments: Payments,
    make_engine: EngineFactory,
    make_payments: PaymentsFactory,
    exact: ExactClient,
    admin: SandboxAdmin,
) -> None:
    customer = billing.customer("cus_known_01", "Bakkerij De Gouden Korenaar B.V.")
    billing.document("INV-1", customer, [TEAM])
    sync_documents(make_engine)
    # An invoice booked in Exact by hand, then paid there.
    master_data = exact.master_data(NL)
    account = exact.first(NL, ACCOUNTS, LookupKey.account_code("10001").filter)
    assert account is not None
    exact.create(
        NL,
        SALES_ENTRIES,
        {
            "Journal": "70",
            "Customer": account.ID,
            "YourRef": "MANUAL-7",
            "EntryDate": date(2026, 11, 20),
            "SalesEntryLines": [
                {
                    "GLAccount": master_data.gl_accounts["8000"].ID,
                    "AmountFC": "100.00",
                    "VATCode": "1",
                }
            ],
        },
        idempotency=LookupKey.field("YourRef", "MANUAL-7"),
    )
    pay_in_exact(exact, admin, NL, "MANUAL-7", "121.00")
    pay_in_exact(exact, admin, NL, "INV-1", "119.79")

    report = make_payments().import_payments()

    assert report.counts["imported"] == 1 and report.counts["reported"] == 1, report.rows
    (foreign,) = [r for r in report.rows if r["outcome"] == "reported"]
    assert foreign["document"] == "MANUAL-7" and "did not push" in foreign["reason"]
    assert [r["number"] for r in payments.rows()] == ["INV-1"]
    assert make_payments().import_payments().counts["reported"] == 0  # reported once


def test_money_billing_already_holds_is_reported_not_written_twice(
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
    payments.pay(invoice, 11979)  # recorded in billing …
    pay_in_exact(exact, admin, NL, "INV-1", "119.79")  # … and in Exact

    report = make_payments().import_payments()

    assert report.counts["reported"] == 1 and report.counts["imported"] == 0
    assert "would exceed the total" in report.rows[0]["reason"]
    assert [r["source"] for r in payments.rows()] == ["billing"]
    assert make_payments().differences(day_window()) == []  # paid once, on both sides


def test_a_payment_undone_in_exact_is_reported_and_billing_keeps_it(
    billing: Billing,
    payments: Payments,
    make_engine: EngineFactory,
    make_payments: PaymentsFactory,
    exact: ExactClient,
    admin: SandboxAdmin,
    bookkeeper: SandboxClient,
) -> None:
    customer = billing.customer("cus_known_01", "Bakkerij De Gouden Korenaar B.V.")
    billing.document("INV-1", customer, [TEAM])
    billing.document("INV-2", customer, [TEAM])
    sync_documents(make_engine)
    full = pay_in_exact(exact, admin, NL, "INV-1", "119.79")
    first_part = pay_in_exact(exact, admin, NL, "INV-2", "50.00")
    pay_in_exact(exact, admin, NL, "INV-2", "20.00")
    assert make_payments().import_payments().counts["imported"] == 3

    undo_in_exact(bookkeeper, full)  # the item is open again
    undo_in_exact(bookkeeper, first_part)  # the split-off part is deleted
    report = make_payments().import_payments()

    assert report.counts["reported"] == 2 and report.counts["imported"] == 0, report.rows
    reasons = sorted(r["reason"] for r in report.rows)
    assert reasons[0].startswith("Exact no longer shows the payment of 119.79 on INV-1")
    assert reasons[1].startswith("Exact no longer shows the payment of 50.00 on INV-2")
    assert len(payments.rows()) == 3  # billing keeps them: a person decides
    found = {d["number"]: d for d in make_payments().differences(day_window())}
    assert (found["INV-1"]["billing_paid"], found["INV-1"]["exact_paid"]) == ("119.79", "0.00")
    assert (found["INV-2"]["billing_paid"], found["INV-2"]["exact_paid"]) == ("70.00", "20.00")
    assert "undone in Exact" in found["INV-2"]["explanation"]
    assert make_payments().import_payments().counts["reported"] == 0  # said once
