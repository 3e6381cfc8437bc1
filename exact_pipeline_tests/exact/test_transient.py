"""A flaky afternoon at Exact: 502/503/504, a 500 without Exact's message, a page that is not
JSON, a timeout. Reads and writes are tried again within the call, with backoff, and a write is
looked up before each new POST; a 500 with Exact's message is a refusal only when it repeats."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from exact_pipeline.exact import (
    ExactClient,
    ExactConfig,
    ExactValidationError,
    RetryPolicy,
    ServerError,
)
from exact_pipeline.exact.endpoints import JOURNALS, SALES_ENTRIES
from exact_pipeline.state.exact import open_exact
from exact_pipeline_tests.exact.conftest import FAST_RETRY, NL, TOKEN_KEY, SandboxAdmin
from exact_pipeline_tests.exact.test_writes import (
    GET_ENTRY,
    POST_ENTRY,
    create_entry,
    entry_payload,
    stored_refs,
)

POST = {"path": SALES_ENTRIES.path, "method": "POST"}
# What a flaky afternoon answers: gateways (with their HTML pages or nothing), a 500 without
# Exact's message, and a "success" that is a login or proxy page instead of Exact's JSON.
FLAKY = [
    {"status": 502, "body": "html"},
    {"status": 503, "body": "empty"},
    {"status": 504, "body": "odata"},
    {"status": 500, "body": "empty"},
    {"status": 500, "body": "html"},
    {"status": 200, "body": "html"},
]
FLAKY_IDS = [f"{f['status']}-{f['body']}" for f in FLAKY]


@pytest.mark.parametrize("fault", FLAKY, ids=FLAKY_IDS)
def test_a_write_outlives_transient_failures(
    client: ExactClient, admin: SandboxAdmin, fault: dict[str, Any]
) -> None:
    ref = f"FLAKY-{fault['status']}-{fault['body']}"
    payload = entry_payload(client, ref)
    admin.clear_requests()
    failures = FAST_RETRY.write_attempts - 1  # the last try goes through
    admin.faults({"kind": "error", "times": failures, **POST, **fault})

    entry = create_entry(client, payload)

    assert entry.YourRef == ref and entry.EntryID is not None
    assert stored_refs(admin, ref) == [ref]
    # Every unclear answer was followed by a look-up before the next POST.
    assert admin.count(POST_ENTRY) == failures + 1
    assert admin.count(GET_ENTRY) == failures


@pytest.mark.parametrize("fault", FLAKY, ids=FLAKY_IDS)
def test_a_read_outlives_transient_failures(
    client: ExactClient, admin: SandboxAdmin, fault: dict[str, Any]
) -> None:
    admin.clear_requests()
    failures = FAST_RETRY.read_attempts - 1
    admin.faults({"kind": "error", "times": failures, "path": JOURNALS.path, **fault})
    assert list(client.list(NL, JOURNALS))
    assert admin.count(f"GET {JOURNALS.path}") == failures + 1


def test_a_500_with_exacts_message_once_is_tried_again(
    client: ExactClient, admin: SandboxAdmin
) -> None:
    payload = entry_payload(client, "ONCE-500")
    admin.clear_requests()
    admin.faults({"kind": "error", "status": 500, "times": 1, **POST})  # OData message
    entry = create_entry(client, payload)
    assert entry.YourRef == "ONCE-500"
    assert admin.count(POST_ENTRY) == 2 and admin.count(GET_ENTRY) == 1


def test_a_500_with_exacts_message_twice_is_a_refusal(
    client: ExactClient, admin: SandboxAdmin
) -> None:
    payload = entry_payload(client, "TWICE-500")
    admin.faults({"kind": "error", "status": 500, "times": 2, **POST})
    with pytest.raises(ExactValidationError, match="Injected fault"):
        create_entry(client, payload)
    assert stored_refs(admin, "TWICE-") == []


def test_transient_failures_beyond_the_retries_give_up_without_a_refusal(
    client: ExactClient, admin: SandboxAdmin
) -> None:
    payload = entry_payload(client, "DOWN-1")
    admin.clear_requests()
    admin.faults({"kind": "error", "status": 503, "body": "html", **POST})
    with pytest.raises(ServerError) as info:
        create_entry(client, payload)
    assert not isinstance(info.value, ExactValidationError)
    assert f"gave up after {FAST_RETRY.write_attempts} tries" in str(info.value)
    assert admin.count(POST_ENTRY) == FAST_RETRY.write_attempts


def test_a_timed_out_write_is_looked_up_after_a_pause_and_never_doubled(
    connected: None, admin: SandboxAdmin, config: ExactConfig, state_url: str
) -> None:
    """Exact still commits a POST whose caller gave up waiting. The look-up waits a backoff
    first, so a slow commit is found instead of posted a second time."""
    patient = RetryPolicy(read_attempts=4, backoff=1.0, rate_limited_attempts=6)
    timeout = httpx.Timeout(1.0, connect=1.0)
    with open_exact(config, state_url, TOKEN_KEY, retry=patient, timeout=timeout) as client:
        payload = entry_payload(client, "SLOW-1")
        admin.clear_requests()
        admin.faults({"kind": "latency", "latency_ms": 1400, "times": 1, **POST})
        entry = create_entry(client, payload)
    assert entry.YourRef == "SLOW-1"
    assert stored_refs(admin, "SLOW-") == ["SLOW-1"]
    assert admin.count(POST_ENTRY) == 1
