"""The documents' freshness promise: Dagster's freshness daemon judges `exact_documents` (run
for real, then judged two hours later with Dagster's own clock moved), the alert sensor posts
the broken promise once, and again after a push kept it and it broke again. A module of its
own: the broken state lives in the module's Dagster instance."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest
from dagster._core.remote_origin import InProcessCodeLocationOrigin
from dagster._core.test_utils import InProcessTestWorkspaceLoadTarget, freeze_time
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
from dagster._core.workspace.context import WorkspaceProcessContext
from dagster._daemon.freshness import FreshnessDaemon

from exact_pipeline.defs.documents.freshness import DOCUMENTS_FRESHNESS
from exact_pipeline_tests.defs.conftest import BuildDefs, run, tick
from exact_pipeline_tests.defs.webhook_receiver import LINK, Receiver, receiver
from exact_pipeline_tests.sync.builder import DAY

__all__ = ["receiver"]

DOCUMENTS = dg.AssetKey("exact_documents")


@pytest.fixture
def judge(
    build_defs: BuildDefs, dagster_instance: dg.DagsterInstance
) -> Iterator[Callable[[float], str]]:
    """`judge(hours_later)`: one pass of Dagster's freshness daemon over the code location, at
    now plus `hours_later` by Dagster's clock."""
    origin = InProcessCodeLocationOrigin(
        LoadableTargetOrigin(module_name="exact_pipeline.definitions", attribute="defs"),
        location_name="exact_pipeline",  # as [tool.dg.project] names it
    )
    with WorkspaceProcessContext(
        dagster_instance, InProcessTestWorkspaceLoadTarget(origin)
    ) as workspace:

        def judge(hours_later: float) -> str:
            with freeze_time(datetime.now(UTC) + timedelta(hours=hours_later)):
                list(FreshnessDaemon().run_iteration(workspace))
            records = dagster_instance.get_freshness_state_records([DOCUMENTS])
            return records[DOCUMENTS].freshness_state.value

        yield judge


def test_the_promise_is_an_hour_with_ten_minutes_for_the_hourly_run(
    build_defs: BuildDefs,
) -> None:
    [spec] = build_defs().get_assets_def("exact_documents").specs
    assert spec.freshness_policy == DOCUMENTS_FRESHNESS
    assert DOCUMENTS_FRESHNESS.fail_window.to_timedelta() == timedelta(minutes=70)


def test_a_broken_promise_is_posted_once_and_again_after_it_was_kept_and_broke_again(
    build_defs: BuildDefs,
    connected: None,
    dagster_instance: dg.DagsterInstance,
    receiver: Receiver,
    judge: Callable[[float], str],
) -> None:
    defs = build_defs()
    run(defs, dagster_instance, partition_key=DAY.isoformat(), assets=["exact_documents"])

    assert judge(0) == "PASS"
    tick(build_defs, "alerts_to_webhook", dagster_instance, None)
    assert receiver.posts == []

    assert judge(2) == "FAIL"  # two hours without a push
    tick(build_defs, "alerts_to_webhook", dagster_instance, None)
    tick(build_defs, "alerts_to_webhook", dagster_instance, None)
    [post] = receiver.posts
    assert post["blocks"][0]["text"]["text"] == (
        "exact-pipeline: the documents' freshness promise is broken"
    )
    assert (
        "no push of exact_documents has finished within its promise of 60 minutes" in (post["text"])
    )
    assert LINK in post["text"]

    assert judge(0) == "PASS"  # kept again (no new push needed now)
    tick(build_defs, "alerts_to_webhook", dagster_instance, None)
    assert judge(2) == "FAIL"
    tick(build_defs, "alerts_to_webhook", dagster_instance, None)

    assert len(receiver.posts) == 2
