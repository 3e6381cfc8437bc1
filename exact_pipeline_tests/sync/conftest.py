"""Fixtures for the sync engine: a billing database, a state database, a connected Exact client
(the client tests' fixtures, reused), an editable copy of the demo mapping tables, and
engines built from them. Everything real: Postgres, and the sandbox over HTTP."""

from __future__ import annotations

import functools
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from exact_pipeline.billing.database import drop_schema
from exact_pipeline.exact import ExactClient, ExactConfig
from exact_pipeline.mapping import Mappings, load_mappings
from exact_pipeline.settings import STATE_SCHEMA
from exact_pipeline.state.exact import open_exact
from exact_pipeline.sync.core.session import SyncSession
from exact_pipeline.sync.documents.engine import SyncEngine
from exact_pipeline_tests.conftest import REPO
from exact_pipeline_tests.exact import conftest as client_fixtures
from exact_pipeline_tests.exact.conftest import FAST_RETRY, TOKEN_KEY, SandboxAdmin
from exact_pipeline_tests.sync.builder import Billing

# The client tests' fixtures, reused: the sandbox's admin API, the demo app's configuration,
# and the stored consent for NL and BE (in `state_url`, below).
admin = client_fixtures.admin
config = client_fixtures.config
connected = client_fixtures.connected

# Far above what a test spends: pacing is the client's business, tested there.
UNHURRIED = {"minutely_limit": 100_000, "daily_limit": 100_000}


class MappingFolder:
    """A copy of the demo mapping tables that a test may edit, then load."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        shutil.copytree(REPO / "mappings", folder)

    def setting(self, key: str, value: str) -> MappingFolder:
        path = self.folder / "settings.yaml"
        text, count = re.subn(rf"(?m)^{key}: .*$", f"{key}: {value}", path.read_text())
        assert count == 1, f"settings.yaml has no top-level {key}"
        path.write_text(text)
        return self

    def append(self, file: str, *rows: str) -> MappingFolder:
        with (self.folder / file).open("a") as out:
            out.writelines(f"{row}\n" for row in rows)
        return self

    def replace(self, file: str, old: str, new: str) -> MappingFolder:
        path = self.folder / file
        assert old in path.read_text(), f"{old!r} is not in {file}"
        path.write_text(path.read_text().replace(old, new))
        return self

    def load(self) -> Mappings:
        return load_mappings(self.folder)


@pytest.fixture(scope="module")
def module_database(make_database: Callable[[str], str], request: pytest.FixtureRequest) -> str:
    return make_database(f"sync_{request.module.__name__.rsplit('.', 1)[-1]}")


@pytest.fixture
def state_url(module_database: str) -> str:
    """One database for billing and the state (the product's default), emptied for each test:
    dropping schemas is much cheaper than creating databases."""
    with psycopg.connect(module_database, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {STATE_SCHEMA} CASCADE")
        drop_schema(conn)
    return module_database


@pytest.fixture
def billing(state_url: str) -> Billing:
    return Billing(state_url)


@pytest.fixture
def mapping_folder(tmp_path: Path) -> MappingFolder:
    return MappingFolder(tmp_path / "mappings")


@pytest.fixture
def unhurried(admin: SandboxAdmin) -> None:
    admin.configure(**UNHURRIED)


@pytest.fixture
def exact(
    unhurried: None, connected: None, config: ExactConfig, state_url: str
) -> Iterator[ExactClient]:
    with open_exact(config, state_url, TOKEN_KEY, retry=FAST_RETRY) as client:
        yield client


EngineFactory = Callable[..., SyncEngine]


@pytest.fixture
def make_session(
    billing: Billing, state_url: str, mapping_folder: MappingFolder, exact: ExactClient
) -> Iterator[Callable[..., Any]]:
    """`make_session(SyncEngine | PaymentSync, **overrides)` → a sync on the current mapping
    tables (load them again after an edit by making a new one); `exact=` gives it another
    client (another "run"). Closed after the test."""
    made: list[SyncSession] = []

    def make(kind: type[SyncSession], **overrides: Any) -> SyncSession:
        options = {
            "billing_url": billing.url,
            "state_url": state_url,
            "mappings": mapping_folder.load(),
            "exact": exact,
        } | overrides
        made.append(kind(**options))
        return made[-1]

    yield make
    for session in made:
        session.close()


@pytest.fixture
def make_engine(make_session: Callable[..., Any]) -> EngineFactory:
    return functools.partial(make_session, SyncEngine)
