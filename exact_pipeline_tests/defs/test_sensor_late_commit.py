"""The billing_changes sensor misses no committed change, whatever the order of commits and the
timestamps say: a transaction that stamps `updated_at` and commits after a later change, a
writer whose clock runs behind, a row dated in the future."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import dagster as dg
import psycopg

from exact_pipeline.billing.read import ChangeCursor
from exact_pipeline_tests.defs.conftest import BuildDefs, tick
from exact_pipeline_tests.sync.builder import Billing

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
TEAM = ("prod_team", 1, 9900, "tax_nl_21")
EARLIER_DAY = "2026-11-18"  # NL-1's partition
DAY = "2026-11-20"  # NL-2's partition


def two_documents(billing: Billing) -> None:
    customer = billing.customer("cus_1", "Acme")
    billing.document("NL-1", customer, [TEAM], issued=datetime(2026, 11, 18, 10, tzinfo=AMSTERDAM))
    billing.document("NL-2", customer, [TEAM])


def requested(data: dg.SensorExecutionData) -> list[str | None]:
    return [request.partition_key for request in data.run_requests or []]


def test_a_change_that_commits_after_a_later_one_is_requested_on_the_next_tick(
    build_defs: BuildDefs, billing: Billing, dagster_instance: dg.DagsterInstance
) -> None:
    two_documents(billing)
    cursor = tick(build_defs, "billing_changes", dagster_instance, None).cursor

    with psycopg.connect(billing.url) as late:  # T1: stamps NL-1 now, commits later
        late.execute("UPDATE invoices SET updated_at = now() WHERE number = 'NL-1'")
        # T2: a later change, committed at once.
        billing.execute("UPDATE invoices SET updated_at = now() WHERE number = 'NL-2'")
        first = tick(build_defs, "billing_changes", dagster_instance, cursor)
        assert requested(first) == [DAY]  # T1's change is not visible yet
        late.commit()

    second = tick(build_defs, "billing_changes", dagster_instance, first.cursor)
    assert requested(second) == [EARLIER_DAY]
    third = tick(build_defs, "billing_changes", dagster_instance, second.cursor)
    assert requested(third) == []  # each change once


def test_a_change_stamped_by_a_clock_behind_is_requested_without_any_open_transaction(
    build_defs: BuildDefs, billing: Billing, dagster_instance: dg.DagsterInstance
) -> None:
    """No writer is open when the sensor ticks (or Postgres hides it from the sensor's role):
    the overlap behind the highest change alone catches the late one."""
    two_documents(billing)
    cursor = tick(build_defs, "billing_changes", dagster_instance, None).cursor
    billing.execute("UPDATE invoices SET updated_at = now() WHERE number = 'NL-2'")
    first = tick(build_defs, "billing_changes", dagster_instance, cursor)
    assert requested(first) == [DAY]

    billing.execute(
        "UPDATE invoices SET updated_at = now() - interval '5 minutes' WHERE number = 'NL-1'"
    )
    second = tick(build_defs, "billing_changes", dagster_instance, first.cursor)
    assert requested(second) == [EARLIER_DAY]


def test_a_row_dated_in_the_future_does_not_blind_the_sensor(
    build_defs: BuildDefs, billing: Billing, dagster_instance: dg.DagsterInstance
) -> None:
    two_documents(billing)
    cursor = tick(build_defs, "billing_changes", dagster_instance, None).cursor
    billing.execute(
        "UPDATE invoices SET updated_at = now() + interval '3 hours' WHERE number = 'NL-2'"
    )
    first = tick(build_defs, "billing_changes", dagster_instance, cursor)
    assert requested(first) == [DAY]
    assert first.cursor is not None
    assert ChangeCursor.parse(first.cursor).floor.updated_at <= datetime.now(UTC)

    billing.execute("UPDATE invoices SET updated_at = now() WHERE number = 'NL-1'")
    second = tick(build_defs, "billing_changes", dagster_instance, first.cursor)
    assert requested(second) == [EARLIER_DAY]
    third = tick(build_defs, "billing_changes", dagster_instance, second.cursor)
    assert requested(third) == []  # the future-dated change is not requested again
