"""The payments ledger: one row per payment that crossed (or waits to cross) between billing and
Exact, in the state database beside the document ledger (`exact_sync.ledger_payments`).

Keys: `billing:<payment id>` for a billing payment pushed to Exact, `exact:<item id>` for a
payment read from Exact (the settled open item's ID). The ledger is what makes both directions
idempotent and what tells them apart: the bank entries we created are recorded here, so an
import never takes them back into billing, and an imported payment (source `exact_online` in
billing) is never pushed. Reads and writes go through the shared mechanism (`core.ledger`): every
write is one autocommit statement that returns the row as written.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg import sql

from exact_pipeline.settings import STATE_SCHEMA
from exact_pipeline.sync.core import ledger as mechanism
from exact_pipeline.sync.core.ledger import Connection

TABLE = sql.Identifier(STATE_SCHEMA, "ledger_payments")

PUSH = "billing_to_exact"
IMPORT = "exact_to_billing"

# States of a pushed payment.
WAITING = "waiting"  # its document is not in Exact yet: every run looks again, no call
BLOCKED = "blocked"  # cannot go as it is (reason); retried after `retry_after`, or every run
FAILED = "failed"  # Exact failed or the answer was lost: the next run looks it up first
PUSHED = "pushed"  # a bank entry in Exact carries it
ACCEPTED = "accepted_in_exact"  # a person confirmed Exact holds it already (registered there)
PENDING = (WAITING, BLOCKED, FAILED)
DONE = (PUSHED, ACCEPTED)
# States of a payment read from Exact.
IMPORTED = "imported"  # written into billing
REPORTED = "reported"  # not written: `reason` says why and what to do
REVERSED = "reversed_in_exact"  # imported, then Exact showed the item open again

DDL = f"""
CREATE SCHEMA IF NOT EXISTS {STATE_SCHEMA};

CREATE TABLE IF NOT EXISTS {STATE_SCHEMA}.ledger_payments (
    key               text PRIMARY KEY,
    direction         text NOT NULL,
    payment_id        text,
    exact_item_id     uuid,
    document_id       text,
    document_number   text,
    document_type     text,
    division          integer,
    amount            bigint,
    currency          text,
    paid_at           timestamptz,
    state             text NOT NULL,
    reason            text,
    in_flight         boolean NOT NULL DEFAULT false,
    bank_entry_id     uuid,
    bank_entry_number integer,
    our_ref           integer,
    attempts          integer NOT NULL DEFAULT 0,
    retry_after       timestamptz,
    first_seen_at     timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    done_at           timestamptz
);
CREATE INDEX IF NOT EXISTS ledger_payments_pending
    ON {STATE_SCHEMA}.ledger_payments (state) WHERE state IN ('waiting', 'blocked', 'failed');
CREATE INDEX IF NOT EXISTS ledger_payments_bank_entry
    ON {STATE_SCHEMA}.ledger_payments (bank_entry_id) WHERE bank_entry_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS ledger_payments_document
    ON {STATE_SCHEMA}.ledger_payments (document_id);

