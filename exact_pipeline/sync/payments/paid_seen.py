"""What Exact was last known to show as paid on each posted document, so `paid_amounts_agree`
compares without reading Exact again (the same idea as `totals_match_exact`,
documents/verified.py).

What Exact shows moves only by what Exact is told: the pipeline knows its own part, and reads
Exact only for the rest.
- A document just posted is unpaid in Exact: its open item is its total (the POST's answer).
- A receipt this pipeline pushed (payments ledger `pushed`, answered 201 by Exact) settles its
  amount: added to what Exact was last seen to show, without a read.
- Anything else (a payment imported from Exact, one reported or reversed there, a push that
  failed, or was blocked because Exact shows less open than expected, or that a person accepted
  as registered in Exact) is, or may be, Exact's own doing: the document's open items are read
  again (one GET per `openitems.PER_CALL` documents of a division, or per day when more of
  that day are due: `documents/day_read.py`).
- The document's day is over since it was last seen, or that is older than
  `verified.RECHECK_AFTER`: read once more, which shows a payment a bookkeeper registered or
  undid in Exact by hand (the first run after midnight runs yesterday's partition too).
Billing's side is read from billing at every comparison (it costs no API call).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from uuid import UUID
from zoneinfo import ZoneInfo

from psycopg import sql

from exact_pipeline.settings import STATE_SCHEMA
from exact_pipeline.sync.core import ledger as mechanism
from exact_pipeline.sync.core.ledger import Connection
from exact_pipeline.sync.documents import verified
from exact_pipeline.sync.documents.ledger import LedgerRow

TABLE = sql.Identifier(STATE_SCHEMA, "exact_paid")

DDL = f"""
CREATE SCHEMA IF NOT EXISTS {STATE_SCHEMA};

CREATE TABLE IF NOT EXISTS {STATE_SCHEMA}.exact_paid (
    billing_id        text PRIMARY KEY,
    entry_id          uuid NOT NULL,
    held              boolean NOT NULL, -- Exact held receivable rows for the document
    exact_paid        bigint NOT NULL,  -- minor units, in the document's direction
    exact_outstanding bigint,
    exact_number      integer,
    pushed            bigint NOT NULL,  -- our receipts' sum when read (minor units)
    foreign_crossings integer NOT NULL, -- crossings of Exact's doing when read
    read_at           timestamptz NOT NULL
);
"""


@dataclass(frozen=True)
class PaidSeen:
    """Exact's paid and outstanding amounts of a document as last read (or as posted)."""

    billing_id: str
    entry_id: UUID
    held: bool
    exact_paid: int
    exact_outstanding: int | None
    exact_number: int | None
    pushed: int
    foreign_crossings: int
    read_at: datetime

    def with_pushes(self, pushed: int) -> PaidSeen:
        """What Exact shows now that our receipts sum to `pushed` (they settle what they pay)."""
        moved = pushed - self.pushed
        outstanding = None if self.exact_outstanding is None else self.exact_outstanding - moved
        return replace(
            self, exact_paid=self.exact_paid + moved, exact_outstanding=outstanding, pushed=pushed
        )


def as_posted(row: LedgerRow, total: int) -> PaidSeen:
    """A posted document Exact was not read for yet: unpaid, its total open, seen when posted."""
    assert row.entry_id is not None and row.synced_at is not None
    return PaidSeen(
        billing_id=row.billing_id,
        entry_id=row.entry_id,
        held=True,
        exact_paid=0,
        exact_outstanding=total,
        exact_number=row.entry_number,
        pushed=0,
        foreign_crossings=0,
        read_at=row.synced_at,
    )


def ensure_schema(conn: Connection) -> None:
    mechanism.ensure_schema(conn, "exact_pipeline.sync.exact_paid", DDL)


def remember(conn: Connection, seen: PaidSeen) -> None:
    names = list(PaidSeen.__dataclass_fields__)
    updates = sql.SQL(", ").join(
        sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(name)) for name in names[1:]
    )
    conn.execute(
        sql.SQL("INSERT INTO {} ({}) VALUES ({}) ON CONFLICT (billing_id) DO UPDATE SET {}").format(
            TABLE,
            mechanism.columns(PaidSeen),
            sql.SQL(", ").join(sql.Placeholder() for _ in names),
            updates,
        ),
        [getattr(seen, name) for name in names],
    )


def seen(conn: Connection, billing_ids: Sequence[str]) -> dict[str, PaidSeen]:
    query = sql.SQL("SELECT {} FROM {} WHERE billing_id = ANY(%s)").format(
        mechanism.columns(PaidSeen), TABLE
    )
    return {s.billing_id: s for s in mechanism.fetch(conn, PaidSeen, query, [list(billing_ids)])}


def needs_reading(
    row: LedgerRow, last: PaidSeen, foreign_crossings: int, now: datetime, zone: ZoneInfo
) -> bool:
    """Whether `row`'s open items must be read from Exact (see the module docstring)."""
    if last.entry_id != row.entry_id or last.foreign_crossings != foreign_crossings:
        return True
    return verified.read_again(row.partition_date, last.read_at, now, zone)
