"""The demo's environment file: enough to run the README's CLI backfill beside the demo."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import dagster as dg
import pytest
from dotenv import dotenv_values

from exact_pipeline.demo.launcher import (
    DemoPaths,
    database_urls,
    demo_env,
    prepare_dagster_home,
    write_env_file,
)
from exact_pipeline.postgres import psycopg2_url
from exact_pipeline.settings import EnvSettings


def test_the_env_file_points_the_cli_at_the_demos_dagster_instance(
    tmp_path: Path,
    make_database: Callable[[str], str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`uv run --env-file .demo/demo.env dagster asset materialize …` builds the same instance
    (Postgres storage, run logs at INFO) and the same settings as the demo's own processes."""
    billing, dagster = make_database("demo_env_billing"), make_database("demo_env_dagster")
    monkeypatch.setenv("BILLING_DATABASE_URL", billing)
    monkeypatch.setenv("DAGSTER_PG_URL", psycopg2_url(dagster))
    paths = DemoPaths(tmp_path)
    with ExitStack() as stack:
        urls = ("http://127.0.0.1:8999", "http://127.0.0.1:8998/exact/webhooks")
        env = demo_env(paths, *database_urls(paths, stack), *urls)
    write_env_file(paths.env_file, env)
    prepare_dagster_home(paths)

    written = dotenv_values(paths.env_file)
    for name in list(written):
        monkeypatch.delenv(name, raising=False)
    assert EnvSettings(_env_file=paths.env_file) == EnvSettings(  # type: ignore[call-arg]
        **{k.lower(): v for k, v in env.items() if k.lower() in EnvSettings.model_fields}
    )
    for name, value in written.items():
        monkeypatch.setenv(name, value or "")
    with dg.DagsterInstance.get() as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert instance.python_log_level == "INFO"
        assert "exact_pipeline" in instance.managed_python_loggers
