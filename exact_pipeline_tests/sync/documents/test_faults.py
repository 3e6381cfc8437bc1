"""When Exact misbehaves: lost answers, a failure half-way through a document, a refusal, the
daily budget running out, two runs at once, a dead connection. Never a duplicate, never a lost
document."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from exact_pipeline.exact import ExactClient, ExactConfig, ReauthorizationRequired
from exact_pipeline.state.exact import open_exact
from exact_pipeline.sync.documents import ledger
from exact_pipeline.sync.documents.reports import PushReport
from exact_pipeline_tests.exact.conftest import FAST_RETRY, FORBIDDEN, NL, TOKEN_KEY, SandboxAdmin
from exact_pipeline_tests.sync.builder import Billing, day_window
from exact_pipeline_tests.sync.conftest import EngineFactory, MappingFolder

TEAM = ("prod_team", "1", 9900, "tax_nl_21")
STEPS = (
    "documents/Documents",
    "documents/DocumentAttachments",
    "salesinvoice/SalesInvoices",
    "salesinvoice/PrintedSalesInvoices",
)


def invoices(
    billing: Billing,
    count: int,
    customer: tuple[str, str] = ("cus_known_01", "Bakkerij De Gouden Korenaar B.V."),
) -> list[str]:
    """`count` invoices of one customer (by default one linked in customer_links.csv)."""
    billed = billing.customer(*customer)
    return [billing.document(f"INV-{n}", billed, [TEAM]).number for n in range(1, count + 1)]


def assert_each_once(admin: SandboxAdmin, numbers: list[str]) -> None:
    """Exactly one booked invoice per number, each with one Document and one attachment."""
    stored = admin.store(NL, "salesinvoice/SalesInvoices")
    assert Counter(r["YourRef"] for r in stored) == Counter(numbers)
    assert all(r["Status"] == 50 for r in stored)
    documents = admin.store(NL, "documents/Documents")
    ours = [d for d in documents if "(billing PDF)" in d["Subject"]]
    assert len(ours) == len(numbers) == len({d["Subject"] for d in ours})
    attachments = admin.store(NL, "documents/DocumentAttachments")
    assert Counter(
        a["Document"] for a in attachments if a["Document"] in {d["ID"] for d in ours}
    ) == Counter({d["ID"]: 1 for d in ours})


def test_lost_answers_leave_no_duplicates(
    billing: Billing, make_engine: EngineFactory, admin: SandboxAdmin
) -> None:
    numbers = invoices(billing, 3)
    admin.faults(
        *({"kind": "lost_response", "path": path, "method": "POST", "times": 1} for path in STEPS)
    )

    report = make_engine().push_documents(day_window())

    assert report.counts["pushed"] == 3, report.rows
    assert all(rule["fired"] == 1 for rule in admin.http.get("/_sandbox/faults").json()["rules"])
    assert_each_once(admin, numbers)


def test_a_failure_half_way_resumes_where_it_stopped(
    billing: Billing, make_engine: EngineFactory, admin: SandboxAdmin
) -> None:
    numbers = invoices(billing, 1)
    # Failing every try of the run (each retried within the run first).
    failures = FAST_RETRY.write_attempts
    admin.faults(
        {"kind": "error", "status": 503, "path": STEPS[3], "method": "POST", "times": failures}
    )
    engine = make_engine()

    first = engine.push_documents(day_window())

    assert first.counts["failed"] == 1
    (failed,) = engine.blocked(day_window())
    assert failed.step == "entry" and failed.state == ledger.FAILED
    assert "booking of the sales invoice" in (failed.last_error or "")
    assert "the next run tries again" in (failed.last_error or "")
    admin.clear_requests()

    second = make_engine().push_documents(day_window())

    assert second.counts["pushed"] == 1
    posted = admin.requests()["by_endpoint"]
    assert {k: n for k, n in posted.items() if k.startswith("POST")} == {f"POST {STEPS[3]}": 1}
    assert_each_once(admin, numbers)


def test_a_refusal_blocks_with_exacts_words_and_is_retried_after_the_cool_down(
    billing: Billing, make_engine: EngineFactory, admin: SandboxAdmin
) -> None:
    numbers = invoices(billing, 1)
    admin.configure(field_limits={"SalesInvoices.YourRef": 3})

    engine = make_engine()
    first = engine.push_documents(day_window())

    assert first.counts["blocked"] == 1
    (blocked,) = engine.blocked(day_window())
    assert blocked.block_kind == ledger.EXACT and blocked.step == "attachment"
    reason = blocked.last_error or ""
    assert reason.startswith("Exact refused the sales invoice: ")
    assert "tried again after" in reason

    admin.configure(field_limits={"SalesInvoices.YourRef": None})
    admin.clear_requests()
    assert make_engine().push_documents(day_window()).counts["blocked"] == 1
    assert admin.requests()["total"] == 0  # still cooling down: not even a look

    later = datetime.now(UTC) + timedelta(hours=1, minutes=1)
    retried = make_engine(now=lambda: later).push_documents(day_window())
    assert retried.counts["pushed"] == 1
    assert_each_once(admin, numbers)  # the Document made before the refusal was reused


def test_the_daily_budget_stops_the_push_and_the_next_day_goes_on(
    billing: Billing,
    make_engine: EngineFactory,
    admin: SandboxAdmin,
    config: ExactConfig,
    state_url: str,
) -> None:
    numbers = invoices(billing, 5)
    used = admin.http.get("/_sandbox/limits").json()["usage"][str(NL)]["daily_used"]
    # master data (a handful of reads) and about two and a half documents
    admin.configure(daily_limit=used + 16)

    report = make_engine().push_documents(day_window())

    assert report.counts["pushed"] >= 1 and report.counts["not_reached"] >= 1, report.rows
    assert report.counts["pushed"] + report.counts["not_reached"] == 5
    assert report.stopped is not None
    assert report.stopped.startswith(
        f"Exact's daily API budget for division {NL} is spent; "
        f"{report.counts['not_reached']} documents stay staged and go through after "
    )
    states = Counter(row.state for row in make_engine().ledger_rows(day_window()))
    assert states == {
        ledger.SYNCED: report.counts["pushed"],
        ledger.STAGED: report.counts["not_reached"],
    }

    admin.advance(86_400)  # the next day: a fresh budget, and a new run with a new client
    with open_exact(config, state_url, TOKEN_KEY, retry=FAST_RETRY) as tomorrow:
        rest = make_engine(exact=tomorrow).push_documents(day_window())
    assert rest.counts["pushed"] == report.counts["not_reached"] and rest.stopped is None
    assert_each_once(admin, numbers)


def test_two_runs_at_once_post_each_document_once(
    billing: Billing,
    make_engine: EngineFactory,
    admin: SandboxAdmin,
    config: ExactConfig,
    state_url: str,
) -> None:
    numbers = invoices(billing, 6, customer=("cus_brand_new", "Gloednieuw B.V."))
    reports: list[PushReport] = []
    clients = [open_exact(config, state_url, TOKEN_KEY, retry=FAST_RETRY) for _ in range(2)]
    engines = [make_engine(exact=client) for client in clients]
    start = threading.Barrier(2)

    def run(index: int) -> None:
        start.wait()
        reports.append(engines[index].push_documents(day_window()))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for client in clients:
        client.close()

    assert sum(r.counts["pushed"] for r in reports) == 6
    assert all(r.counts["failed"] == r.counts["blocked"] == 0 for r in reports)
    posted = admin.requests()["by_endpoint"]
    assert posted["POST crm/Accounts"] == 1
    assert all(posted[f"POST {step}"] == 6 for step in STEPS)
    assert_each_once(admin, numbers)


def test_a_dead_connection_stops_everything_and_leaves_the_documents_staged(
    billing: Billing, make_engine: EngineFactory, admin: SandboxAdmin, exact: ExactClient
) -> None:
    invoices(billing, 2)
    exact.tokens.mark_dead("consent revoked in Exact")
    admin.advance(700)  # the access token expires: the next call must refresh, and cannot
    engine = make_engine()

    with pytest.raises(ReauthorizationRequired, match="consent revoked"):
        engine.push_documents(day_window())

    assert {row.state for row in engine.ledger_rows(day_window())} == {ledger.STAGED}
    assert not any("(billing PDF)" in d["Subject"] for d in admin.store(NL, "documents/Documents"))


def test_a_division_exact_refuses_stops_only_that_division(
    billing: Billing,
    mapping_folder: MappingFolder,
    make_engine: EngineFactory,
    admin: SandboxAdmin,
) -> None:
    mapping_folder.replace("settings.yaml", "division: 320001", f"division: {FORBIDDEN}")
    nl = invoices(billing, 1)
    brasserie = billing.customer("cus_be", "Brasserie Ærø & Zeeën", country="BE")
    team = ("prod_team", "1", 9900, "tax_be_21")
    for n in (1, 2):
        billing.document(f"BE-{n}", brasserie, [team], entity="ent_be")
    engine = make_engine()

    problems = "\n".join(engine.validate_mappings().problems)
    assert f"entities.ent_be.division: Exact refuses access to division {FORBIDDEN}" in problems

    report = engine.push_documents(day_window())

    assert report.counts["pushed"] == 1 and report.counts["not_reached"] == 2
    assert report.stopped is not None
    assert report.stopped.startswith(f"Exact refuses access to division {FORBIDDEN} (")
    assert "2 documents stay staged: connect again" in report.stopped
    assert_each_once(admin, nl)
