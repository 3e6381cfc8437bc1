"""Staying clear of Exact's error block.

Exact blocks an endpoint of a division for an hour (longer on repeat) once it has answered
more than 10 errors there within an hour: 400, 401, 403 and 404 (Exact's API documentation; 5xx
and 429 do not count). One blocked endpoint would stop every document, so every 4xx (but 429)
the client receives is recorded per division and endpoint in an `ErrorLog` (the pipeline's
is shared by every process), and calls to an endpoint that met `PAUSE_AT` refusals within the
last hour are not sent: `EndpointPaused` says until when. The margin below Exact's threshold
covers the calls of other processes that were already under way.

Times are the SERVER's clock (clock.py), as Exact's hour is.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Protocol

from exact_pipeline.exact.clock import ServerClock, utc
from exact_pipeline.exact.errors import EndpointPaused

EXACT_THRESHOLD = 10  # more than this many errors an hour block the endpoint
PAUSE_AT = 8  # refusals within the hour after which the pipeline stops calling the endpoint
WINDOW = timedelta(hours=1)
_PREFIX = re.compile(r"^/api/v1/\d+/")
_KEY = re.compile(r"\([^)]*\)")


def counts_towards_block(status: int) -> bool:
    return 400 <= status < 500 and status != 429


def endpoint_of(path: str) -> str:
    """`/api/v1/310001/salesentry/SalesEntries(guid'…')` → `salesentry/SalesEntries`: Exact
    counts per endpoint, whatever the key or query."""
    return _KEY.sub("", _PREFIX.sub("", path)).strip("/")


class ErrorLog(Protocol):
    def since(self, division: int, endpoint: str, start: datetime) -> Sequence[datetime]:
        """When the endpoint's refusals after `start` happened, oldest first."""
        ...

    def add(self, division: int, endpoint: str, status: int, at: datetime) -> None:
        """One refusal; what happened before `at` minus a day may be forgotten."""
        ...


class ErrorBlockGuard:
    def __init__(self, log: ErrorLog, clock: ServerClock, pause_at: int = PAUSE_AT) -> None:
        self._log = log
        self._clock = clock
        self._pause_at = pause_at

    def check(self, division: int, method: str, path: str) -> None:
        """Raise `EndpointPaused` when the endpoint met `pause_at` refusals this hour."""
        endpoint = endpoint_of(path)
        now = utc(self._clock.now())
        refusals = self._log.since(division, endpoint, now - WINDOW)
        if len(refusals) < self._pause_at:
            return
        # Calls resume once all but `pause_at - 1` of these refusals are an hour old.
        until = refusals[len(refusals) - self._pause_at] + WINDOW
        raise EndpointPaused(
            f"Exact refused {len(refusals)} calls to {endpoint} within the last hour; more than "
            f"{EXACT_THRESHOLD} would block it for an hour",
            until=until,
            errors=len(refusals),
            method=method,
            path=path,
            division=division,
        )

    def record(self, division: int, path: str, status: int) -> None:
        """One refusal Exact counts (see `counts_towards_block`)."""
        if counts_towards_block(status):
            self._log.add(division, endpoint_of(path), status, utc(self._clock.now()))
