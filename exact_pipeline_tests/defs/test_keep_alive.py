"""The daily keep-alive keeps the token chain alive across months without any document."""

from __future__ import annotations

import dagster as dg

from exact_pipeline.exact import ExactConfig
from exact_pipeline.state.exact import open_exact
from exact_pipeline_tests.defs.conftest import BuildDefs
from exact_pipeline_tests.exact.conftest import TOKEN_KEY, SandboxAdmin

DAYS_29 = 29 * 24 * 3600


def test_daily_touch_outlives_the_30_day_refresh_token(
    build_defs: BuildDefs,
    admin: SandboxAdmin,
    config: ExactConfig,
    state_url: str,
    connected: None,
    dagster_instance: dg.DagsterInstance,
) -> None:
    job = build_defs().resolve_job_def("keep_exact_connection_alive")
    with open_exact(config, state_url, TOKEN_KEY) as exact:
        first = exact.tokens.load()
    assert first is not None

    for _ in range(2):  # 58 days: twice past the refresh token's 30-day life
        admin.advance(DAYS_29)
        assert job.execute_in_process(instance=dagster_instance).success

    with open_exact(config, state_url, TOKEN_KEY) as exact:
        last = exact.tokens.load()
        assert exact.me().FullName  # the chain still works
    assert last is not None and not last.is_dead
    assert last.refresh_count >= first.refresh_count + 2
    assert last.refresh_expires_at > first.refresh_expires_at


def test_dead_connection_fails_the_run_with_what_to_do(
    build_defs: BuildDefs,
    admin: SandboxAdmin,
    connected: None,
    dagster_instance: dg.DagsterInstance,
) -> None:
    admin.advance(31 * 24 * 3600)  # nothing ran for a month: the refresh token has lapsed
    job = build_defs().resolve_job_def("keep_exact_connection_alive")

    result = job.execute_in_process(instance=dagster_instance, raise_on_error=False)

    assert not result.success
    [failure] = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert "exact-pipeline auth login" in str(failure.step_failure_data.error)
