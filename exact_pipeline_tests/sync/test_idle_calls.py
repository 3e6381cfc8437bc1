"""A run with nothing new costs at most one call per division: every step of the `exact_sync` job
(customers, payloads, documents with `totals_match_exact`, payments with `paid_amounts_agree`)
and the hourly payment import, each step with its own Exact client as in a Dagster run, counted
by the sandbox. The payment check reads nothing the pipeline did itself (documents posted,
receipts pushed): only a document Exact moved by itself, and each division once after the day."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import pytest

from exact_pipeline.exact import ExactClient, ExactConfig
from exact_pipeline.state.exact import open_exact
from exact_pipeline.sync.core.session import SyncSession
from exact_pipeline.sync.documents.engine import SyncEngine
from exact_pipeline.sync.payments.engine import PaymentSync
from exact_pipeline_tests.exact.conftest import BE, FAST_RETRY, NL, TOKEN_KEY, SandboxAdmin
from exact_pipeline_tests.sync.builder import AMSTERDAM, DAY, Billing, day_window
from exact_pipeline_tests.sync.conftest import MappingFolder
from exact_pipeline_tests.sync.payments.conftest import TEAM, Payments, pay_in_exact

TEAM_BE = ("prod_team", "1", 9900, "tax_be_21")
RECEIVABLES = "GET bulk/Cashflow/Receivables"
# A run of the day, after the documents' posting: the read after the day is not due yet.
ON_THE_DAY = datetime.combine(DAY, datetime.min.time(), AMSTERDAM) + timedelta(hours=18)
NEXT_DAY = ON_THE_DAY + timedelta(hours=8)

Step = Callable[..., Any]


@pytest.fixture
def step(make_session: Callable[..., Any], config: ExactConfig, state_url: str) -> Iterator[Step]:
    """`with step(SyncEngine | PaymentSync) as engine`: one Dagster step's engine, with its own
    Exact client (its own in-memory master data: only the state database's cache is shared)."""

    @contextmanager
    def open_step(kind: type[SyncSession], moment: datetime = ON_THE_DAY) -> Iterator[Any]:
        with open_exact(config, state_url, TOKEN_KEY, retry=FAST_RETRY) as client:
            yield make_session(kind, exact=client, now=lambda: moment)

    yield open_step


def sync_run(step: Step) -> None:
    """The `exact_sync` job's steps for builder.DAY, as its assets call the engines."""
    window = day_window()
    with step(SyncEngine) as engine:  # exact_customers
        for division in (NL, BE):
            engine.sync_customers(window, division)
    with step(SyncEngine) as engine:  # exact_document_payloads
        engine.stage(window)
    with step(SyncEngine) as engine:  # exact_documents and totals_match_exact
        for division in (NL, BE):
            engine.push_documents(window, division)
            assert engine.totals_differences(window, division) == []
    with step(PaymentSync) as payments:  # exact_payments and paid_amounts_agree
        payments.push_payments(window)
        assert payments.differences(window) == []


def import_run(step: Step) -> None:
    with step(PaymentSync) as payments:  # payments_from_exact
        payments.import_payments()


def per_division(admin: SandboxAdmin) -> dict[int, int]:
    by_division = admin.requests()["by_division"]
    return {division: by_division.get(str(division), 0) for division in (NL, BE)}


@pytest.mark.parametrize("push_mode", ["sales_entry", "sales_invoice"])
def test_an_idle_sync_run_costs_at_most_one_call_per_division(
    push_mode: str,
    billing: Billing,
    mapping_folder: MappingFolder,
    admin: SandboxAdmin,
    exact: ExactClient,
    step: Step,
) -> None:
    mapping_folder.setting("invoice_push_mode", push_mode)
    mapping_folder.setting("payment_sync", "billing_to_exact")
    nl = billing.customer("cus_known_01", "Bakkerij De Gouden Korenaar B.V.")
    be = billing.customer("cus_be_01", "Brouwerij Het Anker")
    paid = billing.document("INV-1", nl, [TEAM])
    unpaid = billing.document("INV-2", nl, [TEAM])
    billing.document("INV-BE", be, [TEAM_BE], entity="ent_be")
    payments = Payments(billing)
    payments.pay(paid, paid.total_amount, day=DAY)
    sync_run(step)  # the documents go, then the payment
    admin.clear_requests()

    sync_run(step)

    calls = per_division(admin)
    assert all(n <= 1 for n in calls.values()), admin.requests()["by_division_endpoint"]
    assert admin.requests()["by_endpoint"].get(RECEIVABLES, 0) == 0  # nothing re-read

    # A bookkeeper registers INV-2's payment in Exact by hand and billing records it too: the
    # push blocks it (Exact shows nothing open), Exact's own doing: the check reads that
    # document (one GET, in its division) and agrees. Accepting it then reads nothing more.
    pay_in_exact(exact, admin, NL, "INV-2", "119.79")
    blocked = payments.pay(unpaid, unpaid.total_amount, day=DAY)
    with step(PaymentSync) as engine:
        assert engine.push_payments(day_window()).counts["blocked"] == 1
        admin.clear_requests()
        assert engine.differences(day_window()) == []
        engine.accept(blocked)
        assert engine.differences(day_window()) == []
    assert admin.requests()["by_division_endpoint"] == {str(NL): {RECEIVABLES: 1}}

    # The first run after the document's day reads each division once; the next reads nothing.
    admin.clear_requests()
    for _ in range(2):
        with step(PaymentSync, NEXT_DAY) as engine:
            assert engine.differences(day_window()) == []
    assert admin.requests()["by_division_endpoint"] == {
        str(NL): {RECEIVABLES: 1},
        str(BE): {RECEIVABLES: 1},
    }


def test_an_idle_payment_import_costs_at_most_one_call_per_division(
    mapping_folder: MappingFolder, admin: SandboxAdmin, step: Step
) -> None:
    mapping_folder.setting("payment_sync", "exact_to_billing")
    import_run(step)
    admin.clear_requests()

    import_run(step)

    calls = per_division(admin)
    assert all(n <= 1 for n in calls.values()), admin.requests()["by_division_endpoint"]
