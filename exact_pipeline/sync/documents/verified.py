"""What Exact was last seen to hold for each posted document (its total and VAT, and when), so
`totals_match_exact` compares without reading Exact again.

Exact's own answer fills it for free: the client POSTs with `Prefer: return=representation`,
and Exact then answers with the full entity, amounts included (reference §3, "POST 201 …
with it the full entity incl. numbers/amounts"); a lost answer's look-up returns the same
fields. A document is read back (per `READ_PER_CALL` documents a GET, or its whole day at once
when more are due: `day_read`) only when:
- nothing is known of it (posted before this table existed, or an answer without amounts);
- its day is over and it was last seen while its day was still open: one read after the day,
  which catches what a bookkeeper changed or deleted in Exact on the day of posting (the first
  run after midnight runs yesterday's partition too);
- it was last seen more than `RECHECK_AFTER` ago: a partition run again later (a backfill, a
  mapping fix) reconciles its documents against Exact once more, as a monthly reconciliation.
A change made in Exact to an older document, between those reads, shows at the next of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from uuid import UUID
from zoneinfo import ZoneInfo

from psycopg import sql

from exact_pipeline.settings import STATE_SCHEMA
from exact_pipeline.sync.core import ledger as mechanism
from exact_pipeline.sync.core.ledger import Connection
from exact_pipeline.sync.documents.ledger import LedgerRow

TABLE = sql.Identifier(STATE_SCHEMA, "exact_totals")
RECHECK_AFTER = timedelta(days=30)
# Documents read back per GET: an `or` filter of 60 GUIDs (~4,000 characters encoded, under
# Exact's 6,000; reference §2) is answered in one page (60 rows a page, §3).
READ_PER_CALL = 60

DDL = f"""
CREATE SCHEMA IF NOT EXISTS {STATE_SCHEMA};

CREATE TABLE IF NOT EXISTS {STATE_SCHEMA}.exact_totals (
    billing_id  text PRIMARY KEY,
    entry_id    uuid NOT NULL,
    total       numeric,            -- NULL (with vat): Exact no longer holds the entry
    vat         numeric,
    read_at     timestamptz NOT NULL
);
"""


@dataclass(frozen=True)
class Seen:
    """Exact's total and VAT of a document's entry as last seen (None: not held)."""

    billing_id: str
    entry_id: UUID
    total: Decimal | None
    vat: Decimal | None
    read_at: datetime


def ensure_schema(conn: Connection) -> None:
    mechanism.ensure_schema(conn, "exact_pipeline.sync.exact_totals", DDL)


def remember(
    conn: Connection,
    billing_id: str,
    entry_id: UUID,
    total: Decimal | None,
    vat: Decimal | None,
    read_at: datetime,
) -> None:
    conn.execute(
        sql.SQL(
            "INSERT INTO {} (billing_id, entry_id, total, vat, read_at) "
            "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (billing_id) DO UPDATE SET "
            "entry_id = EXCLUDED.entry_id, total = EXCLUDED.total, vat = EXCLUDED.vat, "
            "read_at = EXCLUDED.read_at"
        ).format(TABLE),
        [billing_id, entry_id, total, vat, read_at],
    )


def seen(conn: Connection, billing_ids: Sequence[str]) -> dict[str, Seen]:
    query = sql.SQL("SELECT {} FROM {} WHERE billing_id = ANY(%s)").format(
        mechanism.columns(Seen), TABLE
    )
    return {s.billing_id: s for s in mechanism.fetch(conn, Seen, query, [list(billing_ids)])}


def needs_reading(row: LedgerRow, last: Seen | None, now: datetime, zone: ZoneInfo) -> bool:
    """Whether `row`'s entry must be read from Exact (see the module docstring)."""
    if last is None or last.entry_id != row.entry_id:
        return True
    return read_again(row.partition_date, last.read_at, now, zone)


def read_again(day: date, read_at: datetime, now: datetime, zone: ZoneInfo) -> bool:
    """Whether what was read of a document of `day` at `read_at` is due for its one read after
    the day is over, or for the read after `RECHECK_AFTER` (the module docstring)."""
    day_over = datetime.combine(day + timedelta(days=1), time.min, zone)
    return read_at < day_over <= now or now - read_at > RECHECK_AFTER
