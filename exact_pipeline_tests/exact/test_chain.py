"""The token chain: refreshed in time, once, across processes; dead chains stop everything."""

from __future__ import annotations

import itertools
import multiprocessing
import time
from dataclasses import asdict
from datetime import datetime
from typing import Any

import httpx
import pytest

from exact_pipeline.exact import ExactClient, ExactConfig, ReauthorizationRequired, ServerError
from exact_pipeline.exact.endpoints import JOURNALS
from exact_pipeline.state.exact import open_exact
from exact_pipeline.sync.core.errors import for_people
from exact_pipeline_tests.exact.conftest import (
    BE,
    CLIENT_ID,
    CLIENT_SECRET,
    FAST_RETRY,
    NL,
    TOKEN_KEY,
    SandboxAdmin,
    connect,
)

TOKEN_PATH = "/api/oauth2/token"


@pytest.fixture
def client(connected: None, admin: SandboxAdmin, config: ExactConfig, state_url: str):
    """The sandbox's `Date` header stays on wall time while tests move its clock, so the
    client sees the moved clock only through the rate-limit resets: a 1 s window makes them
    tell the time to the second (at Exact, `Date` does)."""
    admin.configure(window_seconds=1)
    with open_exact(config, state_url, TOKEN_KEY, retry=FAST_RETRY, minute_seconds=1) as exact:
        yield exact


def token_calls(admin: SandboxAdmin) -> list[dict[str, Any]]:
    return [e for e in admin.requests()["log"] if e["path"].endswith("oauth2/token")]


def api_401s(admin: SandboxAdmin) -> int:
    log = admin.requests()["log"]
    return sum(1 for e in log if e["status"] == 401 and "/api/v1/" in e["path"])


def call(client: ExactClient, division: int = NL) -> None:
    assert list(client.list(division, JOURNALS))


def test_refresh_happens_once_in_the_last_30_seconds(
    client: ExactClient, admin: SandboxAdmin
) -> None:
    call(client)
    admin.clear_requests()
    admin.advance(500)
    for _ in range(3):
        call(client)
    assert token_calls(admin) == []  # not before 570 s
    before = client.tokens.load()
    admin.advance(75)  # the token is 575 s old
    for _ in range(3):
        call(client)
    refreshes = token_calls(admin)
    assert [r["status"] for r in refreshes] == [200]
    assert api_401s(admin) == 0
    after = client.tokens.load()
    assert before is not None and after is not None
    assert after.refresh_count == before.refresh_count + 1
    assert after.refresh_token != before.refresh_token
    assert after.access_expires_at > before.access_expires_at


def test_an_expired_token_is_refreshed_once_and_the_call_retried_once(
    client: ExactClient, admin: SandboxAdmin
) -> None:
    call(client)
    admin.clear_requests()
    admin.advance(700)  # the client has not seen the clock move: it sends the old token
    call(client)
    assert api_401s(admin) == 1
    assert [r["status"] for r in token_calls(admin)] == [200]


def rogue_refresh(config: ExactConfig, refresh_token: str) -> None:
    """Another installation with a copy of the token refreshes behind our back."""
    response = httpx.post(
        f"{config.base_url}{TOKEN_PATH}",
        data={
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        },
    )
    assert response.status_code == 200, response.text


def test_a_dead_chain_stops_every_process_until_login(
    client: ExactClient, admin: SandboxAdmin, config: ExactConfig, state_url: str
) -> None:
    stored = client.tokens.load()
    assert stored is not None
    admin.advance(580)
    rogue_refresh(config, stored.refresh_token)
    admin.advance(30)
    with pytest.raises(ReauthorizationRequired) as info:
        for _ in range(3):
            call(client)
    assert "must be authorized again" in str(info.value)
    assert "Old refresh token" in str(info.value)
    assert "exact-pipeline auth login" in for_people(info.value)  # what the pipeline shows
    dead = client.tokens.load()
    assert dead is not None and dead.is_dead

    # Every other process stops too, without touching Exact's token endpoint again.
    admin.clear_requests()
    with open_exact(config, state_url, TOKEN_KEY) as other, pytest.raises(ReauthorizationRequired):
        call(other)
    with pytest.raises(ReauthorizationRequired):
        call(client)
    assert admin.requests()["total"] == 0

    connect(admin, config, state_url)  # `auth login` again
    with open_exact(config, state_url, TOKEN_KEY) as revived:
        call(revived, BE)


def test_an_unused_refresh_token_dies_after_30_days(
    client: ExactClient, admin: SandboxAdmin
) -> None:
    admin.advance(31 * 86400)
    with pytest.raises(ReauthorizationRequired) as info:
        call(client)
    assert "expired" in str(info.value)
    assert client.tokens.load().is_dead  # type: ignore[union-attr]


