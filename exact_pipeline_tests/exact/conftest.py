"""Fixtures for the Exact client: a fresh state database, the sandbox's admin API, a
connected client. Everything talks to the sandbox over HTTP."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import psycopg
import pytest

from exact_pipeline.demo.sandbox_process import consent_code
from exact_pipeline.exact import ExactClient, ExactConfig, RetryPolicy
from exact_pipeline.settings import STATE_SCHEMA
from exact_pipeline.state.exact import open_exact
from exact_pipeline_tests.conftest import SandboxProcess, free_port

CLIENT_ID = "exact-pipeline-demo"
CLIENT_SECRET = "sandbox-secret"
TOKEN_KEY = "correct horse battery staple"
NL, BE, FORBIDDEN = 310001, 320001, 330001
FAST_RETRY = RetryPolicy(read_attempts=4, backoff=0.05, rate_limited_attempts=6)


class SandboxAdmin:
    """The sandbox's `/_sandbox/*` API (not part of Exact)."""

    def __init__(self, url: str) -> None:
        self.url = url
        # No kept-alive connections: admin calls can be minutes apart, and reusing one the
        # sandbox closed meanwhile answered "connection reset" (seen once in a CI run).
        self.http = httpx.Client(
            base_url=url, timeout=30, limits=httpx.Limits(max_keepalive_connections=0)
        )

    def _json(self, response: httpx.Response) -> Any:
        response.raise_for_status()
        return response.json() if response.content else None

    def configure(self, **settings: Any) -> Any:
        return self._json(self.http.post("/_sandbox/config", json=settings))

    def faults(self, *rules: dict[str, Any]) -> Any:
        return self._json(self.http.post("/_sandbox/faults", json={"rules": list(rules)}))

    def fault_rules(self) -> list[dict[str, Any]]:
        return self._json(self.http.get("/_sandbox/faults"))["rules"]

    def clear_faults(self) -> None:
        self._json(self.http.delete("/_sandbox/faults"))

    def requests(self) -> dict[str, Any]:
        return self._json(self.http.get("/_sandbox/requests"))

    def clear_requests(self) -> None:
        self._json(self.http.delete("/_sandbox/requests"))

    def count(self, key: str) -> int:
        """Requests so far to `"METHOD path"` (e.g. "POST salesentry/SalesEntries")."""
        return self.requests()["by_endpoint"].get(key, 0)

    def store(self, division: int, path: str) -> list[dict[str, Any]]:
        return self._json(self.http.get(f"/_sandbox/store/{division}/{path}"))["results"]

    def advance(self, seconds: float) -> Any:
        return self._json(self.http.post("/_sandbox/clock/advance", json={"seconds": seconds}))

    def now(self) -> float:
        """The sandbox's clock, epoch seconds."""
        return self._json(self.http.get("/_sandbox/clock"))["epoch_ms"] / 1000

    def code(self, redirect_uri: str, divisions: list[int] | None = None) -> str:
        return consent_code(self.url, CLIENT_ID, redirect_uri, divisions or [NL, BE])


@pytest.fixture
def admin(sandbox: SandboxProcess) -> Iterator[SandboxAdmin]:
    api = SandboxAdmin(sandbox.url)
    yield api
    api.http.close()


@pytest.fixture(scope="module")
def module_state_url(make_database: Callable[[str], str], request: pytest.FixtureRequest) -> str:
    return make_database(f"exact_{request.module.__name__.rsplit('.', 1)[-1]}")


@pytest.fixture
def state_url(module_state_url: str) -> str:
    """An empty state database for this test (the client creates its tables)."""
    with psycopg.connect(module_state_url, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {STATE_SCHEMA} CASCADE")
    return module_state_url


@pytest.fixture
def config(sandbox: SandboxProcess) -> ExactConfig:
    return ExactConfig(
        base_url=sandbox.url,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        redirect_uri=f"http://127.0.0.1:{free_port()}/callback",
    )


def connect(admin: SandboxAdmin, config: ExactConfig, state_url: str) -> None:
    """Consent for NL and BE through the admin API, and store the chain (as `auth login`)."""
    with open_exact(config, state_url, TOKEN_KEY) as client:
        client.connect(admin.code(config.redirect_uri))


@pytest.fixture
def connected(admin: SandboxAdmin, config: ExactConfig, state_url: str) -> None:
    connect(admin, config, state_url)


@pytest.fixture
def client(connected: None, config: ExactConfig, state_url: str) -> Iterator[ExactClient]:
    with open_exact(config, state_url, TOKEN_KEY, retry=FAST_RETRY) as exact:
        yield exact
