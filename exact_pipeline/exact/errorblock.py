"""Staying clear of Exact's error block.

Exact blocks an endpoint of a division for an hour (longer on repeat) once it has answered
more than 10 errors there within an hour: 400, 401, 403 and 404 (Exact's API documentation; 5xx
and 429 do not count). One blocked endpoint would stop every document, so every 4xx (but 429)
the client receives is recorded per division and endpoint in the state database, shared by
every process, and calls to an endpoint that met `PAUSE_AT` refusals within the last hour are
not sent: `EndpointPaused` says until when. The margin below Exact's threshold covers the
calls of other processes that were already under way.

Times are the SERVER's clock (clock.py), as Exact's hour is.
"""

from __future__ import annotations

import re
from datetime import timedelta

from psycopg_pool import ConnectionPool

from exact_pipeline.exact.clock import ServerClock, utc
from exact_pipeline.exact.errors import EndpointPaused
from exact_pipeline.settings import STATE_SCHEMA

TABLE = f"{STATE_SCHEMA}.exact_error_log"
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


class ErrorBlockGuard:
    def __init__(self, pool: ConnectionPool, clock: ServerClock, pause_at: int = PAUSE_AT) -> None:
        self._pool = pool
        self._clock = clock
        self._pause_at = pause_at

    def check(self, division: int, method: str, path: str) -> None:
        """Raise `EndpointPaused` when the endpoint met `pause_at` refusals this hour."""
        endpoint = endpoint_of(path)
        now = utc(self._clock.now())
        with self._pool.connection() as conn:
            rows = conn.execute(
                f"SELECT at FROM {TABLE} WHERE division = %s AND endpoint = %s AND at > %s "
                "ORDER BY at",
                (division, endpoint, now - WINDOW),
            ).fetchall()
        if len(rows) < self._pause_at:
            return
        # Calls resume once all but `pause_at - 1` of these refusals are an hour old.
        until = rows[len(rows) - self._pause_at][0] + WINDOW
        raise EndpointPaused(
            f"Exact refused {len(rows)} calls to {endpoint} within the last hour; more than "
            f"{EXACT_THRESHOLD} would block it for an hour",
            until=until,
            errors=len(rows),
            method=method,
            path=path,
            division=division,
        )

    def record(self, division: int, path: str, status: int) -> None:
        """One refusal Exact counts (see `counts_towards_block`); forgets what is a day old."""
        if not counts_towards_block(status):
            return
        endpoint = endpoint_of(path)
        now = utc(self._clock.now())
        with self._pool.connection() as conn:
            conn.execute(
                f"INSERT INTO {TABLE} (division, endpoint, status, at) VALUES (%s, %s, %s, %s)",
                (division, endpoint, status, now),
            )
            conn.execute(
                f"DELETE FROM {TABLE} WHERE division = %s AND endpoint = %s AND at < %s",
                (division, endpoint, now - timedelta(days=1)),
            )
