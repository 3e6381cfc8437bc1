"""The causes already announced, in the state database (schema `exact_sync`): a cause is
posted once while it lasts, forgotten when it clears, and so posted again if it comes back.
Kept here rather than in the sensor's cursor because a bad day can block thousands of
documents, and Dagster stores the cursor with every tick."""

from __future__ import annotations

from collections.abc import Collection

from psycopg import sql

from exact_pipeline.settings import STATE_SCHEMA
from exact_pipeline.sync.core import ledger as mechanism
from exact_pipeline.sync.core.ledger import Connection

ANNOUNCED = sql.Identifier(STATE_SCHEMA, "alerts_announced")

DDL = f"""
CREATE SCHEMA IF NOT EXISTS {STATE_SCHEMA};

CREATE TABLE IF NOT EXISTS {STATE_SCHEMA}.alerts_announced (
    cause        text PRIMARY KEY,
    announced_at timestamptz NOT NULL DEFAULT now()
);
"""


def ensure_schema(conn: Connection) -> None:
    mechanism.ensure_schema(conn, "exact_pipeline.alerts", DDL)


def keep_only(conn: Connection, current: Collection[str]) -> set[str]:
    """Forget the announced causes that are not current any more (they cleared); the ones
    still announced."""
    conn.execute(
        sql.SQL("DELETE FROM {} WHERE NOT (cause = ANY(%s))").format(ANNOUNCED), [list(current)]
    )
    return {cause for (cause,) in conn.execute(sql.SQL("SELECT cause FROM {}").format(ANNOUNCED))}


def remember(conn: Connection, causes: Collection[str]) -> None:
    conn.execute(
        sql.SQL(
            "INSERT INTO {} (cause) SELECT unnest(%s::text[]) ON CONFLICT (cause) DO NOTHING"
        ).format(ANNOUNCED),
        [list(causes)],
    )
