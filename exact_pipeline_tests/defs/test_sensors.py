"""The sensors: billing changes start runs for their days (never history), mapping edits start a
re-validation. Evaluated against a real billing database and a Postgres-backed instance."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import dagster as dg

from exact_pipeline.billing.read import ChangeCursor
from exact_pipeline.defs.documents.automation import RANGE_END, RANGE_START
from exact_pipeline_tests.defs.conftest import BuildDefs, tick
from exact_pipeline_tests.sync.builder import Billing
from exact_pipeline_tests.sync.conftest import MappingFolder

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def touch(billing: Billing, number: str) -> None:
    """An edit in billing: the row's updated_at moves to now."""
    billing.execute("UPDATE invoices SET updated_at = now() WHERE number = %s", number)


def test_first_tick_starts_at_head_and_catches_up_automated_days_in_one_run(
    build_defs: BuildDefs, billing: Billing, dagster_instance: dg.DagsterInstance
) -> None:
    customer = billing.customer("cus_1", "Acme")
    billing.document("NL-1", customer, [("prod_team", 1, 9900, "tax_nl_21")])
    billing.document(
        "NL-OLD",
        customer,
        [("prod_team", 1, 9900, "tax_nl_21")],
        issued=datetime(2026, 3, 3, 10, tzinfo=AMSTERDAM),
    )

    first = tick(build_defs, "billing_changes", dagster_instance, None)

    # No replay day by day: one range run over connection_date .. today, nothing older.
    assert len(first.run_requests or []) == 1
    request = (first.run_requests or [])[0]
    today = datetime.now(AMSTERDAM).date().isoformat()
    assert request.tags[RANGE_START] == "2026-11-01"
    assert request.tags[RANGE_END] == today
    assert request.partition_key is None
    assert first.cursor
    assert "doc_nl-1" in {mark.id for mark in ChangeCursor.parse(first.cursor).seen}

    quiet = tick(build_defs, "billing_changes", dagster_instance, first.cursor)
    assert not quiet.run_requests
    assert quiet.skip_message == "no new or changed finalized documents"


def test_changes_request_their_days_with_the_high_water_mark_in_the_run_key(
    build_defs: BuildDefs, billing: Billing, dagster_instance: dg.DagsterInstance
) -> None:
    customer = billing.customer("cus_1", "Acme")
    billing.document("NL-1", customer, [("prod_team", 1, 9900, "tax_nl_21")])
    cursor = tick(build_defs, "billing_changes", dagster_instance, None).cursor

    billing.document("NL-2", customer, [("prod_team", 1, 9900, "tax_nl_21")])
    billing.document(
        "NL-OLD",
        customer,
        [("prod_team", 1, 9900, "tax_nl_21")],
        issued=datetime(2026, 3, 3, 10, tzinfo=AMSTERDAM),
    )
    billing.document("NL-DRAFT", customer, [("prod_team", 1, 9900, "tax_nl_21")], status="draft")
    for number in ("NL-2", "NL-OLD", "NL-DRAFT"):
        touch(billing, number)

    second = tick(build_defs, "billing_changes", dagster_instance, cursor)
    requests = second.run_requests or []
    # NL-2's day only: NL-OLD is history (before connection_date), drafts never sync.
    assert [r.partition_key for r in requests] == ["2026-11-20"]
    # The batch's highest change: NL-OLD, touched last (its day is history, not requested).
    assert requests[0].run_key.startswith("2026-11-20:")
    assert requests[0].run_key.endswith("|doc_nl-old")
    assert second.cursor != cursor

    # A later edit on the same day is a new run, not swallowed by the earlier run key.
    touch(billing, "NL-1")
    third = tick(build_defs, "billing_changes", dagster_instance, second.cursor)
    assert [r.partition_key for r in third.run_requests or []] == ["2026-11-20"]
    assert (third.run_requests or [])[0].run_key != requests[0].run_key


def test_days_late_at_night_map_to_the_local_partition(
    build_defs: BuildDefs, billing: Billing, dagster_instance: dg.DagsterInstance
) -> None:
    customer = billing.customer("cus_1", "Acme")
    cursor = tick(build_defs, "billing_changes", dagster_instance, None).cursor
    # 23:30 UTC on the 19th is 00:30 on the 20th in Amsterdam.
    billing.document(
        "NL-NIGHT",
        customer,
        [("prod_team", 1, 9900, "tax_nl_21")],
        issued=datetime(2026, 11, 19, 23, 30, tzinfo=UTC),
    )
    touch(billing, "NL-NIGHT")
    data = tick(build_defs, "billing_changes", dagster_instance, cursor)
    assert [r.partition_key for r in data.run_requests or []] == ["2026-11-20"]


def test_mapping_edit_requests_a_revalidation(
    build_defs: BuildDefs, mapping_folder: MappingFolder, dagster_instance: dg.DagsterInstance
) -> None:
    first = tick(build_defs, "mapping_changes", dagster_instance, None)
    assert [r.job_name for r in first.run_requests or []] == ["validate_mappings"]

    unchanged = tick(build_defs, "mapping_changes", dagster_instance, first.cursor)
    assert not unchanged.run_requests

    mapping_folder.append("products.csv", "prod_beta_ai,SUB-AI-BETA,")
    changed = tick(build_defs, "mapping_changes", dagster_instance, first.cursor)
    assert [r.job_name for r in changed.run_requests or []] == ["validate_mappings"]
    assert changed.cursor != first.cursor


def test_an_edit_undone_and_made_again_is_a_change_each_time(
    build_defs: BuildDefs, mapping_folder: MappingFolder, dagster_instance: dg.DagsterInstance
) -> None:
    cursor = tick(build_defs, "mapping_changes", dagster_instance, None).cursor
    row = "prod_beta_ai,SUB-AI-BETA,"
    run_keys = []
    for edit in ("add", "undo", "add again"):
        if edit == "undo":
            mapping_folder.replace("products.csv", f"{row}\n", "")
        else:
            mapping_folder.append("products.csv", row)
        result = tick(build_defs, "mapping_changes", dagster_instance, cursor)
        assert len(result.run_requests or []) == 1, edit
        run_keys.append((result.run_requests or [])[0].run_key)
        cursor = result.cursor
    # Dagster drops a request whose run key it has seen: every change needs its own key.
    assert len(set(run_keys)) == 3


def test_partition_of_tomorrow_is_not_requested(
    build_defs: BuildDefs, billing: Billing, dagster_instance: dg.DagsterInstance
) -> None:
    customer = billing.customer("cus_1", "Acme")
    cursor = tick(build_defs, "billing_changes", dagster_instance, None).cursor
    later = datetime.now(AMSTERDAM).date() + timedelta(days=3)
    billing.document(
        "NL-FUTURE",
        customer,
        [("prod_team", 1, 9900, "tax_nl_21")],
        issued=datetime.combine(later, datetime.min.time(), AMSTERDAM) + timedelta(hours=9),
    )
    touch(billing, "NL-FUTURE")
    data = tick(build_defs, "billing_changes", dagster_instance, cursor)
    assert not data.run_requests
    assert data.cursor != cursor
    assert date.fromisoformat("2026-11-20") < later
