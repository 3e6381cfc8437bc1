"""The read after a day is over costs one GET per division and check for a day of more documents
than one GET by document holds (60): `totals_match_exact` and `paid_amounts_agree` read the day
by its date on a bulk endpoint. What a bookkeeper changed in Exact on the posting day still turns
the checks red after it."""

from __future__ import annotations

import pytest

from exact_pipeline.billing.models import BillingDocument
from exact_pipeline.exact import ExactClient
from exact_pipeline.exact.endpoints import SALES_ENTRIES
from exact_pipeline.sync.documents.engine import SyncEngine
from exact_pipeline.sync.payments.engine import PaymentSync
from exact_pipeline_tests.exact.conftest import NL, SandboxAdmin
from exact_pipeline_tests.sync.builder import DAY, Billing, day_window
from exact_pipeline_tests.sync.conftest import MappingFolder
from exact_pipeline_tests.sync.payments.conftest import TEAM, Payments, pay_in_exact
from exact_pipeline_tests.sync.test_idle_calls import NEXT_DAY, RECEIVABLES, Step, step, sync_run

step = step  # the fixture, shared with the idle-run tests
DAY_READS = {
    "sales_entry": "GET bulk/Financial/TransactionLines",
    "sales_invoice": "GET bulk/SalesInvoice/SalesInvoices",
}
DOCUMENTS = 65  # more than one GET by document holds


def busy_day(billing: Billing, mapping_folder: MappingFolder, mode: str) -> list[BillingDocument]:
    """`DOCUMENTS` invoices in the NL division, a third of them paid in billing that day, and a
    credit note."""
    mapping_folder.setting("invoice_push_mode", mode)
    mapping_folder.setting("payment_sync", "billing_to_exact")
    customer = billing.customer("cus_known_01", "Bakkerij De Gouden Korenaar B.V.")
    documents = [
        billing.document(f"INV-{n:03d}", customer, [TEAM], with_pdf=False) for n in range(DOCUMENTS)
    ]
    # A credit note too: Exact books it with the signs reversed, the day's read must agree.
    billing.document("CN-001", customer, [TEAM], original=documents[4], with_pdf=False)
    payments = Payments(billing)
    for document in documents[::3]:
        payments.pay(document, document.total_amount, day=DAY)
    return documents


def checks_after_the_day(step: Step) -> tuple[list[str], list[str]]:
    """The numbers `totals_match_exact` and `paid_amounts_agree` report after the day."""
    with step(SyncEngine, NEXT_DAY) as engine:
        totals = engine.totals_differences(day_window())
    with step(PaymentSync, NEXT_DAY) as payments:
        paid = payments.differences(day_window())
    return sorted(d["number"] for d in totals), sorted(d["number"] for d in paid)


@pytest.mark.usefixtures("unhurried")
@pytest.mark.parametrize("mode", DAY_READS)
def test_the_read_after_a_busy_day_is_one_call_per_division_and_check(
    mode: str, billing: Billing, mapping_folder: MappingFolder, admin: SandboxAdmin, step: Step
) -> None:
    busy_day(billing, mapping_folder, mode)
    sync_run(step)
    admin.clear_requests()

    assert checks_after_the_day(step) == ([], [])

    assert admin.requests()["by_division_endpoint"] == {
        str(NL): {DAY_READS[mode]: 1, RECEIVABLES: 1}
    }
    with step(SyncEngine, NEXT_DAY) as engine:  # sales invoices: numbered by the same read
        assert all(row.entry_number for row in engine.ledger_rows(day_window()))
    admin.clear_requests()
    assert checks_after_the_day(step) == ([], [])
    assert admin.requests()["by_division_endpoint"] == {}  # remembered: nothing read again


@pytest.mark.usefixtures("unhurried")
@pytest.mark.parametrize("mode", DAY_READS)
def test_what_a_bookkeeper_changed_on_a_busy_day_turns_the_checks_red_after_it(
    mode: str,
    billing: Billing,
    mapping_folder: MappingFolder,
    admin: SandboxAdmin,
    exact: ExactClient,
    step: Step,
) -> None:
    documents = busy_day(billing, mapping_folder, mode)
    sync_run(step)
    paid_by_hand, deleted = documents[1].number, documents[2].number
    pay_in_exact(exact, admin, NL, paid_by_hand, "119.79")
    expected_totals, expected_paid = [], [paid_by_hand]
    if mode == "sales_entry":  # a booked sales invoice cannot be deleted
        with step(SyncEngine) as engine:
            row = next(r for r in engine.ledger_rows(day_window()) if r.number == deleted)
        assert row.entry_id is not None
        exact.delete(NL, SALES_ENTRIES, row.entry_id)
        expected_totals, expected_paid = [deleted], sorted([paid_by_hand, deleted])
    sync_run(step)  # still the posting day: trusted, nothing read

    assert checks_after_the_day(step) == (expected_totals, expected_paid)
