"""Webhook events from Exact, as the webhook server stored them (`exact_sync.webhook_events`).

An event only says that something changed: the payment import reads what did (incrementally,
from the sync endpoints). So an event is done once an import that started after it was stored
has read its division; `mark_done` records that by sequence number, which needs no clock
shared between the server and the runs. A re-delivery of the same event (same content, so the
same HashCode) is stored once.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from psycopg import sql

from exact_pipeline.exact.webhooks import WebhookEvent
from exact_pipeline.settings import STATE_SCHEMA
from exact_pipeline.sync.core import ledger as mechanism
from exact_pipeline.sync.core.ledger import Connection

TABLE = sql.Identifier(STATE_SCHEMA, "webhook_events")
DOCUMENTS = sql.Identifier(STATE_SCHEMA, "ledger_documents")

DDL = f"""
CREATE SCHEMA IF NOT EXISTS {STATE_SCHEMA};

CREATE TABLE IF NOT EXISTS {STATE_SCHEMA}.webhook_events (
    seq          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_key text NOT NULL UNIQUE,
    topic        text NOT NULL,
    division     integer NOT NULL,
    action       text NOT NULL,
    entity_key   text NOT NULL,
    endpoint     text,
    created_on   text,
    received_at  timestamptz NOT NULL DEFAULT now(),
    processed_at timestamptz
);
CREATE INDEX IF NOT EXISTS webhook_events_pending
    ON {STATE_SCHEMA}.webhook_events (division, seq) WHERE processed_at IS NULL;
"""


@dataclass(frozen=True)
class PendingEvent:
    seq: int
    division: int
    topic: str
    action: str
    entity_key: str


def ensure_schema(conn: Connection) -> None:
    mechanism.ensure_schema(conn, "webhook_events", DDL)


def store(conn: Connection, event: WebhookEvent) -> bool:
    """Store a verified event; False when it was stored before (a re-delivery)."""
    query = sql.SQL(
        "INSERT INTO {} (delivery_key, topic, division, action, entity_key, endpoint, "
        "created_on) VALUES (%s, %s, %s, %s, %s, %s, %s) "
        "ON CONFLICT (delivery_key) DO NOTHING RETURNING seq"
    ).format(TABLE)
    values = (event.hash_code, event.topic, event.division, event.action, event.key)
    row = conn.execute(query, (*values, event.endpoint, event.created_on)).fetchone()
    return row is not None


def pending(
    conn: Connection, topics: Sequence[str], divisions: Collection[int]
) -> list[PendingEvent]:
    """Unprocessed events of `topics` in `divisions`, oldest first, except the bookings this
    pipeline made itself (a pushed document's entry: its webhook carries no payment). Runs no
    DDL (a sensor asks every 30 s): before the server or a sync created the tables, nothing."""
    if not _exists(conn, TABLE):
        return []
    own = sql.SQL(
        "AND NOT EXISTS (SELECT 1 FROM {} d "
        "WHERE d.entry_id::text = e.entity_key AND d.division = e.division) "
    ).format(DOCUMENTS)
    query = sql.SQL(
        "SELECT seq, division, topic, action, entity_key FROM {events} e "
        "WHERE processed_at IS NULL AND topic = ANY(%s) AND division = ANY(%s) {own}ORDER BY seq"
    ).format(events=TABLE, own=own if _exists(conn, DOCUMENTS) else sql.SQL(""))
    return mechanism.fetch(conn, PendingEvent, query, [list(topics), list(divisions)])


def _exists(conn: Connection, table: sql.Identifier) -> bool:
    name = table.as_string(conn)
    row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", [name]).fetchone()
    return bool(row and row[0])


def last_seq(conn: Connection) -> int:
    """The newest event's number (0: none): an import started now covers the events up to it."""
    row = conn.execute(sql.SQL("SELECT coalesce(max(seq), 0) FROM {}").format(TABLE)).fetchone()
    return int(row[0]) if row else 0


def mark_done(conn: Connection, divisions: Collection[int], upto: int) -> int:
    """Events of `divisions` stored up to `upto`, read by an import: done. Returns how many."""
    query = sql.SQL(
        "UPDATE {} SET processed_at = now() "
        "WHERE processed_at IS NULL AND division = ANY(%s) AND seq <= %s"
    ).format(TABLE)
    return conn.execute(query, [list(divisions), upto]).rowcount
