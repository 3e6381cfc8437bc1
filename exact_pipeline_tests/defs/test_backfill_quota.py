"""Quota-aware backfills: a backfill keeps the live reserve of each division's daily budget
(`live_reserve_percent`) and stops there cleanly, a live document still goes through after it,
and the `resume_backfills` sensor continues the backfill after Exact's daily reset, by itself,
and never while the budget is still at the reserve."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from exact_pipeline.defs.documents.automation import RANGE_END, RANGE_START, TRIGGER_TAG
from exact_pipeline.defs.quota import RESUME
from exact_pipeline.exact.endpoints import SALES_INVOICES
from exact_pipeline_tests.defs.conftest import BuildDefs, materialization, run, tick
from exact_pipeline_tests.exact.conftest import NL, SandboxAdmin
from exact_pipeline_tests.sync.builder import Billing
from exact_pipeline_tests.sync.conftest import MappingFolder

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
LIMIT, PERCENT = 100, 40
RESERVE = LIMIT * PERCENT // 100  # room for a live run's reads and its document
DAYS = ["2026-11-19", "2026-11-20"]  # before yesterday: backfill days
PER_DAY = 10  # 20 invoices × 4 calls: more than the 60 a backfill may spend
TEAM = ("prod_team", 1, 9900, "tax_nl_21")


def usage(admin: SandboxAdmin) -> dict[str, int]:
    return admin.http.get("/_sandbox/limits").json()["usage"][str(NL)]


def in_exact(admin: SandboxAdmin) -> set[str]:
    return {invoice["YourRef"] for invoice in admin.store(NL, SALES_INVOICES.path)}


@pytest.fixture
def backfill(
    billing: Billing, admin: SandboxAdmin, connected: None, mapping_folder: MappingFolder
) -> set[str]:
    """History to backfill, a small daily budget, and a live reserve of 40 %: the numbers."""
    admin.configure(daily_limit=LIMIT, minutely_limit=100_000)
    mapping_folder.setting("live_reserve_percent", str(PERCENT))
    customer = billing.customer("cus_1", "Acme B.V.")
    numbers = set()
    for day in DAYS:
        for index in range(PER_DAY):
            number = f"NL-{day}-{index}"
            issued = datetime.fromisoformat(f"{day}T09:00").replace(tzinfo=AMSTERDAM)
            billing.document(number, customer, [TEAM], issued=issued + timedelta(minutes=index))
            numbers.add(number)
    return numbers


def backfill_run(build_defs: BuildDefs, instance: dg.DagsterInstance) -> dg.ExecuteInProcessResult:
    """A range run as `dagster asset materialize --partition-range` launches it."""
    return run(build_defs(), instance, tags={RANGE_START: DAYS[0], RANGE_END: DAYS[-1]})


def past_the_daily_reset(admin: SandboxAdmin) -> None:
    """The sandbox's clock a few seconds past the next UTC midnight (Exact's daily reset)."""
    midnight = datetime.fromtimestamp(admin.now(), UTC).date() + timedelta(days=1)
    reset = datetime.combine(midnight, datetime.min.time(), UTC).timestamp()
    admin.advance(reset + 5 - admin.now())


def test_a_backfill_stops_at_the_live_reserve_and_a_live_document_still_goes_through(
    build_defs: BuildDefs,
    billing: Billing,
    backfill: set[str],
    admin: SandboxAdmin,
    dagster_instance: dg.DagsterInstance,
) -> None:
    result = backfill_run(build_defs, dagster_instance)

    assert result.success
    assert usage(admin)["daily_used"] == LIMIT - RESERVE  # the reserve is left whole
    pushed = in_exact(admin)
    assert pushed and pushed < backfill  # part of it, the oldest first
    days = {m.partition: m.metadata for m in materialization(result, "exact_documents")}
    stopped = str(days[DAYS[-1]]["stopped"].value)
    assert "live reserve in division 310001" in stopped and "resumes by itself after" in stopped
    staged = sum(days[day]["staged"].value for day in DAYS)  # one may be half-way in Exact
    assert staged >= len(backfill - pushed)
    last = days[DAYS[-1]]
    assert last["backfill_documents_left"].value == staged
    assert last["backfill_days_to_go"].value == 1

    today = datetime.now(AMSTERDAM)
    billing.document("NL-LIVE", billing.customer("cus_2", "Beta B.V."), [TEAM], issued=today)
    live = run(
        build_defs(),
        dagster_instance,
        partition_key=today.date().isoformat(),
        tags={TRIGGER_TAG: "hourly"},
    )

    assert live.success
    assert "NL-LIVE" in in_exact(admin)
    assert usage(admin)["daily_used"] > LIMIT - RESERVE  # the live run spent the reserve


def test_the_sensor_resumes_the_backfill_after_the_daily_reset_never_before(
    build_defs: BuildDefs,
    backfill: set[str],
    admin: SandboxAdmin,
    dagster_instance: dg.DagsterInstance,
) -> None:
    first = backfill_run(build_defs, dagster_instance)
    left = sum(m.metadata["staged"].value for m in materialization(first, "exact_documents"))

    waiting = tick(build_defs, "resume_backfills", dagster_instance, None)

    assert not waiting.run_requests
    assert f"{left} documents left" in str(waiting.skip_message)
    assert "at the live reserve, resumes after" in str(waiting.skip_message)

    past_the_daily_reset(admin)
    resuming = tick(build_defs, "resume_backfills", dagster_instance, None)
    again = tick(build_defs, "resume_backfills", dagster_instance, None)

    [request] = resuming.run_requests or []
    assert request.tags[TRIGGER_TAG] == RESUME
    assert DAYS[0] <= request.tags[RANGE_START] <= request.tags[RANGE_END] == DAYS[-1]
    assert f"{left} documents left" in request.tags["exact_pipeline/backlog"]
    # The same budget day, the same key: Dagster launches it once.
    assert [r.run_key for r in again.run_requests or []] == [request.run_key]

    job = build_defs().resolve_job_def("exact_sync")
    resumed = job.execute_in_process(instance=dagster_instance, tags=request.tags)

    assert resumed.success
    assert in_exact(admin) == backfill
    done = tick(build_defs, "resume_backfills", dagster_instance, None)
    assert not done.run_requests and done.skip_message == "no backfill left"
