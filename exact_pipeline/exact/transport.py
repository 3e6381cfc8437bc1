"""One HTTP call to Exact, with everything Exact's API documentation demands around it.

- One call at a time per division (a lock per division in this process; across processes that
  is the caller's to arrange), paced by the division's budget (ratelimit.py).
- 401: refresh once (auth.py) and retry once. 403/404/400 and other 4xx: raised, never retried.
  Each 4xx (but 429) counts towards Exact's 10-errors-an-hour block: it is recorded, and an
  endpoint close to the block is not called (`EndpointPaused`, errorblock.py).
- 429: the daily budget → `DailyLimitReached`; otherwise wait for the minute's reset and retry
  (a 429 was not processed, so this is safe for writes too).
- 5xx, network failures (timeouts included) and a success whose body is not JSON (a proxy's or
  login page): GETs are retried with backoff, a bounded number of times. Writes are not retried
  here: their outcome is unknown, and only the caller can look the record up (writes.py).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import httpx

from exact_pipeline.exact import odata
from exact_pipeline.exact.auth import TokenManager
from exact_pipeline.exact.clock import ServerClock, utc
from exact_pipeline.exact.errorblock import ErrorBlockGuard
from exact_pipeline.exact.errors import (
    AuthenticationError,
    DailyLimitReached,
    ExactError,
    ExactValidationError,
    ForbiddenError,
    NotFoundError,
    RateLimitError,
    ServerError,
)
from exact_pipeline.exact.ratelimit import Budget, RateLimiter
from exact_pipeline.exact.retry import RetryPolicy

DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=10.0)


class Transport:
    def __init__(
        self,
        base_url: str,
        http: httpx.Client,
        clock: ServerClock,
        tokens: TokenManager,
        limiter: RateLimiter,
        retry: RetryPolicy,
        sleep: Callable[[float], None] = time.sleep,
        guard: ErrorBlockGuard | None = None,
    ) -> None:
        self._base_url = base_url
        self._http = http
        self._clock = clock
        self._tokens = tokens
        self._limiter = limiter
        self._retry = retry
        self._sleep = sleep
        self._guard = guard
        self._locks: dict[int | None, threading.Lock] = {}
        self._locks_guard = threading.Lock()

    def request(
        self,
        method: str,
        division: int | None,
        target: str,
        *,
        params: dict[str, str] | None = None,
        payload: Any = None,
    ) -> Any:
        """`target` is a path below `/api/v1/{division}/` or an absolute `__next` URL.
        Returns the decoded JSON body (None when empty)."""
        url = self._url(division, target)
        where = {"method": method, "path": httpx.URL(url).path, "division": division}
        headers = {"Accept": "application/json"}
        content = None
        if payload is not None:
            content = odata.encode(payload)
            headers |= {"Content-Type": "application/json", "Prefer": "return=representation"}
        with self._lock_for(division):
            return self._send(method, url, params, content, headers, where)

    def _send(
        self,
        method: str,
        url: str,
        params: dict[str, str] | None,
        content: bytes | None,
        headers: dict[str, str],
        where: dict[str, Any],
    ) -> Any:
        division: int | None = where["division"]
        refreshed = False
        failures = 0
        rate_limited = 0
        while True:
            if division is not None:
                if self._guard is not None:
                    self._guard.check(division, method, where["path"])
                self._limiter.before_call(division, method=method, path=where["path"])
            token = self._tokens.access_token()
            try:
                response = self._http.request(
                    method,
                    url,
                    params=params,
                    content=content,
                    headers={**headers, "Authorization": f"Bearer {token}"},
                )
            except httpx.TransportError as exc:
                failures += 1
                if method != "GET" or failures >= self._retry.read_attempts:
                    raise ServerError(f"no response ({type(exc).__name__})", **where) from None
                self.backoff(failures)
                continue
            seen = Budget.from_headers(response.headers)
            self._clock.observe(response, seen.minutely_reset if seen else None)
            if division is not None and seen is not None:
                self._limiter.record(division, seen)
            status = response.status_code
            if division is not None and self._guard is not None:
                self._guard.record(division, where["path"], status)
            if status < 300:
                try:
                    return odata.decode(response.content)
                except ValueError:
                    pass  # not Exact's JSON (a proxy's or login page): as good as no answer
            transient = status < 300 or status >= 500
            if status == 401 and not refreshed:
                refreshed = True
                self._tokens.unauthorized(token)
                continue
            if status == 429:
                rate_limited += 1
                self._on_rate_limited(response, rate_limited, where)
                continue
            if transient and method == "GET" and failures + 1 < self._retry.read_attempts:
                failures += 1
                self.backoff(failures)
                continue
            raise error_for(response, where)

    def _on_rate_limited(self, response: httpx.Response, count: int, where: dict[str, Any]) -> None:
        division = where["division"]
        budget = self._limiter.budget(division) if division is not None else None
        if budget is not None and budget.daily_spent(self._clock.now()):
            raise DailyLimitReached(
                odata.error_message(_body(response)), reset_at=utc(budget.daily_reset), **where
            )
        if division is None or count > self._retry.rate_limited_attempts:
            raise error_for(response, where)
        self._limiter.wait_for_minute(division)

    def backoff(self, failures: int) -> None:
        """Wait before the next try, after `failures` failures in a row."""
        self._sleep(self._retry.delay(failures))

    def _url(self, division: int | None, target: str) -> str:
        if target.startswith(("http://", "https://")):
            # A `__next` link: keep its path and query, but always talk to our configured host.
            return f"{self._base_url}{httpx.URL(target).raw_path.decode()}"
        prefix = f"/api/v1/{division}" if division is not None else "/api/v1"
        return f"{self._base_url}{prefix}/{target}"

    def _lock_for(self, division: int | None) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(division, threading.Lock())


def error_for(response: httpx.Response, where: dict[str, Any]) -> ExactError:
    """Exact's error response as our error type, with Exact's own message."""
    status = response.status_code
    message = odata.error_message(_body(response))
    details = {**where, "status": status}
    if status == 401:
        return AuthenticationError(message, **details)
    if status == 403:
        return ForbiddenError(message, reason=response.headers.get("Reason"), **details)
    if status == 404:
        return NotFoundError(message, **details)
    if status == 429:
        return RateLimitError(message, **details)
    if status >= 500:
        return ServerError(message, **details)
    if status < 300:  # a success whose body is not Exact's JSON: as good as no answer
        kind = response.headers.get("Content-Type", "no content type")
        return ServerError(f"the answer was not JSON ({kind})", **details)
    return ExactValidationError(message, **details)


def _body(response: httpx.Response) -> Any:
    try:
        return odata.decode(response.content)
    except ValueError:
        return None