CREATE TABLE IF NOT EXISTS {STATE_SCHEMA}.payment_marks (
    name text PRIMARY KEY,
    at   timestamptz NOT NULL
);
"""
MARKS = sql.Identifier(STATE_SCHEMA, "payment_marks")
# Billing payments recorded from this moment on have been looked at by a push.
RECORDED = "push_recorded_since"


@dataclass(frozen=True)
class PaymentRow:
    key: str
    direction: str
    payment_id: str | None
    exact_item_id: UUID | None
    document_id: str | None
    document_number: str | None
    document_type: str | None
    division: int | None
    # Minor units, positive: a receipt on an invoice, a refund on a credit note. None only for
    # an Exact payment that could not be read as whole cents (its reason says so).
    amount: int | None
    currency: str | None
    paid_at: datetime | None
    state: str
    reason: str | None
    in_flight: bool  # a POST was sent and its outcome not yet recorded
    bank_entry_id: UUID | None
    bank_entry_number: int | None
    our_ref: int | None
    attempts: int
    retry_after: datetime | None
    first_seen_at: datetime
    updated_at: datetime
    done_at: datetime | None


def push_key(payment_id: str) -> str:
    return f"billing:{payment_id}"


def import_key(item_id: UUID) -> str:
    return f"exact:{item_id}"


def ensure_schema(conn: Connection) -> None:
    mechanism.ensure_schema(conn, "exact_pipeline.sync.payments", DDL)


def _fetch(conn: Connection, where: sql.Composable, params: Sequence[Any]) -> list[PaymentRow]:
    query = sql.SQL("SELECT {} FROM {} WHERE {} ORDER BY paid_at, key").format(
        mechanism.columns(PaymentRow), TABLE, where
    )
    return mechanism.fetch(conn, PaymentRow, query, params)


def rows(conn: Connection, keys: Iterable[str]) -> dict[str, PaymentRow]:
    found = _fetch(conn, sql.SQL("key = ANY(%s)"), [list(keys)])
    return {row.key: row for row in found}


def row(conn: Connection, key: str) -> PaymentRow | None:
    return rows(conn, [key]).get(key)


def pending_pushes(conn: Connection) -> list[PaymentRow]:
    """Pushes that have not reached Exact yet (waiting, blocked, failed), oldest first."""
    return _fetch(conn, sql.SQL("direction = %s AND state = ANY(%s)"), [PUSH, list(PENDING)])


def of_documents(conn: Connection, document_ids: Sequence[str]) -> list[PaymentRow]:
    return _fetch(conn, sql.SQL("document_id = ANY(%s)"), [list(document_ids)])


def own_bank_entries(conn: Connection, entry_ids: Iterable[UUID]) -> set[UUID]:
    """Those of `entry_ids` that are bank entries this pipeline created."""
    found = conn.execute(
        sql.SQL(
            "SELECT bank_entry_id FROM {} WHERE direction = %s AND bank_entry_id = ANY(%s)"
        ).format(TABLE),
        [PUSH, list(entry_ids)],
    )
    return {entry_id for (entry_id,) in found}


def save(conn: Connection, key: str, **values: Any) -> PaymentRow:
    """Insert the row (direction and state given), or overwrite those columns of the existing
    one (bumping `updated_at`); the row as written."""
    columns = ["key", *values]
    assignments = [
        sql.SQL("{} = EXCLUDED.{}").format(sql.Identifier(name), sql.Identifier(name))
        for name in values
    ]
    query = sql.SQL(
        "INSERT INTO {} AS p ({}) VALUES ({}) ON CONFLICT (key) DO UPDATE SET {} RETURNING {}"
    ).format(
        TABLE,
        sql.SQL(", ").join(map(sql.Identifier, columns)),
        sql.SQL(", ").join(sql.Placeholder(c) for c in columns),
        sql.SQL(", ").join([*assignments, sql.SQL("updated_at = now()")]),
        mechanism.columns(PaymentRow),
    )
    (saved,) = mechanism.fetch(conn, PaymentRow, query, {"key": key, **values})
    return saved


def update(conn: Connection, key: str, **values: Any) -> PaymentRow | None:
    """Set columns of an existing row (bumping `updated_at`); the row as written, or None."""
    where = sql.SQL("key = %(_key)s")
    return mechanism.update(conn, TABLE, PaymentRow, where, {"_key": key}, values)


def recorded_since(conn: Connection) -> datetime | None:
    """Up to when the pushes have looked at what billing recorded. Before the first mark: when
    the pipeline began pushing (its first push row); None before anything was pushed."""
    found = conn.execute(sql.SQL("SELECT at FROM {} WHERE name = %s").format(MARKS), [RECORDED])
    mark = found.fetchone()
    if mark is not None:
        return mark[0]  # type: ignore[no-any-return]
    first = conn.execute(
        sql.SQL("SELECT min(first_seen_at) FROM {} WHERE direction = %s").format(TABLE), [PUSH]
    ).fetchone()
    return first[0] if first else None


def move_recorded_since(conn: Connection, at: datetime) -> None:
    """Never backwards: two runs at once each move it only as far as they looked."""
    conn.execute(
        sql.SQL(
            "INSERT INTO {} AS m (name, at) VALUES (%s, %s)"
            " ON CONFLICT (name) DO UPDATE SET at = greatest(m.at, EXCLUDED.at)"
        ).format(MARKS),
        [RECORDED, at],
    )
