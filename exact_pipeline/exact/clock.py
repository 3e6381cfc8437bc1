"""Exact's clock as seen from here.

Token expiry (the 570 s rule) and rate-limit resets are instants on the SERVER's clock, which
need not agree with ours (and the sandbox's clock is moved by tests). Every response carries an
HTTP `Date` header; the offset between it and our wall clock at receipt is the estimate. `Date`
has one-second resolution and is stamped before the response travels, so the estimate lags the
server by less than a second plus the latency: waits computed from it err on the long side,
which is the safe side for both rate limits and refreshes. Without a `Date` header the offset
stays at its last value (initially zero: our own clock).
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx


class ServerClock:
    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        """The server's current time, epoch seconds."""
        with self._lock:
            return time.time() + self._offset

    def observe(self, response: httpx.Response) -> float:
        """Learn from `response`; returns when the server produced it (else the estimate)."""
        server = _date_of(response)
        if server is None:
            return self.now()
        with self._lock:
            self._offset = server - time.time()
        return server


def _date_of(response: httpx.Response) -> float | None:
    date = response.headers.get("Date")
    if not date:
        return None
    try:
        return parsedate_to_datetime(date).timestamp()
    except (TypeError, ValueError):
        return None


def utc(epoch: float) -> datetime:
    """A server epoch (seconds) as an aware UTC datetime."""
    return datetime.fromtimestamp(epoch, UTC)
