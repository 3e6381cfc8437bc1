"""Runs through Dagster itself (Postgres-backed instance, sandbox over HTTP): one partition end
to end, a backfill range as a single run, a re-run that posts nothing, the blocked-then-fixed
flow as the UI shows it, and a mapping edit marking synced partitions stale."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import dagster as dg
import httpx
import psycopg
from dagster._core.definitions.data_version import CachingStaleStatusResolver, StaleStatus
from dagster._core.loader import LoadingContextForTest

from exact_pipeline.defs.documents.automation import RANGE_END, RANGE_START
from exact_pipeline.exact import ExactConfig
from exact_pipeline.settings import STATE_SCHEMA
from exact_pipeline.state.exact import open_exact
from exact_pipeline_tests.defs.conftest import BuildDefs, check, materialization, run, tick
from exact_pipeline_tests.exact.conftest import TOKEN_KEY, SandboxAdmin
from exact_pipeline_tests.sync.builder import Billing
from exact_pipeline_tests.sync.conftest import MappingFolder

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
NL = 310001


def test_partition_end_to_end_then_rerun_posts_nothing(
    build_defs: BuildDefs,
    billing: Billing,
    admin: SandboxAdmin,
    connected: None,
    dagster_instance: dg.DagsterInstance,
) -> None:
    customer = billing.customer("cus_1", "Acme B.V.", email="ap@acme.example")
    doc = billing.document(
        "NL-1",
        customer,
        [("prod_team", 1, 9900, "tax_nl_21"), ("prod_ebook", 2, 3900, "tax_nl_9")],
    )
    defs = build_defs()

    result = run(defs, dagster_instance, partition_key="2026-11-20")

    [documents] = materialization(result, "exact_documents")
    assert documents.metadata["documents_pushed"].value == 1
    assert check(result, "all_documents_synced").passed
    assert check(result, "no_blocked_documents").passed
    assert check(result, "totals_match_exact").passed  # read back from Exact, to the cent
    [invoice] = admin.store(NL, "salesinvoice/SalesInvoices")
    assert invoice["YourRef"] == "NL-1"
    assert Decimal(str(invoice["AmountFC"])) * 100 == doc.total_amount

    admin.clear_requests()
    again = run(defs, dagster_instance, partition_key="2026-11-20")
    [documents] = materialization(again, "exact_documents")
    assert documents.metadata["documents_already_synced"].value == 1
    posts = {k: v for k, v in admin.requests()["by_endpoint"].items() if k.startswith("POST")}
    assert posts == {}


def test_backfill_range_is_one_run_over_all_its_days(
    build_defs: BuildDefs,
    billing: Billing,
    admin: SandboxAdmin,
    connected: None,
    dagster_instance: dg.DagsterInstance,
) -> None:
    customer = billing.customer("cus_1", "Acme B.V.")
    days = ["2025-12-30", "2025-12-31", "2026-01-01"]  # history: before connection_date
    for index, day in enumerate(days):
        billing.document(
            f"NL-H{index}",
            customer,
            [("prod_team", 1, 9900, "tax_nl_21")],
            issued=datetime.fromisoformat(f"{day}T11:00").replace(tzinfo=AMSTERDAM),
        )

    result = run(build_defs(), dagster_instance, tags={RANGE_START: days[0], RANGE_END: days[-1]})

    keys = {m.partition for m in materialization(result, "exact_documents")}
    assert keys == set(days)
    assert sorted(i["YourRef"] for i in admin.store(NL, "salesinvoice/SalesInvoices")) == [
        "NL-H0",
        "NL-H1",
        "NL-H2",
    ]


def test_blocked_document_is_shown_then_pushed_after_the_fix(
    build_defs: BuildDefs,
    billing: Billing,
    admin: SandboxAdmin,
    connected: None,
    mapping_folder: MappingFolder,
    dagster_instance: dg.DagsterInstance,
) -> None:
    customer = billing.customer("cus_1", "Acme B.V.")
    billing.document("NL-OK", customer, [("prod_team", 1, 9900, "tax_nl_21")])
    billing.document("NL-BETA", customer, [("prod_beta_ai", 1, 1900, "tax_nl_21")])

    first = run(build_defs(), dagster_instance, partition_key="2026-11-20")

    blocked = check(first, "no_blocked_documents")
    assert not blocked.passed
    assert blocked.severity == dg.AssetCheckSeverity.WARN
    table = blocked.metadata["documents"].value
    [row] = [r.data for r in table.records]
    assert row["number"] == "NL-BETA"
    assert "prod_beta_ai" in row["reason"] and "products.csv" in row["reason"]
    assert [i["YourRef"] for i in admin.store(NL, "salesinvoice/SalesInvoices")] == ["NL-OK"]

    cursor = tick(build_defs, "mapping_changes", dagster_instance, None).cursor
    mapping_folder.append("products.csv", "prod_beta_ai,SUB-AI-BETA,")
    # The edit alone starts the retry: re-validation, then the day holding the blocked document.
    [request] = tick(build_defs, "mapping_changes", dagster_instance, cursor).run_requests or []
    assert (request.job_name, request.partition_key) == ("apply_mapping_fix", "2026-11-20")
    second = (
        build_defs()
        .resolve_job_def("apply_mapping_fix")
        .execute_in_process(instance=dagster_instance, partition_key="2026-11-20")
    )

    assert check(second, "no_blocked_documents").passed
    assert check(second, "all_documents_synced").passed
    refs = sorted(i["YourRef"] for i in admin.store(NL, "salesinvoice/SalesInvoices"))
    assert refs == ["NL-BETA", "NL-OK"]


def test_mapping_edit_marks_synced_partitions_stale(
    build_defs: BuildDefs,
    billing: Billing,
    connected: None,
    mapping_folder: MappingFolder,
    dagster_instance: dg.DagsterInstance,
) -> None:
    customer = billing.customer("cus_1", "Acme B.V.")
    billing.document("NL-1", customer, [("prod_team", 1, 9900, "tax_nl_21")])
    defs = build_defs()
    run(defs, dagster_instance, partition_key="2026-11-20")

    def status(definitions: dg.Definitions, key: dg.AssetKey) -> StaleStatus:
        graph = definitions.get_repository_def().asset_graph
        resolver = CachingStaleStatusResolver(
            dagster_instance, graph, LoadingContextForTest(dagster_instance)
        )
        return resolver.get_status(key, "2026-11-20")

    synced = [dg.AssetKey("exact_document_payloads"), dg.AssetKey("exact_documents")]
    assert [status(defs, key) for key in synced] == [StaleStatus.FRESH] * 2

    mapping_folder.replace("products.csv", "prod_team,SUB-TEAM,", "prod_team,SUB-TEAM,8010")
    edited = build_defs()
    edited.resolve_job_def("validate_mappings").execute_in_process(instance=dagster_instance)
    assert [status(edited, key) for key in synced] == [StaleStatus.STALE] * 2


def test_spent_daily_budget_stops_the_run_cleanly_and_the_ui_says_so(
    build_defs: BuildDefs,
    billing: Billing,
    admin: SandboxAdmin,
    connected: None,
    dagster_instance: dg.DagsterInstance,
) -> None:
    customer = billing.customer("cus_1", "Acme B.V.")
    for number in ("NL-1", "NL-2", "NL-3", "NL-4"):
        billing.document(number, customer, [("prod_team", 1, 9900, "tax_nl_21")])
    admin.configure(daily_limit=14)  # master data and customers, then a document or two

    result = run(build_defs(), dagster_instance, partition_key="2026-11-20")

    assert result.success  # stopped cleanly: not a failed run
    [documents] = materialization(result, "exact_documents")
    stopped = str(documents.metadata["stopped"].value)
    assert "daily API budget" in stopped and "310001" in stopped
    left = documents.metadata["documents_not_reached"].value
    assert left >= 1
    assert documents.metadata["documents_pushed"].value + left == 4
    synced = check(result, "all_documents_synced")
    assert not synced.passed and "daily API budget" in (synced.description or "")


POSTED_ON_THE_20TH = datetime(2026, 11, 20, 15, tzinfo=ZoneInfo("Europe/Amsterdam"))


def test_a_document_removed_in_exact_by_hand_shows_in_the_reconciliation(
    build_defs: BuildDefs,
    billing: Billing,
    admin: SandboxAdmin,
    config: ExactConfig,
    state_url: str,
    connected: None,
    mapping_folder: MappingFolder,
    dagster_instance: dg.DagsterInstance,
) -> None:
    mapping_folder.setting("invoice_push_mode", "sales_entry")
    customer = billing.customer("cus_1", "Acme B.V.")
    billing.document("NL-1", customer, [("prod_team", 1, 9900, "tax_nl_21")])
    billing.document("NL-2", customer, [("prod_seat", 3, 1200, "tax_nl_21")])
    defs = build_defs()
    run(defs, dagster_instance, partition_key="2026-11-20")

    [entry] = [e for e in admin.store(NL, "salesentry/SalesEntries") if e["YourRef"] == "NL-2"]
    with open_exact(config, state_url, TOKEN_KEY) as exact:
        token = exact.tokens.load()
    assert token is not None
    deleted = httpx.delete(
        f"{config.base_url}/api/v1/{NL}/salesentry/SalesEntries(guid'{entry['EntryID']}')",
        headers={"Authorization": f"Bearer {token.access_token}", "Accept": "application/json"},
    )
    assert deleted.status_code == 204
    # Posted live on its day (this run is later than the 20th): the first run after the day
    # reads its documents back once (sync/documents/verified.py).
    with psycopg.connect(state_url, autocommit=True) as conn:
        conn.execute(f"UPDATE {STATE_SCHEMA}.exact_totals SET read_at = %s", [POSTED_ON_THE_20TH])

    again = run(defs, dagster_instance, partition_key="2026-11-20")

    totals = check(again, "totals_match_exact")
    assert not totals.passed
    [row] = [r.data for r in totals.metadata["differences"].value.records]
    assert row["number"] == "NL-2" and row["billing_total"] == "43.56"
    assert "no longer holds it" in row["explanation"]
