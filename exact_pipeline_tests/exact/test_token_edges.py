"""Token edges: another worker rotated the chain while our refresh was on its way ("too early",
"old refresh token used"), and a state database that will not store a rotated token."""

from __future__ import annotations

import threading
import time

import httpx
import psycopg
import pytest

from exact_pipeline.exact import (
    ExactClient,
    ExactConfig,
    ReauthorizationRequired,
    TokenNotSaved,
)
from exact_pipeline.exact.clock import ServerClock
from exact_pipeline.exact.oauth import refresh_grant
from exact_pipeline.settings import STATE_SCHEMA
from exact_pipeline.state.exact import open_exact
from exact_pipeline.sync.core.errors import for_people
from exact_pipeline_tests.exact.conftest import FAST_RETRY, TOKEN_KEY, SandboxAdmin
from exact_pipeline_tests.exact.test_chain import call, token_calls

TOKEN = "oauth2/token"


@pytest.fixture
def client(connected: None, admin: SandboxAdmin, config: ExactConfig, state_url: str):
    """As in test_chain: a 1 s rate-limit window lets the client see the moved clock."""
    admin.configure(window_seconds=1)
    with open_exact(config, state_url, TOKEN_KEY, retry=FAST_RETRY, minute_seconds=1) as exact:
        yield exact


def wait_until_fired(admin: SandboxAdmin, kind: str) -> None:
    deadline = time.monotonic() + 10
    while not any(r["kind"] == kind and r["fired"] for r in admin.fault_rules()):
        assert time.monotonic() < deadline, f"no {kind} fault fired"
        time.sleep(0.02)


def call_while_another_worker_rotates(
    admin: SandboxAdmin, config: ExactConfig, state_url: str, client: ExactClient
) -> None:
    """While our client's refresh is held up on its way to Exact, another worker (one that does
    not take our lock) refreshes with the same refresh token and stores the new pair."""
    presented = client.tokens.load()
    assert presented is not None
    failures: list[BaseException] = []

    def ours() -> None:
        try:
            call(client)
        except BaseException as exc:  # reported in the test's thread
            failures.append(exc)

    ours_thread = threading.Thread(target=ours)
    ours_thread.start()
    wait_until_fired(admin, "latency")  # our token request has arrived and waits
    with httpx.Client() as http, open_exact(config, state_url, TOKEN_KEY) as other:
        grant = refresh_grant(http, config, ServerClock(), presented.refresh_token)
        other.tokens.save_refresh(grant)
    ours_thread.join(timeout=30)
    if failures:
        raise failures[0]


@pytest.mark.parametrize("exact_says", ["too_early", "old_refresh_token"])
def test_a_refresh_refused_after_another_worker_rotated_goes_on_with_the_stored_pair(
    client: ExactClient,
    admin: SandboxAdmin,
    config: ExactConfig,
    state_url: str,
    exact_says: str,
) -> None:
    call(client)
    before = client.tokens.load()
    assert before is not None
    admin.advance(605)  # our access token has expired: the next call meets a 401 and refreshes
    admin.clear_requests()
    admin.faults({"kind": "latency", "path": TOKEN, "latency_ms": 1500, "times": 1})
    if exact_says == "too_early":  # what Exact answers within 570 s of the other's refresh
        admin.faults({"kind": "too_early_refresh", "times": 1})

    call_while_another_worker_rotates(admin, config, state_url, client)

    statuses = [t["status"] for t in token_calls(admin)]
    assert sorted(statuses) == ([200, 400] if exact_says == "too_early" else [200, 401])
    after = client.tokens.load()
    assert after is not None and not after.is_dead
    assert after.refresh_token != before.refresh_token
    call(client)  # goes on with the other worker's pair


def refuse_token_saves(state_url: str, times: int) -> None:
    """The state database refuses the next `times` writes of a refresh token (a trigger: the
    database really fails the UPDATE, as a full disk or a failover would)."""
    with psycopg.connect(state_url, autocommit=True) as conn:
        conn.execute(f"CREATE SEQUENCE {STATE_SCHEMA}.refused_saves")
        conn.execute(
            f"""CREATE FUNCTION {STATE_SCHEMA}.refuse_token_save() RETURNS trigger
                LANGUAGE plpgsql AS $$
                BEGIN
                    IF nextval('{STATE_SCHEMA}.refused_saves') <= {times} THEN
                        RAISE EXCEPTION 'could not extend file: No space left on device'
                            USING ERRCODE = '53100';
                    END IF;
                    RETURN NEW;
                END $$"""
        )
        conn.execute(
            f"""CREATE TRIGGER refuse_token_save BEFORE UPDATE OF refresh_token
                ON {STATE_SCHEMA}.exact_connection
                FOR EACH ROW EXECUTE FUNCTION {STATE_SCHEMA}.refuse_token_save()"""
        )


def test_a_rotated_token_the_database_refuses_at_first_is_saved_on_a_retry(
    client: ExactClient, admin: SandboxAdmin, config: ExactConfig, state_url: str
) -> None:
    call(client)
    before = client.tokens.load()
    assert before is not None
    refuse_token_saves(state_url, times=FAST_RETRY.save_attempts - 1)
    admin.advance(605)

    call(client)

    after = client.tokens.load()
    assert after is not None and not after.is_dead
    assert after.refresh_count == before.refresh_count + 1
    # The stored refresh token is the one Exact handed out: another process refreshes with it.
    admin.advance(605)
    with open_exact(config, state_url, TOKEN_KEY, retry=FAST_RETRY, minute_seconds=1) as other:
        call(other)
    assert [t["status"] for t in token_calls(admin)][-2:] == [200, 200]


def test_a_rotated_token_the_database_never_stores_stops_loudly(
    client: ExactClient, admin: SandboxAdmin, config: ExactConfig, state_url: str
) -> None:
    call(client)
    refuse_token_saves(state_url, times=1000)
    admin.advance(605)

    with pytest.raises(TokenNotSaved) as info:
        call(client)

    text = str(info.value)
    assert f"failed {FAST_RETRY.save_attempts} times" in text and "No space left" in text
    assert "token store" in text and "exact-pipeline" not in text  # the library's own words
    shown = for_people(info.value)  # the pipeline's, with what to do
    assert "STATE_DATABASE_URL" in shown and "exact-pipeline auth login" in shown
    stored = client.tokens.load()
    assert stored is not None and stored.is_dead  # every other process stops too …
    admin.clear_requests()
    with open_exact(config, state_url, TOKEN_KEY) as other, pytest.raises(ReauthorizationRequired):
        call(other)
    assert token_calls(admin) == []  # … without presenting the superseded token to Exact
