"""One pass per run (issues 12, 13): a document is hashed in Python once a run, by the push
(the stage hashes summaries, with Postgres forming the lines' part: test_summaries.py), and the
push posts what billing holds when a document changed between the two steps."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import pytest

from exact_pipeline.billing.models import BillingDocument
from exact_pipeline.sync.documents import staging
from exact_pipeline.sync.documents.hashing import Hashes
from exact_pipeline_tests.exact.conftest import NL, SandboxAdmin
from exact_pipeline_tests.sync.builder import Billing, day_window
from exact_pipeline_tests.sync.conftest import EngineFactory
from exact_pipeline_tests.sync.documents.test_partial_pushes import correct, known_customer

TEAM = ("prod_team", "1", 9900, "tax_nl_21")


@pytest.fixture
def hashed(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How often each document read whole is hashed (the real hashing, counted)."""
    counts: Counter[str] = Counter()
    real: Callable[[BillingDocument], Hashes] = staging.hashes

    def counting(document: BillingDocument) -> Hashes:
        counts[document.number] += 1
        return real(document)

    monkeypatch.setattr(staging, "hashes", counting)
    return counts


def test_a_run_hashes_each_document_whole_once(
    billing: Billing, make_engine: EngineFactory, hashed: Counter[str]
) -> None:
    customer = known_customer(billing)
    for number in ("INV-1", "INV-2"):
        billing.document(number, customer, [TEAM])
    make_engine().stage(day_window())
    report = make_engine().push_documents(day_window())  # the next step: a new engine
    assert report.counts["pushed"] == 2
    assert hashed == Counter({"INV-1": 1, "INV-2": 1})


def test_a_document_changed_between_the_steps_is_prepared_again_and_posted_as_it_is(
    billing: Billing, make_engine: EngineFactory, admin: SandboxAdmin, hashed: Counter[str]
) -> None:
    customer = known_customer(billing)
    kept = billing.document("INV-1", customer, [TEAM])
    changed = billing.document("INV-2", customer, [TEAM])
    make_engine().stage(day_window())
    correct(billing, changed, quantity=3)  # between the payloads step and the push
    report = make_engine().push_documents(day_window())
    assert report.counts["pushed"] == 2
    assert hashed == Counter({kept.number: 1, changed.number: 1})
    invoices = {r["YourRef"]: r for r in admin.store(NL, "salesinvoice/SalesInvoices")}
    assert invoices["INV-1"]["AmountFCExclVat"] == "99.00"
    assert invoices["INV-2"]["AmountFCExclVat"] == "297.00"
