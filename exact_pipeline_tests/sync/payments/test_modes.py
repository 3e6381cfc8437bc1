"""The modes side by side: `none` makes no call at all; switching mode in either direction
records nothing twice; `differences` says where billing and Exact disagree, and why."""

from __future__ import annotations

import functools
from datetime import datetime, time, timedelta

from exact_pipeline.exact import ExactClient
from exact_pipeline_tests.exact.conftest import NL, SandboxAdmin
from exact_pipeline_tests.sync.builder import AMSTERDAM, DAY, Billing, day_window
from exact_pipeline_tests.sync.conftest import EngineFactory, MappingFolder
from exact_pipeline_tests.sync.payments.conftest import (
    BANK_POST,
    TEAM,
    Payments,
    PaymentsFactory,
    outstanding,
    paid_window,
    pay_in_exact,
    posts,
    sync_documents,
)

CUSTOMER = ("cus_known_01", "Bakkerij De Gouden Korenaar B.V.")
POSTED = datetime.combine(DAY, time(15), AMSTERDAM)  # the documents' day
AFTER = POSTED + timedelta(hours=12)


def test_none_makes_no_call(
    billing: Billing,
    payments: Payments,
    mapping_folder: MappingFolder,
    make_engine: EngineFactory,
    make_payments: PaymentsFactory,
    exact: ExactClient,
    admin: SandboxAdmin,
) -> None:
    mapping_folder.setting("payment_sync", "none")
    invoice = billing.document("INV-1", billing.customer(*CUSTOMER), [TEAM])
    sync_documents(make_engine)
    payments.pay(invoice, 5000)
    pay_in_exact(exact, admin, NL, "INV-1", "50.00")
    admin.clear_requests()

    sync = make_payments()
    pushed, imported = sync.push_payments(paid_window()), sync.import_payments()

    assert admin.requests()["total"] == 0
    assert pushed.rows == imported.rows == [] and sync.differences(day_window()) == []
    assert admin.requests()["total"] == 0
    assert [r["source"] for r in payments.rows()] == ["billing"]


def test_billing_to_exact_then_exact_to_billing_imports_nothing_back(
    billing: Billing,
    payments: Payments,
    mapping_folder: MappingFolder,
    make_engine: EngineFactory,
    make_payments: PaymentsFactory,
    admin: SandboxAdmin,
) -> None:
    customer = billing.customer(*CUSTOMER)
    full = billing.document("INV-1", customer, [TEAM])
    part = billing.document("INV-2", customer, [TEAM])
    sync_documents(make_engine)
    payments.pay(full, 11979)
    payments.pay(part, 2000)
    mapping_folder.setting("payment_sync", "billing_to_exact")
    assert make_payments().push_payments(paid_window()).counts["pushed"] == 2

    mapping_folder.setting("payment_sync", "exact_to_billing")
    report = make_payments().import_payments()

    assert report.counts["from_billing"] == 2 and report.counts["imported"] == 0, report.rows
    assert [(r["number"], r["source"]) for r in payments.rows()] == [
        ("INV-1", "billing"),
        ("INV-2", "billing"),
    ]
    assert make_payments().differences(day_window()) == []


def test_exact_to_billing_then_billing_to_exact_pushes_nothing_back(
    billing: Billing,
    payments: Payments,
    mapping_folder: MappingFolder,
    make_engine: EngineFactory,
    make_payments: PaymentsFactory,
    exact: ExactClient,
    admin: SandboxAdmin,
) -> None:
    invoice = billing.document("INV-1", billing.customer(*CUSTOMER), [TEAM])
    sync_documents(make_engine)
    pay_in_exact(exact, admin, NL, "INV-1", "60.00")
    mapping_folder.setting("payment_sync", "exact_to_billing")
    assert make_payments().import_payments().counts["imported"] == 1
    payments.pay(invoice, 5979)  # the rest, recorded in billing after the switch

    mapping_folder.setting("payment_sync", "billing_to_exact")
    admin.clear_requests()
    report = make_payments().push_payments(paid_window())

    assert report.counts["from_exact"] == 1 and report.counts["pushed"] == 1, report.rows
    assert admin.count(BANK_POST) == 1
    assert outstanding(admin, NL, "INV-1") == 0
    assert make_payments().differences(day_window()) == []


def test_differences_say_where_and_why_the_sides_disagree(
    billing: Billing,
    payments: Payments,
    mapping_folder: MappingFolder,
    make_engine: EngineFactory,
    make_payments: PaymentsFactory,
    exact: ExactClient,
    admin: SandboxAdmin,
) -> None:
    mapping_folder.setting("payment_sync", "billing_to_exact")
    customer = billing.customer(*CUSTOMER)
    in_billing = billing.document("INV-1", customer, [TEAM])
    billing.document("INV-2", customer, [TEAM])
    billing.document("INV-3", customer, [TEAM])  # unpaid on both sides: no difference
    sync_documents(functools.partial(make_engine, now=lambda: POSTED))
    payments.pay(in_billing, 11979)  # not pushed yet
    pay_in_exact(exact, admin, NL, "INV-2", "19.79")  # registered in Exact only
    admin.clear_requests()

    # The first run after the documents' day reads what Exact holds (paid_seen.py).
    found = {d["number"]: d for d in make_payments(now=lambda: AFTER).differences(day_window())}

    assert posts(admin) == 0 and set(found) == {"INV-1", "INV-2"}
    assert (found["INV-1"]["billing_paid"], found["INV-1"]["exact_paid"]) == ("119.79", "0.00")
    assert found["INV-1"]["difference"] == "119.79"
    assert found["INV-1"]["exact_outstanding"] == "119.79"
    assert "not pushed yet" in found["INV-1"]["explanation"]
    assert (found["INV-2"]["billing_paid"], found["INV-2"]["exact_paid"]) == ("0.00", "19.79")
    assert found["INV-2"]["difference"] == "-19.79"
    assert found["INV-2"]["exact_outstanding"] == "100.00"
    assert "registered in Exact directly" in found["INV-2"]["explanation"]

    make_payments().push_payments(paid_window())
    assert [d["number"] for d in make_payments().differences(day_window())] == ["INV-2"]
