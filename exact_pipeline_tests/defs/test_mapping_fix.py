"""A mapping fix goes through in one run: the tables validated, then every automated day that
holds blocked documents, together; the days it re-ran record the new tables (not stale), the
other synced days show as stale. Validation does not hold the Exact pool."""

from __future__ import annotations

from datetime import datetime

import dagster as dg
from dagster._core.definitions.data_version import CachingStaleStatusResolver, StaleStatus
from dagster._core.loader import LoadingContextForTest

from exact_pipeline.defs.documents.automation import RANGE_END, RANGE_START
from exact_pipeline_tests.defs.conftest import BuildDefs, materialization, run, tick
from exact_pipeline_tests.exact.conftest import SandboxAdmin
from exact_pipeline_tests.sync.builder import AMSTERDAM, Billing
from exact_pipeline_tests.sync.conftest import MappingFolder

TEAM = ("prod_team", 1, 9900, "tax_nl_21")
BETA = ("prod_beta_ai", 1, 1900, "tax_nl_21")
DOCUMENTS = dg.AssetKey("exact_documents")


def on(day: str) -> datetime:
    return datetime.fromisoformat(f"{day}T10:00").replace(tzinfo=AMSTERDAM)


def stale_status(defs: dg.Definitions, instance: dg.DagsterInstance, day: str) -> StaleStatus:
    graph = defs.get_repository_def().asset_graph
    resolver = CachingStaleStatusResolver(instance, graph, LoadingContextForTest(instance))
    return resolver.get_status(DOCUMENTS, day)


def test_a_mapping_fix_runs_every_waiting_day_in_one_run(
    build_defs: BuildDefs,
    billing: Billing,
    admin: SandboxAdmin,
    connected: None,
    mapping_folder: MappingFolder,
    dagster_instance: dg.DagsterInstance,
) -> None:
    customer = billing.customer("cus_1", "Acme B.V.")
    billing.document("NL-10", customer, [TEAM], issued=on("2026-11-10"))
    billing.document("NL-BETA-1", customer, [BETA], issued=on("2026-11-18"))
    billing.document("NL-19", customer, [TEAM], issued=on("2026-11-19"))
    billing.document("NL-BETA-2", customer, [TEAM, BETA], issued=on("2026-11-20"))
    cursor = tick(build_defs, "mapping_changes", dagster_instance, None).cursor
    run(build_defs(), dagster_instance, tags={RANGE_START: "2026-11-10", RANGE_END: "2026-11-20"})

    mapping_folder.append("products.csv", "prod_beta_ai,SUB-AI-BETA,")
    requests = tick(build_defs, "mapping_changes", dagster_instance, cursor).run_requests or []

    [fix] = requests  # one run: not a validation run plus one run per day
    assert fix.job_name == "apply_mapping_fix" and fix.partition_key is None
    assert (fix.tags[RANGE_START], fix.tags[RANGE_END]) == ("2026-11-18", "2026-11-20")
    defs = build_defs()
    result = defs.resolve_job_def(fix.job_name).execute_in_process(
        instance=dagster_instance, tags=fix.tags
    )

    assert [m.partition for m in materialization(result, "mapping_tables")] == [None]
    refs = {i["YourRef"] for i in admin.store(310001, "salesinvoice/SalesInvoices")}
    assert refs == {"NL-10", "NL-BETA-1", "NL-19", "NL-BETA-2"}
    # Validated first in the same run: the re-run days record the new tables as their input.
    for day in ("2026-11-18", "2026-11-19", "2026-11-20"):
        assert stale_status(defs, dagster_instance, day) == StaleStatus.FRESH
    assert stale_status(defs, dagster_instance, "2026-11-10") == StaleStatus.STALE


def test_validation_holds_no_exact_pool(build_defs: BuildDefs) -> None:
    """It only reads a few master-data lists (the client paces them): a fix's sync run must not
    queue behind it."""
    defs = build_defs()
    assert defs.get_assets_def("mapping_tables").op.pool is None
    assert defs.get_assets_def("exact_documents").op.pool is None  # per division, in the step