def test_a_token_response_lost_before_rotation_is_asked_again(
    client: ExactClient, admin: SandboxAdmin
) -> None:
    admin.advance(600)
    admin.clear_requests()
    admin.faults({"kind": "token_failure", "times": 1})  # fails before rotating
    call(client)
    assert len(token_calls(admin)) == 2
    assert not client.tokens.load().is_dead  # type: ignore[union-attr]


def test_a_failing_token_endpoint_leaves_the_chain_alive(
    client: ExactClient, admin: SandboxAdmin
) -> None:
    admin.advance(600)
    admin.clear_requests()
    admin.faults({"kind": "token_failure", "times": 2, "status": 503})
    with pytest.raises(ServerError) as info:
        call(client)
    assert info.value.path == TOKEN_PATH and info.value.status == 503
    assert not client.tokens.load().is_dead  # type: ignore[union-attr]
    call(client)  # the next call refreshes with the same, still valid, refresh token
    assert [t["status"] for t in token_calls(admin)] == [503, 503, 200]


def test_a_token_response_lost_after_rotation_is_a_clear_dead_chain(
    client: ExactClient, admin: SandboxAdmin
) -> None:
    admin.advance(600)
    admin.faults({"kind": "token_failure", "times": 1, "after_commit": True})
    with pytest.raises(ReauthorizationRequired) as info:
        call(client)
    assert "lost" in str(info.value)
    assert client.tokens.load().is_dead  # type: ignore[union-attr]


# --- eight processes share one chain -------------------------------------------------------

PROCESSES = 8
# 25 s steps for 20 min 50 s of sandbox time: a step lands in every token's last 30 s (30 s
# steps could land a refresh on the 600 s edge itself, since a refresh starts a new phase).
STEP = 25
STEPS = 50


def _worker(
    index: int, config: dict[str, Any], state_url: str, stop: Any, calls: Any, errors: Any
) -> None:
    """Call NL and BE alternately until told to stop; count calls in `calls[index]`."""
    try:
        with open_exact(
            ExactConfig(**config), state_url, TOKEN_KEY, retry=FAST_RETRY, minute_seconds=1
        ) as client:
            while not stop.is_set():
                call(client, (NL, BE)[calls[index] % 2])
                calls[index] += 1
    except Exception as exc:
        errors.put(repr(exc))
        calls[index] = -1


def wait_until_each_called(calls: Any, since: list[int], times: int) -> None:
    """Every worker has called at least `times` more times (so each saw the clock move)."""
    deadline = time.monotonic() + 30
    while any(0 <= now < then + times for now, then in zip(calls, since, strict=True)):
        assert time.monotonic() < deadline, "workers stopped calling"
        time.sleep(0.005)
    assert min(calls) >= 0, "a worker failed"


def test_eight_processes_share_the_chain_for_over_20_minutes(
    client: ExactClient, admin: SandboxAdmin, config: ExactConfig, state_url: str
) -> None:
    admin.configure(minutely_limit=100_000, daily_limit=1_000_000, window_seconds=1)
    start = client.tokens.load()
    assert start is not None
    context = multiprocessing.get_context("forkserver")
    # Forked from a server that has the client imported: eight workers start in ~2 s, not 12.
    context.set_forkserver_preload(["exact_pipeline_tests.exact.test_chain"])
    stop, calls, errors = context.Event(), context.Array("i", PROCESSES), context.Queue()
    workers = [
        context.Process(target=_worker, args=(i, asdict(config), state_url, stop, calls, errors))
        for i in range(PROCESSES)
    ]
    for worker in workers:
        worker.start()
    try:
        wait_until_each_called(calls, [0] * PROCESSES, 1)
        admin.clear_requests()
        for _ in range(STEPS):
            admin.advance(STEP)
            # Two calls each: the first may still use what it knew before the clock moved.
            wait_until_each_called(calls, list(calls), 2)
    finally:
        stop.set()
        for worker in workers:
            worker.join(timeout=30)
    assert errors.empty(), errors.get()

    tokens = token_calls(admin)
    assert [t["status"] for t in tokens] == [200] * len(tokens)  # never refused
    end = client.tokens.load()
    assert end is not None and not end.is_dead
    assert end.refresh_count - start.refresh_count == len(tokens)
    # One refresh per token lifetime, in the token's last 30 s: two in 20 minutes 50.
    issued = [start.refreshed_at.timestamp()]
    issued += [datetime.fromisoformat(t["at"]).timestamp() for t in tokens]
    gaps = [later - earlier for earlier, later in itertools.pairwise(issued)]
    assert len(tokens) == 2, gaps
    assert all(570 <= gap <= 600 for gap in gaps), gaps
