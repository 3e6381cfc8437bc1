"""The highest `Timestamp` read per division and sync endpoint (a rowversion, not a date)."""

from __future__ import annotations

from psycopg_pool import ConnectionPool

from exact_pipeline.settings import STATE_SCHEMA

TABLE = f"{STATE_SCHEMA}.exact_sync_cursor"


class SyncCursors:
    def __init__(self, pool: ConnectionPool) -> None:
        self._pool = pool

    def get(self, division: int, endpoint: str) -> int | None:
        with self._pool.connection() as conn:
            row = conn.execute(
                f"SELECT timestamp FROM {TABLE} WHERE division = %s AND endpoint = %s",
                (division, endpoint),
            ).fetchone()
        return row[0] if row else None

    def advance(self, division: int, endpoint: str, timestamp: int) -> None:
        """Move the cursor forward (never back: pages may be replayed after a crash)."""
        with self._pool.connection() as conn:
            conn.execute(
                f"""INSERT INTO {TABLE} (division, endpoint, timestamp) VALUES (%s, %s, %s)
                    ON CONFLICT (division, endpoint) DO UPDATE SET
                        timestamp = GREATEST({TABLE}.timestamp, EXCLUDED.timestamp),
                        updated_at = now()""",
                (division, endpoint, timestamp),
            )

    def reset(self, division: int, endpoint: str) -> None:
        """Start over (e.g. after a division move, which resets Exact's timestamps)."""
        with self._pool.connection() as conn:
            conn.execute(
                f"DELETE FROM {TABLE} WHERE division = %s AND endpoint = %s", (division, endpoint)
            )
