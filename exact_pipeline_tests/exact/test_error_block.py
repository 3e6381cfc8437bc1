"""Exact's error block: more than 10 errors (4xx) on one endpoint of a division within an hour
block it for an hour. The client counts the refusals it receives in the state database, for
every process, and stops calling the endpoint short of the block."""

from __future__ import annotations

import httpx
import pytest

from exact_pipeline.exact import (
    EndpointPaused,
    ExactClient,
    ExactConfig,
    ExactValidationError,
    ServerError,
)
from exact_pipeline.exact.endpoints import JOURNALS, SALES_ENTRIES
from exact_pipeline.exact.errorblock import EXACT_THRESHOLD, PAUSE_AT, counts_towards_block
from exact_pipeline.state.exact import open_exact
from exact_pipeline_tests.exact.conftest import FAST_RETRY, NL, TOKEN_KEY, SandboxAdmin
from exact_pipeline_tests.exact.test_writes import POST_ENTRY, create_entry, entry_payload

REFUSE_ENTRIES = {"kind": "error", "status": 400, "path": SALES_ENTRIES.path, "method": "POST"}


def blocked(admin: SandboxAdmin) -> dict[str, float]:
    return admin.http.get("/_sandbox/limits").json()["blocked"]


def test_the_sandbox_blocks_an_endpoint_after_more_than_10_errors(
    client: ExactClient, admin: SandboxAdmin
) -> None:
    """What the client must stay clear of (without it, a run with many refusals meets this)."""
    stored = client.tokens.load()
    assert stored is not None
    url = f"{admin.url}/api/v1/{NL}/{SALES_ENTRIES.path}"
    headers = {"Authorization": f"Bearer {stored.access_token}", "Accept": "application/json"}
    admin.faults(REFUSE_ENTRIES)
    answers = [httpx.post(url, json={}, headers=headers) for _ in range(EXACT_THRESHOLD + 2)]
    assert [a.status_code for a in answers] == [400] * (EXACT_THRESHOLD + 1) + [429]
    assert answers[-1].headers["Reason"] == "TooManyErrors"
    assert list(blocked(admin)) == [f"{NL} {SALES_ENTRIES.path}"]


def test_refusals_pause_the_endpoint_short_of_exacts_block_for_every_process(
    client: ExactClient, admin: SandboxAdmin, config: ExactConfig, state_url: str
) -> None:
    payloads = [entry_payload(client, f"REFUSED-{n}") for n in range(EXACT_THRESHOLD + 2)]
    started = admin.now()
    admin.clear_requests()
    admin.faults(REFUSE_ENTRIES)

    refusals = 0
    with pytest.raises(EndpointPaused) as info:
        for payload in payloads:
            with pytest.raises(ExactValidationError):
                create_entry(client, payload)
            refusals += 1

    assert refusals == PAUSE_AT < EXACT_THRESHOLD
    assert admin.count(POST_ENTRY) == PAUSE_AT  # the paused call was never sent
    assert blocked(admin) == {}
    paused = info.value
    assert paused.division == NL and paused.errors == PAUSE_AT
    # Calls resume an hour after the first refusal, when it no longer counts (the client's
    # view of Exact's clock is a lower bound, from whole-second `Date` headers).
    assert started - 1 + 3600 <= paused.until.timestamp() <= admin.now() + 3600
    assert f"{PAUSE_AT} calls to {SALES_ENTRIES.path}" in str(paused)
    assert list(client.list(NL, JOURNALS))  # other endpoints are not affected

    # Another process knows it too, from the state database.
    with (
        open_exact(config, state_url, TOKEN_KEY, retry=FAST_RETRY) as other,
        pytest.raises(EndpointPaused),
    ):
        create_entry(other, payloads[-1])
    assert admin.count(POST_ENTRY) == PAUSE_AT

    # An hour later the refusals no longer count.
    admin.clear_faults()
    admin.advance(3601)
    assert list(client.list(NL, JOURNALS))  # the client learns the server's time
    assert create_entry(client, payloads[-1]).YourRef == payloads[-1]["YourRef"]


def test_5xx_and_429_do_not_count(client: ExactClient, admin: SandboxAdmin) -> None:
    payload = entry_payload(client, "FIVE-XX")
    admin.faults(REFUSE_ENTRIES | {"status": 503})
    for _ in range(3):
        with pytest.raises(ServerError):
            create_entry(client, payload)
    assert admin.count(POST_ENTRY) == 3 * FAST_RETRY.write_attempts > PAUSE_AT
    admin.clear_faults()
    assert create_entry(client, payload).YourRef == "FIVE-XX"
    assert all(counts_towards_block(status) for status in (400, 401, 403, 404))
    assert not any(counts_towards_block(status) for status in (429, 500, 503))
