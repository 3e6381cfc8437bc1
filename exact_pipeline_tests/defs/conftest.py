"""Fixtures for the Dagster layer: the definitions exactly as the code location loads them
(exact_pipeline/definitions.py), their resources pointed through the environment at a real
billing database, state database, the sandbox and an editable mapping folder."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import dagster as dg
import pytest

from exact_pipeline import definitions
from exact_pipeline.exact import ExactConfig
from exact_pipeline_tests.exact.conftest import CLIENT_SECRET, TOKEN_KEY
from exact_pipeline_tests.sync.builder import Billing
from exact_pipeline_tests.sync.conftest import *  # noqa: F403  (the sync tests' fixtures)
from exact_pipeline_tests.sync.conftest import MappingFolder

BuildDefs = Callable[[], dg.Definitions]


@pytest.fixture
def build_defs(
    billing: Billing,
    state_url: str,
    config: ExactConfig,
    mapping_folder: MappingFolder,
    monkeypatch: pytest.MonkeyPatch,
) -> BuildDefs:
    """`build_defs()` → the Definitions as the code location loads them, with the settings a
    deployment sets in its environment (secrets included: the resources read them as EnvVars
    when a run or tick starts)."""
    for name, value in {
        "BILLING_DATABASE_URL": billing.url,
        "STATE_DATABASE_URL": state_url,
        "EXACT_BASE_URL": config.base_url,
        "EXACT_CLIENT_ID": config.client_id,
        "EXACT_CLIENT_SECRET": CLIENT_SECRET,
        "EXACT_REDIRECT_URI": config.redirect_uri,
        "EXACT_TOKEN_KEY": TOKEN_KEY,
        "EXACT_MAPPINGS_DIR": str(mapping_folder.folder),
    }.items():
        monkeypatch.setenv(name, value)
    return definitions.defs


def run(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    *,
    assets: Sequence[str] = (),
    **options: Any,
) -> dg.ExecuteInProcessResult:
    """One run of `assets`, by default of every asset but the monthly ones (a run has one
    partitions definition: days, or months)."""
    graph = defs.get_repository_def().asset_graph
    keys = [dg.AssetKey(name) for name in assets] or [
        key
        for key in graph.get_all_asset_keys()
        if not isinstance(graph.get(key).partitions_def, dg.MonthlyPartitionsDefinition)
    ]
    job = defs.resolve_implicit_global_asset_job_def()
    return job.execute_in_process(
        instance=instance, raise_on_error=True, asset_selection=keys, **options
    )


def check(
    result: dg.ExecuteInProcessResult, name: str, partition: str | None = None
) -> dg.AssetCheckEvaluation:
    """The check's result as the run left it for `partition` (default: the run's only one).
    A result is evaluated again later in the same run when the push changes its truth
    (`no_blocked_documents`): the last one counts, as in Dagster's storage."""
    evaluations = [e for e in result.get_asset_check_evaluations() if e.check_name == name]
    partitions = {e.partition for e in evaluations}
    if partition is None:
        assert len(partitions) == 1, partitions
        [partition] = partitions
    found = [e for e in evaluations if e.partition == partition]
    assert found, (name, partition, partitions)
    return found[-1]


def check_states(
    defs: dg.Definitions, instance: dg.DagsterInstance, asset: str, name: str
) -> dict[str, str]:
    """Per partition, the check's status as the UI shows it (Dagster's own state of the check:
    only results that judge the partition's latest materialization count)."""
    key = dg.AssetCheckKey(dg.AssetKey(asset), name)
    partitions = defs.get_assets_def(asset).partitions_def
    state = instance.event_log_storage.get_asset_check_state([(key, partitions)])[key]
    return {
        partition: status.value
        for status, subset in state.subsets.items()
        if not isinstance(subset.value, bool)
        for partition in subset.value.get_partition_keys()
    }


def materialization(result: dg.ExecuteInProcessResult, key: str) -> list[dg.AssetMaterialization]:
    return result.asset_materializations_for_node(key)


def tick(
    build_defs: BuildDefs, name: str, instance: dg.DagsterInstance, cursor: str | None
) -> dg.SensorExecutionData:
    defs = build_defs()
    sensor = defs.resolve_sensor_def(name)
    context = dg.build_sensor_context(
        instance=instance,
        cursor=cursor,
        repository_def=defs.get_repository_def(),
        resources=defs.resources,
    )
    return sensor.evaluate_tick(context)
