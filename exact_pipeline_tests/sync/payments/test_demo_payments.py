"""The demo's payments registered in Exact through the API: full and partial ones on pushed
invoices, the same for the same seed, never a second one on an invoice, and imported into
billing by exact_to_billing like any bookkeeper's payment."""

from __future__ import annotations

from decimal import Decimal

from exact_pipeline.demo.payments import register_demo_payments
from exact_pipeline.exact import ExactClient
from exact_pipeline_tests.exact.conftest import NL, SandboxAdmin
from exact_pipeline_tests.sync.builder import Billing
from exact_pipeline_tests.sync.conftest import EngineFactory, MappingFolder
from exact_pipeline_tests.sync.payments.conftest import (
    BANK_POST,
    TEAM,
    Payments,
    PaymentsFactory,
    outstanding,
    sync_documents,
)

TOTAL = Decimal("119.79")  # of each invoice below


def test_demo_payments_pay_pushed_invoices_and_are_imported(
    billing: Billing,
    payments: Payments,
    mapping_folder: MappingFolder,
    make_engine: EngineFactory,
    make_payments: PaymentsFactory,
    exact: ExactClient,
    admin: SandboxAdmin,
) -> None:
    mapping_folder.setting("payment_sync", "exact_to_billing")
    customer = billing.customer("cus_known_01", "Bakkerij De Gouden Korenaar B.V.")
    numbers = [f"INV-{n}" for n in range(1, 7)]
    for number in numbers:
        billing.document(number, customer, [TEAM])
    sync_documents(make_engine)
    admin.clear_requests()

    paid = register_demo_payments(exact, mapping_folder.load(), count=4, seed=3)

    assert admin.count(BANK_POST) == 4 and len({p["invoice"] for p in paid}) == 4
    assert [p["full"] for p in paid] == [True, False, True, True]
    for payment in paid:
        expected = TOTAL if payment["full"] else Decimal("59.89")
        assert Decimal(payment["amount"]) == expected
        assert outstanding(admin, NL, payment["invoice"]) == TOTAL - expected

    more = register_demo_payments(exact, mapping_folder.load(), count=4, seed=3)
    assert {p["invoice"] for p in more} == set(numbers) - {p["invoice"] for p in paid}

    report = make_payments().import_payments()
    assert report.counts["imported"] == 6, report.rows
    assert sum(r["amount"] for r in payments.rows()) == sum(
        int(Decimal(p["amount"]) * 100) for p in paid + more
    )
