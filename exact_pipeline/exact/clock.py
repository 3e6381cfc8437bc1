"""Exact's clock as seen from here: a LOWER bound of the server's current time.

Token expiry (the 570 s rule) and rate-limit resets are instants on the SERVER's clock, which
need not agree with ours (the sandbox's clock is moved forward by tests, while its HTTP `Date`
header stays on wall time). Every response yields lower bounds of the server's time:

- its `Date` header (whole seconds, stamped before the answer travelled);
- `X-RateLimit-Minutely-Reset` minus the window length (the reset is the end of the current
  fixed window: 60 s at Exact);
- `current/Me`'s `ServerTime` (local time, whole seconds) with `ServerUtcOffset` (seconds).

The estimate is the highest bound seen, carried forward by our own clock (a server's clock
never runs slower than ours). Being a lower bound, it errs on the safe side everywhere: waits
for a reset last a little longer, and a token is never refreshed before Exact allows it (the
issue time of a token is pinned from ABOVE, see `auth.py`). With a server whose `Date` is its
clock, as Exact's is, the bound is within a second of the truth; otherwise it is within one
rate-limit window.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from exact_pipeline.exact import odata

EXACT_WINDOW = 60.0  # Exact's minutely limit counts fixed clock minutes
_EPOCH = datetime(1970, 1, 1)


class ServerClock:
    def __init__(self, window: float = EXACT_WINDOW) -> None:
        self.window = window
        self._offset: float | None = None  # server − ours; None: nothing seen yet
        self._lock = threading.Lock()

    def now(self) -> float:
        """A lower bound of the server's current time, epoch seconds."""
        with self._lock:
            return time.time() + (self._offset or 0.0)

    def observe(self, response: httpx.Response, minutely_reset: float | None = None) -> None:
        """Learn from a response (and its minutely reset, epoch seconds, when it had one)."""
        if (date := date_of(response)) is not None:
            self.at_least(date)
        if minutely_reset is not None:
            self.at_least(minutely_reset - self.window)

    def at_least(self, server_time: float) -> None:
        """The server's clock has reached `server_time`."""
        offset = server_time - time.time()
        with self._lock:
            if self._offset is None or offset > self._offset:
                self._offset = offset

    def calibrate(self, http: httpx.Client, base_url: str, access_token: str) -> float | None:
        """Ask `current/Me` (free: not counted in the rate limits) for the server's time;
        returns it (epoch seconds, whole seconds), or None when it cannot be read."""
        try:
            response = http.get(
                f"{base_url}/api/v1/current/Me",
                params={"$select": "ServerTime,ServerUtcOffset"},
                headers={"Accept": "application/json", "Authorization": f"Bearer {access_token}"},
            )
        except httpx.TransportError:
            return None
        if response.status_code != 200:
            return None
        record = odata.record_of(odata.decode(response.content))
        local = odata.parse_date(record.get("ServerTime"))
        offset = record.get("ServerUtcOffset")
        if not isinstance(local, datetime) or not isinstance(offset, int):
            return None
        server = (local - _EPOCH).total_seconds() - offset
        self.at_least(server)
        return server


def date_of(response: httpx.Response) -> float | None:
    """The response's `Date` header, epoch seconds."""
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
