"""Pacing from the X-RateLimit headers, 429s, the daily budget, retries and their limits."""

from __future__ import annotations

import threading
import time
from uuid import UUID

import httpx
import pytest

from exact_pipeline.exact import (
    DailyLimitReached,
    ExactClient,
    ExactConfig,
    ExactValidationError,
    ForbiddenError,
    NotFoundError,
    ServerError,
)
from exact_pipeline.exact.endpoints import GL_ACCOUNTS, JOURNALS, VAT_CODES
from exact_pipeline.state.exact import open_exact
from exact_pipeline_tests.exact.conftest import (
    BE,
    FAST_RETRY,
    FORBIDDEN,
    NL,
    TOKEN_KEY,
    SandboxAdmin,
)

JOURNALS_GET = f"GET {JOURNALS.path}"


def statuses(admin: SandboxAdmin) -> list[int]:
    return [entry["status"] for entry in admin.requests()["log"]]


def test_a_burst_beyond_the_minutely_limit_waits_instead_of_hitting_429(
    client: ExactClient, admin: SandboxAdmin
) -> None:
    admin.configure(minutely_limit=4, window_seconds=1)
    admin.clear_requests()
    started = time.monotonic()
    for _ in range(10):
        assert list(client.list(NL, JOURNALS))
    elapsed = time.monotonic() - started
    assert admin.count(JOURNALS_GET) == 10
    assert 429 not in statuses(admin)
    assert elapsed >= 1.0  # 10 calls at 4 a window span at least two window boundaries
    budget = client.budget(NL)
    assert budget is not None and budget.minutely_limit == 4


def test_a_burst_of_429s_is_waited_out(client: ExactClient, admin: SandboxAdmin) -> None:
    admin.configure(window_seconds=1)
    admin.clear_requests()
    admin.faults({"kind": "burst_429", "path": JOURNALS.path, "times": 2})
    assert list(client.list(NL, JOURNALS))
    assert statuses(admin).count(429) == 2
    assert admin.count(JOURNALS_GET) == 3


def test_a_spent_daily_budget_stops_calls_with_the_reset_time(
    client: ExactClient, admin: SandboxAdmin, config: ExactConfig, state_url: str
) -> None:
    admin.configure(daily_limit=3)
    with pytest.raises(DailyLimitReached) as info:
        for _ in range(5):
            list(client.list(BE, JOURNALS))
    reset = info.value.reset_at
    assert reset.timestamp() > admin.now()
    assert info.value.division == BE
    assert reset.isoformat() in str(info.value)
    # Known spent: the next call is refused here, without spending an error at Exact.
    sent = admin.requests()["total"]
    with pytest.raises(DailyLimitReached):
        list(client.list(BE, VAT_CODES))
    assert admin.requests()["total"] == sent
    # Another division has its own budget.
    assert list(client.list(NL, JOURNALS))
    # A new process learns it from Exact's 429, once, and stops there too.
    with open_exact(config, state_url, TOKEN_KEY) as next_run:
        admin.clear_requests()
        with pytest.raises(DailyLimitReached):
            list(next_run.list(BE, JOURNALS))
        with pytest.raises(DailyLimitReached):
            list(next_run.list(BE, JOURNALS))
    assert statuses(admin) == [429]


def test_reads_are_retried_on_server_errors(client: ExactClient, admin: SandboxAdmin) -> None:
    admin.clear_requests()
    admin.faults({"kind": "error", "status": 503, "path": GL_ACCOUNTS.path, "times": 2})
    assert list(client.list(NL, GL_ACCOUNTS))
    assert admin.count(f"GET {GL_ACCOUNTS.path}") == 3


def test_reads_give_up_after_the_allowed_retries(client: ExactClient, admin: SandboxAdmin) -> None:
    admin.clear_requests()
    admin.faults({"kind": "error", "status": 500, "path": GL_ACCOUNTS.path, "times": 10})
    with pytest.raises(ServerError) as info:
        list(client.list(NL, GL_ACCOUNTS))
    assert admin.count(f"GET {GL_ACCOUNTS.path}") == 4  # FAST_RETRY.read_attempts
    assert info.value.status == 500 and info.value.division == NL


def test_reads_that_time_out_are_retried(
    connected: None, admin: SandboxAdmin, config: ExactConfig, state_url: str
) -> None:
    timeout = httpx.Timeout(0.5, connect=5.0)
    with open_exact(config, state_url, TOKEN_KEY, retry=FAST_RETRY, timeout=timeout) as client:
        list(client.list(NL, JOURNALS))  # settle the token first
        admin.clear_requests()
        admin.faults({"kind": "latency", "path": JOURNALS.path, "latency_ms": 1500, "times": 2})
        started = time.monotonic()
        assert list(client.list(NL, JOURNALS))
    assert time.monotonic() - started >= 2 * 0.5  # two attempts timed out, the third answered
    assert admin.fault_rules()[0]["fired"] == 2


def test_client_errors_are_never_retried(client: ExactClient, admin: SandboxAdmin) -> None:
    admin.clear_requests()
    with pytest.raises(NotFoundError):
        client.get(NL, JOURNALS, UUID(int=1))
    with pytest.raises(ExactValidationError) as info:
        list(client.list(NL, JOURNALS, filter="NoSuchField eq 1"))
    assert info.value.message  # Exact's own words
    with pytest.raises(ForbiddenError) as forbidden:
        list(client.list(FORBIDDEN, JOURNALS))
    assert forbidden.value.reason
    assert forbidden.value.reason in str(forbidden.value)
    assert admin.requests()["total"] == 3


def test_calls_to_one_division_never_overlap(client: ExactClient, admin: SandboxAdmin) -> None:
    admin.faults({"kind": "latency", "path": JOURNALS.path, "latency_ms": 150})
    started = time.monotonic()
    threads = [
        threading.Thread(target=lambda: [list(client.list(NL, JOURNALS)) for _ in range(2)])
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert time.monotonic() - started >= 8 * 0.15
