"""A reserve kept of the daily budget (`keep_in_reserve`): calls within stop where only the
reserve is left, with the reset time, in that division only; a new client does not spend into
it either; after Exact's daily reset the whole usable budget is there again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from exact_pipeline.exact import DailyLimitReached, ExactClient, ExactConfig, ReserveReached
from exact_pipeline.exact.endpoints import JOURNALS
from exact_pipeline.state.exact import open_exact
from exact_pipeline_tests.exact.conftest import BE, FAST_RETRY, NL, TOKEN_KEY, SandboxAdmin

LIMIT, PERCENT, RESERVE = 60, 20, 12  # 20 % of 60 calls


def used(admin: SandboxAdmin, division: int) -> int:
    return admin.http.get("/_sandbox/limits").json()["usage"][str(division)]["daily_used"]


def call_until_reserve(client: ExactClient, division: int) -> ReserveReached:
    with client.keep_in_reserve(PERCENT, division), pytest.raises(ReserveReached) as stop:
        for _ in range(LIMIT + 1):
            list(client.list(division, JOURNALS))
    return stop.value


@pytest.fixture
def small_budget(admin: SandboxAdmin) -> None:
    admin.configure(daily_limit=LIMIT, minutely_limit=100_000)


def test_calls_within_a_reserve_stop_where_only_the_reserve_is_left(
    small_budget: None, client: ExactClient, admin: SandboxAdmin
) -> None:
    stop = call_until_reserve(client, NL)

    assert used(admin, NL) == LIMIT - RESERVE
    assert isinstance(stop, DailyLimitReached)  # everything that stops on a budget stops here
    assert stop.reserve == RESERVE and stop.division == NL
    next_midnight = datetime.fromtimestamp(admin.now(), UTC).date() + timedelta(days=1)
    assert stop.reset_at == datetime.combine(next_midnight, datetime.min.time(), UTC)
    # The reserve is for other work: outside it, and in another division, calls go on.
    with client.keep_in_reserve(PERCENT, BE):
        list(client.list(BE, JOURNALS))
    list(client.list(NL, JOURNALS))
    assert used(admin, NL) == LIMIT - RESERVE + 1
    assert client.calls_left(NL) == RESERVE - 1
    assert client.calls_left(NL, keep_percent=PERCENT) == 0


def test_a_new_client_does_not_spend_into_the_reserve_until_the_daily_reset(
    small_budget: None,
    client: ExactClient,
    admin: SandboxAdmin,
    config: ExactConfig,
    state_url: str,
) -> None:
    call_until_reserve(client, NL)

    with open_exact(config, state_url, TOKEN_KEY, retry=FAST_RETRY) as fresh:
        # It has seen no budget itself: the stored one stops it before any call.
        with fresh.keep_in_reserve(PERCENT), pytest.raises(ReserveReached):
            list(fresh.list(NL, JOURNALS))
        assert used(admin, NL) == LIMIT - RESERVE
        assert fresh.calls_left(NL, keep_percent=PERCENT) == 0

    # A sandbox day later (past Exact's reset at UTC midnight; our own clock has not moved):
    # the server's clock says the budget is whole again.
    midnight = datetime.fromtimestamp(admin.now(), UTC).date() + timedelta(days=1)
    admin.advance(
        datetime.combine(midnight, datetime.min.time(), UTC).timestamp() + 5 - admin.now()
    )
    with open_exact(config, state_url, TOKEN_KEY, retry=FAST_RETRY) as later:
        assert later.calls_left(NL, keep_percent=PERCENT) == LIMIT - RESERVE
        with later.keep_in_reserve(PERCENT):
            list(later.list(NL, JOURNALS))
    assert used(admin, NL) == 1
