"""Per-division minutely and daily limits with Exact's six headers, and the error block."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import httpx

from exact_pipeline_tests.sandbox.helpers import BE, NL, ExactClient

DAILY = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")
MINUTELY = (
    "X-RateLimit-Minutely-Limit",
    "X-RateLimit-Minutely-Remaining",
    "X-RateLimit-Minutely-Reset",
)


def _clock_ms(exact: ExactClient) -> int:
    return exact.http.get("/_sandbox/clock").json()["epoch_ms"]


def _rate_headers(reply: httpx.Response) -> set[str]:
    return {h for h in DAILY + MINUTELY if h.lower() in reply.headers}


def test_every_division_url_carries_the_six_headers(exact: ExactClient) -> None:
    now_ms = _clock_ms(exact)
    first = exact.get("vat/VATCodes")
    second = exact.get("vat/VATCodes")
    assert _rate_headers(first) == set(DAILY + MINUTELY)
    assert first.headers["X-RateLimit-Limit"] == "5000"
    assert first.headers["X-RateLimit-Minutely-Limit"] == "60"
    assert int(first.headers["X-RateLimit-Remaining"]) - 1 == int(
        second.headers["X-RateLimit-Remaining"]
    )
    assert int(first.headers["X-RateLimit-Minutely-Remaining"]) == 59
    window_reset = int(first.headers["X-RateLimit-Minutely-Reset"])
    assert window_reset % 60000 == 0 and 0 < window_reset - now_ms <= 60000
    now = datetime.fromtimestamp(now_ms / 1000, UTC)
    midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), UTC)
    assert int(first.headers["X-RateLimit-Reset"]) == int(midnight.timestamp() * 1000)
    # errors on a division URL carry them too
    assert _rate_headers(exact.get("nothing/Here")) == set(DAILY + MINUTELY)


def _align_to_window(exact: ExactClient, seconds: int) -> None:
    """Move the clock to just after a window boundary so a test cannot straddle two."""
    now = _clock_ms(exact) / 1000
    exact.advance(math.ceil(now / seconds) * seconds - now + 0.01)


def test_minutely_limit_refuses_with_only_minutely_headers(exact: ExactClient) -> None:
    exact.configure(minutely_limit=3)
    _align_to_window(exact, 60)
    for _ in range(3):
        assert exact.get("vat/VATCodes").status_code == 200
    refused = exact.get("vat/VATCodes")
    assert refused.status_code == 429
    assert _rate_headers(refused) == set(MINUTELY)
    assert refused.headers["X-RateLimit-Minutely-Remaining"] == "0"
    # other divisions have their own budget
    assert exact.get("vat/VATCodes", BE).status_code == 200
    reset_ms = int(refused.headers["X-RateLimit-Minutely-Reset"])
    exact.advance((reset_ms - _clock_ms(exact)) / 1000 + 0.01)
    assert exact.get("vat/VATCodes").status_code == 200


def test_window_length_is_configurable(exact: ExactClient) -> None:
    exact.configure(minutely_limit=2, window_seconds=5)
    _align_to_window(exact, 5)
    assert [exact.get("vat/VATCodes").status_code for _ in range(3)] == [200, 200, 429]
    reply = exact.get("vat/VATCodes")
    assert int(reply.headers["X-RateLimit-Minutely-Reset"]) % 5000 == 0
    exact.advance(5)
    assert exact.get("vat/VATCodes").status_code == 200


def test_daily_limit_refuses_until_the_next_utc_day(exact: ExactClient) -> None:
    exact.configure(daily_limit=2)
    assert [exact.get("vat/VATCodes").status_code for _ in range(3)] == [200, 200, 429]
    refused = exact.get("vat/VATCodes")
    assert _rate_headers(refused) == set(DAILY)
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    # current/Me does not count and still answers
    assert exact.http.get("/api/v1/current/Me", headers=exact.auth).status_code == 200
    exact.advance((int(refused.headers["X-RateLimit-Reset"]) - _clock_ms(exact)) / 1000 + 1)
    exact.refresh()
    assert exact.get("vat/VATCodes").status_code == 200


def test_limits_snapshot_in_the_admin_api(exact: ExactClient) -> None:
    exact.get("vat/VATCodes")
    exact.get("vat/VATCodes", BE)
    usage = exact.http.get("/_sandbox/limits").json()["usage"]
    assert usage[str(NL)]["daily_used"] == 1 and usage[str(BE)]["daily_used"] == 1
    assert usage[str(NL)]["minutely_remaining"] == 59


def test_more_than_ten_errors_block_the_endpoint_for_an_hour(exact: ExactClient) -> None:
    missing = "salesentry/SalesEntries(guid'00000000-0000-0000-0000-000000000001')"
    for _ in range(11):
        assert exact.get(missing).status_code == 404
    blocked = exact.get(missing)
    assert blocked.status_code == 429 and blocked.headers["reason"] == "TooManyErrors"
    # the endpoint is the entity set, whatever the key or method
    assert exact.get("salesentry/SalesEntries").status_code == 429
    assert exact.post("salesentry/SalesEntries", {}).status_code == 429
    assert exact.get("vat/VATCodes").status_code == 200
    assert exact.get(missing, BE).status_code == 404  # and per division
    exact.advance(3601)
    exact.refresh()
    assert exact.get(missing).status_code == 404


def test_error_block_can_be_switched_off(exact: ExactClient) -> None:
    exact.configure(error_block_enabled=False)
    statuses = {exact.get("nothing/Here").status_code for _ in range(15)}
    assert statuses == {404}
