"""The sync ledger: one row per billing document and per (division, customer), in the state
database (schema `exact_sync`, beside the client's tables).

It is what makes runs idempotent and resumable: a document's row records the last step that
reached Exact (`step`) and the ids Exact gave back, so a run that died between two calls goes on
from there instead of posting again. Reads and writes go through the shared mechanism
(`core.ledger`): every write is one autocommit statement that returns the row as written.

Concurrency: stage-time updates are optimistic (a row changed by another run since it was read
is left alone, `version`); pushing a document is claimed with a session advisory lock
(`core.ledger.claimed`), so two runs over the same window never post the same document.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from operator import attrgetter, itemgetter
from typing import Any
from uuid import UUID
from weakref import WeakKeyDictionary

from psycopg import errors, sql
from psycopg.rows import args_row

from exact_pipeline.settings import STATE_SCHEMA
from exact_pipeline.sync.core import ledger as mechanism
from exact_pipeline.sync.core.ledger import Connection
from exact_pipeline.sync.core.money import amount_text

DOCUMENTS = sql.Identifier(STATE_SCHEMA, "ledger_documents")
CUSTOMERS = sql.Identifier(STATE_SCHEMA, "ledger_customers")
HASH_ZONE = sql.Identifier(STATE_SCHEMA, "ledger_hash_zone")

# States of a document.
STAGED = "staged"  # ready to push (possibly half-way: see `step`)
BLOCKED = "blocked"  # cannot be pushed until its cause is fixed (`block_kind`, `last_error`)
FAILED = "failed"  # Exact failed or the outcome is unknown: the next run retries (looks first)
SYNCED = "synced"  # in Exact, with its PDF (and booked, in sales_invoice mode)
CHANGED_AFTER_SYNC = "changed_after_sync"  # billing changed after posting: flagged, not re-posted
VOIDED_AFTER_SYNC = "voided_after_sync"  # voided in billing after posting: flagged
SKIPPED_VOIDED = "skipped_voided"  # voided before it was ever posted: nothing to do
# Failed too often (dead_letters.py): no run retries it until a person puts it back.
DEAD_LETTER = "dead_letter"
STATES = (
    STAGED,
    BLOCKED,
    FAILED,
    SYNCED,
    CHANGED_AFTER_SYNC,
    VOIDED_AFTER_SYNC,
    SKIPPED_VOIDED,
    DEAD_LETTER,
)
FLAGGED = (CHANGED_AFTER_SYNC, VOIDED_AFTER_SYNC)

# Why a document is blocked, which decides when it is looked at again.
MAPPING = "mapping"  # the mapping tables: re-evaluated by every stage
MASTER_DATA = "master_data"  # a code Exact's division does not have: every push
CUSTOMER = "customer"  # no Exact account for its customer: every push
PERIOD = "period"  # dated in a period closed in Exact (`closed_period: block`): every push
EXACT = "exact"  # Exact refused it: after a cool-down, or at once when billing or mapping change
BILLING = "billing"  # the billing document itself must change (a PDF over Exact's size limit):
# re-evaluated by every stage, with no Exact call

# Steps that reached Exact, in order (`step` holds the last one done).
STEPS = ("none", "document", "attachment", "entry", "booked")

DDL = f"""
CREATE SCHEMA IF NOT EXISTS {STATE_SCHEMA};

CREATE TABLE IF NOT EXISTS {STATE_SCHEMA}.ledger_documents (
    billing_id          text PRIMARY KEY,
    number              text NOT NULL,
    document_type       text NOT NULL,
    entity_id           text NOT NULL,
    division            integer,
    customer_id         text NOT NULL,
    customer_name       text NOT NULL,
    issued_at           timestamptz NOT NULL,
    partition_date      date NOT NULL,
    currency            text NOT NULL,
    line_count          integer NOT NULL,
    amount              bigint NOT NULL,
    vat                 bigint NOT NULL,
    total               bigint NOT NULL,
    state               text NOT NULL,
    block_kind          text,
    payload_hash        text NOT NULL,
    synced_hash         text,
    posting_hash        text,
    void_accepted       boolean NOT NULL DEFAULT false,
    mapping_fingerprint text,
    push_mode           text,
    step                text NOT NULL DEFAULT 'none',
    in_flight           boolean NOT NULL DEFAULT false,
    exact_document_id   uuid,
    attachment_id       uuid,
    attachment_digest   text,
    entry_id            uuid,
    entry_number        integer,
    attempts            integer NOT NULL DEFAULT 0,
    last_error          text,
    retry_after         timestamptz,
    first_seen_at       timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    synced_at           timestamptz,
    version             integer NOT NULL DEFAULT 0
);
-- Columns added after the first release (a ledger made before gets them here).
ALTER TABLE {STATE_SCHEMA}.ledger_documents
    ADD COLUMN IF NOT EXISTS posting_hash text,
    ADD COLUMN IF NOT EXISTS attachment_digest text,
    ADD COLUMN IF NOT EXISTS source_digest text;
CREATE INDEX IF NOT EXISTS ledger_documents_issued_at
    ON {STATE_SCHEMA}.ledger_documents (issued_at);
CREATE INDEX IF NOT EXISTS ledger_documents_state
    ON {STATE_SCHEMA}.ledger_documents (state) WHERE state <> 'synced';

CREATE TABLE IF NOT EXISTS {STATE_SCHEMA}.ledger_customers (
    division      integer NOT NULL,
    customer_id   text NOT NULL,
    customer_name text NOT NULL,
    state         text NOT NULL,
    how           text,
    account_id    uuid,
    account_code  text,
    last_error    text,
    linked_at     timestamptz,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (division, customer_id)
);

-- The zone the ledger's content hashes write a document's moments in (hashing.py): billing's
-- session zone when the ledger first read billing, kept for every billing session since.
CREATE TABLE IF NOT EXISTS {STATE_SCHEMA}.ledger_hash_zone (
    only_row  boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    time_zone text NOT NULL
);
"""


@dataclass(frozen=True)
class LedgerRow:
    """One document as the ledger knows it. Amounts are signed cents (credit notes < 0)."""

    billing_id: str
    number: str
    document_type: str
    entity_id: str
    division: int | None
    customer_id: str
    customer_name: str
    issued_at: datetime
    partition_date: date
    currency: str
    line_count: int
    amount: int
    vat: int
    total: int
    state: str
    block_kind: str | None
    payload_hash: str
    synced_hash: str | None  # content when the entry was posted
    posting_hash: str | None  # content of the entry POST sent, until Exact's answer is recorded
    void_accepted: bool  # a person dealt with its voiding after posting
    mapping_fingerprint: str | None
    push_mode: str | None
    step: str
    in_flight: bool  # a POST was sent and its outcome not yet recorded
    exact_document_id: UUID | None
    attachment_id: UUID | None
    attachment_digest: str | None  # of the PDF bytes attached in Exact (`pdf_digest`)
    entry_id: UUID | None
    entry_number: int | None
    attempts: int
    last_error: str | None
    retry_after: datetime | None
    first_seen_at: datetime
    updated_at: datetime
    synced_at: datetime | None
    version: int
    # Billing's rows the stage last wrote it from (summaries._SOURCE_DIGEST); None once anything
    # else wrote the row: only a stage vouches that the row is what that source stages.
    source_digest: str | None = None

    def reached(self, step: str) -> bool:
        return STEPS.index(self.step) >= STEPS.index(step)

    def entry_in_doubt(self) -> bool:
        """An entry POST was sent and its answer never recorded: Exact may hold the document
        (with the content `posting_hash`), so it must be looked up before anything else."""
        return self.in_flight and self.posting_hash is not None and not self.reached("entry")

    def may_be_in_exact(self) -> bool:
        """Whether Exact holds (or may hold) the entry: decided by the steps and the in-flight
        mark, never by `synced_hash`."""
        return self.reached("entry") or self.entry_in_doubt()

    def as_dict(self) -> dict[str, Any]:
        """The row for a person: what it is, where it stands, why, and Exact's ids (as text)."""
        return {
            "billing_id": self.billing_id,
            "number": self.number,
            "type": self.document_type,
            "division": self.division,
            "customer": self.customer_name,
            "issued": self.partition_date.isoformat(),
            "total": amount_text(self.total, self.currency),
            "state": self.state,
            "blocked_by": self.block_kind,
            "reason": self.last_error,
            "step": self.step,
            "attempts": self.attempts,
            "exact_number": self.entry_number,
            "exact_id": str(self.entry_id) if self.entry_id else None,
            "updated_at": self.updated_at.isoformat(),
        }


@dataclass(frozen=True)
class CustomerLink:
    division: int
    customer_id: str
    customer_name: str
    state: str  # linked | blocked
    how: str | None  # linked_explicit | matched_vat | matched_email | matched_name | created
    account_id: UUID | None
    account_code: str | None
    last_error: str | None
    linked_at: datetime | None
    updated_at: datetime


# What the stage writes on every run (description of the document and its evaluation).
STAGE_COLUMNS = (
    "number",
    "document_type",
    "entity_id",
    "division",
    "customer_id",
    "customer_name",
    "issued_at",
    "partition_date",
    "currency",
    "line_count",
    "amount",
    "vat",
    "total",
    "state",
    "block_kind",
    "payload_hash",
    "mapping_fingerprint",
    "last_error",
)

# What a stage writes: those, and the billing rows it wrote them from.
STAGE_WRITES = (*STAGE_COLUMNS, "source_digest")

_STAGED_OF_ROW = attrgetter(*STAGE_COLUMNS)
_STAGED_OF_VALUES = itemgetter(*STAGE_COLUMNS)


def stages_nothing(row: LedgerRow, values: dict[str, Any]) -> bool:
    """Whether staging `values` (`STAGE_WRITES`) would leave `row` as it is. Without a
    `source_digest` (a document read whole, not from its summary), the row's stands: its
    other values are the ones that digest vouches for."""
    source = values.get("source_digest")
    same = _STAGED_OF_ROW(row) == _STAGED_OF_VALUES(values)
    return same and (source is None or source == row.source_digest)


def staged_sources(
    conn: Connection, start: datetime, end: datetime, fingerprint: str
) -> dict[str, str]:
    """The source digest of each row of a document issued in [start, end) that a stage wrote
    or confirmed with these mapping tables, and nothing wrote since: a document whose billing
    rows have that digest still would be written as it is, so it need not be read
    (summaries.py). A document moved here from another day has a new digest: it is read. A row
    written since (a push, a put-back) is confirmed by the next stage: one write, then none."""
    rows = conn.execute(
        sql.SQL(
            "SELECT billing_id, source_digest FROM {} WHERE issued_at >= %s AND issued_at < %s"
            " AND mapping_fingerprint = %s AND source_digest IS NOT NULL"
        ).format(DOCUMENTS),
        [start, end, fingerprint],
    )
    return dict(rows.fetchall())


def ensure_schema(conn: Connection) -> None:
    mechanism.ensure_schema(conn, "exact_pipeline.sync.ledger", DDL)


def hash_zone(conn: Connection, billing_zone: str) -> str:
    """The zone the ledger's content hashes write moments in: `billing_zone` (billing's
    session zone now) the first time, the first one ever after. A content hash writes
    `issued_at` and `due_at` with their UTC offset in the zone billing's session reads them in;
    a server given another zone, a restore or replica in another, or a PGTZ on a new host
    would otherwise change every document's hash at once: every posted one read again would
    seem changed since it was posted (flagged, or reversed and posted again)."""
    conn.execute(
        sql.SQL("INSERT INTO {} (time_zone) VALUES (%s) ON CONFLICT DO NOTHING").format(HASH_ZONE),
        [billing_zone],
    )
    # A statement of its own: it sees the row another run inserted meanwhile.
    row = conn.execute(sql.SQL("SELECT time_zone FROM {}").format(HASH_ZONE)).fetchone()
    assert row is not None
    return str(row[0])


def _select(where: sql.Composable) -> sql.Composed:
    return sql.SQL("SELECT {} FROM {} WHERE {}").format(
        mechanism.columns(LedgerRow), DOCUMENTS, where
    )


def _fetch(conn: Connection, query: sql.Composable | str, params: Any) -> list[LedgerRow]:
    """Rows of a query selecting `mechanism.columns(LedgerRow)`, in that order: built from
    their positions, at half the cost of by name (a stage reads a year's rows)."""
    with conn.cursor(row_factory=args_row(LedgerRow)) as cur:
        cur.execute(query, params)
        return cur.fetchall()


# The ids as one JSON text: psycopg writes a day's ids as an array at many times json's cost.
_DOCUMENTS = _select(sql.SQL("billing_id = ANY (ARRAY(SELECT json_array_elements_text(%s::json)))"))


def documents(conn: Connection, billing_ids: Sequence[str]) -> dict[str, LedgerRow]:
    rows = _fetch(conn, _DOCUMENTS, [json.dumps(list(billing_ids))])
    return {row.billing_id: row for row in rows}


def document(conn: Connection, billing_id: str) -> LedgerRow | None:
    return documents(conn, [billing_id]).get(billing_id)


def documents_issued(
    conn: Connection, start: datetime, end: datetime, states: Iterable[str] | None = None
) -> list[LedgerRow]:
    """Rows of documents issued in [start, end), optionally only in `states`, in issue order."""
    where = sql.SQL("issued_at >= %(start)s AND issued_at < %(end)s")
    if states is not None:
        where = sql.SQL("{} AND state = ANY(%(states)s)").format(where)
    query = sql.SQL("{} ORDER BY issued_at, billing_id").format(_select(where))
    params = {"start": start, "end": end, "states": list(states or ())}
    return _fetch(conn, query, params)


def documents_in(conn: Connection, states: Iterable[str]) -> list[LedgerRow]:
    """Every document in one of `states`, in issue order."""
    query = sql.SQL("{} ORDER BY issued_at, billing_id").format(_select(sql.SQL("state = ANY(%s)")))
    return _fetch(conn, query, [list(states)])


def days_waiting_for_a_fix(conn: Connection) -> list[date]:
    """The partition days holding documents that a changed mapping may unblock (blocked,
    failed or given up on), oldest first."""
    rows = conn.execute(
        sql.SQL("SELECT DISTINCT partition_date FROM {} WHERE state = ANY(%s) ORDER BY 1").format(
            DOCUMENTS
        ),
        ([BLOCKED, FAILED, DEAD_LETTER],),
    )
    return [day for (day,) in rows]


def staged_before(conn: Connection, day: date) -> list[tuple[int, date, int]]:
    """(division, partition day, documents) still staged on days before `day`: what runs left
    there (a spent budget, the live reserve), oldest first."""
    rows = conn.execute(
        sql.SQL(
            "SELECT division, partition_date, count(*) FROM {} WHERE state = %s"
            " AND partition_date < %s AND division IS NOT NULL GROUP BY 1, 2 ORDER BY 2, 1"
        ).format(DOCUMENTS),
        [STAGED, day],
    )
    return [(division, staged_day, count) for division, staged_day, count in rows]


def state_counts(conn: Connection, start: datetime, end: datetime) -> dict[str, int]:
    """Documents per state for those issued in [start, end); every state present, 0 or more."""
    rows = conn.execute(
        sql.SQL(
            "SELECT state, count(*) FROM {} WHERE issued_at >= %s AND issued_at < %s GROUP BY state"
        ).format(DOCUMENTS),
        [start, end],
    ).fetchall()
    return {state: 0 for state in STATES} | dict(rows)


def stage(
    conn: Connection, values: dict[str, Any], expected_version: int | None
) -> LedgerRow | None:
    """Insert a new row (`expected_version` None) or refresh an existing one, unless another
    run changed it since it was read. The row as written, or None when left alone."""
    written = stage_many(conn, [(values, expected_version)])
    return written[0] if written else None


def stage_many(
    conn: Connection, rows: Sequence[tuple[dict[str, Any], int | None]]
) -> list[LedgerRow]:
    """`stage` for many documents in one statement, each given with the version it was read
    at (None: new). The rows as written; one another run inserted or changed since it was read
    is left to that run (and not returned)."""
    if not rows:
        return []
    with _staged_rows(conn, rows):
        return _fetch(conn, _STAGE_MANY, None)


def stage_all(conn: Connection, rows: Sequence[tuple[dict[str, Any], int | None]]) -> int:
    """`stage_many` without the rows back (a stage of a year has no use for them): how many
    were written."""
    if not rows:
        return 0
    if all(read is None for _, read in rows) and _inserted(conn, rows):
        return len(rows)
    with _staged_rows(conn, rows):
        found = conn.execute(_STAGE_ALL).fetchone()
    return int(found[0]) if found else 0


def _inserted(conn: Connection, rows: Sequence[tuple[dict[str, Any], int | None]]) -> bool:
    """New rows copied straight into the ledger: a first stage's, in half the upsert's work.
    False, with nothing written, when another run inserted one of them since they were read:
    the upsert then writes the others and leaves that one to it."""
    try:
        with _unsynced(conn):
            types = _staged_types(conn)[: len(_WRITTEN_COLUMNS)]  # before the COPY holds it
            with conn.cursor().copy(_COPY_NEW) as copy:
                copy.set_types(types)
                for values, _ in rows:
                    copy.write_row(_VALUES_WRITTEN(values))
    except errors.UniqueViolation:
        return False
    return True


# A session's own table the rows to stage are copied into (COPY: a tenth of the cost of
# passing them as parameters), typed by the ledger's columns; emptied after each use.
_STAGED = sql.Identifier("ledger_documents_staged")
_WRITTEN_COLUMNS = ("billing_id", *STAGE_WRITES)  # a row's values; a staged one's version follows
_WRITTEN_NAMES = sql.SQL(", ").join(map(sql.Identifier, _WRITTEN_COLUMNS))
_VALUES_WRITTEN = itemgetter(*_WRITTEN_COLUMNS)
_STAGED_COLUMNS = (*_WRITTEN_COLUMNS, "version")
_STAGED_NAMES = sql.SQL(", ").join(map(sql.Identifier, _STAGED_COLUMNS))
_CREATE_STAGED = sql.SQL(
    "CREATE TEMP TABLE IF NOT EXISTS {} ON COMMIT DELETE ROWS AS SELECT {} FROM {} WITH NO DATA"
).format(_STAGED, _STAGED_NAMES, DOCUMENTS)
_COPY_STAGED = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(_STAGED, _STAGED_NAMES)
_COPY_NEW = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(DOCUMENTS, _WRITTEN_NAMES)
_EMPTY_STAGED = sql.SQL("DELETE FROM {}").format(_STAGED)


@contextmanager
def _unsynced(conn: Connection) -> Iterator[None]:
    """A transaction (a savepoint in the caller's) whose commit does not wait for the disk.
    Staged rows are derived from billing and the ledger: a crash that lost the last commits
    loses nothing the next stage does not write again (the push's own writes do wait)."""
    with conn.transaction():
        conn.execute("SET LOCAL synchronous_commit = off")
        yield


@contextmanager
def _staged_rows(
    conn: Connection, rows: Sequence[tuple[dict[str, Any], int | None]]
) -> Iterator[None]:
    """`rows` in the session's staging table (`version`: the version each was read at), in
    one transaction with what the block does with them."""
    with _unsynced(conn):
        conn.execute(_CREATE_STAGED)
        types = _staged_types(conn)  # before the COPY holds the connection
        with conn.cursor().copy(_COPY_STAGED) as copy:
            copy.set_types(types)
            for values, read in rows:
                copy.write_row((*_VALUES_WRITTEN(values), read))
        yield
        conn.execute(_EMPTY_STAGED)  # in an enclosing transaction


# Binary: a third of text's cost to write (no escaping), and none to parse. Its columns' types,
# per connection: the ledger's (the temporary table is made from it).
_types: WeakKeyDictionary[Connection, list[str]] = WeakKeyDictionary()


def _staged_types(conn: Connection) -> list[str]:
    """The ledger's types of `_STAGED_COLUMNS`, in their order."""
    types = _types.get(conn)
    if types is None:
        rows = conn.execute(
            "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute"
            " WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
            [DOCUMENTS.as_string()],
        )
        of = dict(rows.fetchall())
        types = _types[conn] = [of[column] for column in _STAGED_COLUMNS]
    return types


def _staging(returning: sql.Composable, select: sql.Composable) -> str:
    """The statement staging the rows of `_STAGED`, answering `select` of the rows written
    (`returning` of each: data-modifying CTEs keep what they return until the end)."""
    return (
        sql.SQL(
            "WITH refreshed AS (UPDATE {table} AS d SET {assignments}, updated_at = now(),"
            " version = d.version + 1 FROM {source} AS v"
            " WHERE d.billing_id = v.billing_id AND d.version = v.version RETURNING {returning}),"
            " inserted AS (INSERT INTO {table} AS d ({names}) SELECT {names} FROM {source} AS v"
            " WHERE v.version IS NULL ON CONFLICT (billing_id) DO NOTHING RETURNING {returning}),"
            " written AS (SELECT * FROM refreshed UNION ALL SELECT * FROM inserted)"
            " SELECT {select} FROM written"
        )
        .format(
            table=DOCUMENTS,
            source=_STAGED,
            assignments=sql.SQL(", ").join(
                sql.SQL("{0} = v.{0}").format(sql.Identifier(column)) for column in STAGE_WRITES
            ),
            names=_WRITTEN_NAMES,
            returning=returning,
            select=select,
        )
        .as_string()
    )


# Composed once: a stage of a year runs them once a day.
_STAGE_MANY = _staging(sql.SQL("d.*"), mechanism.columns(LedgerRow))
_STAGE_ALL = _staging(sql.SQL("d.billing_id"), sql.SQL("count(*)"))


def update(
    conn: Connection, billing_id: str, *, expected_version: int | None = None, **values: Any
) -> LedgerRow | None:
    """Set columns of one document's row (bumping its version). With `expected_version`, only
    if the row is still at that version. The row as written, or None when none was."""
    where = sql.SQL("billing_id = %(_id)s")
    if expected_version is not None:
        where = sql.SQL("{} AND version = %(_version)s").format(where)
    return mechanism.update(
        conn,
        DOCUMENTS,
        LedgerRow,
        where,
        {"_id": billing_id, "_version": expected_version},
        values,
        # Not what a stage wrote any more: the next one evaluates it.
        bump=("updated_at = now()", "version = version + 1", "source_digest = NULL"),
    )


# --- customers -------------------------------------------------------------------------------


def customer_links(
    conn: Connection, division: int, customer_ids: Sequence[str]
) -> dict[str, CustomerLink]:
    query = sql.SQL(
        "SELECT division, customer_id, customer_name, state, how, account_id, account_code,"
        " last_error, linked_at, updated_at FROM {} WHERE division = %s AND customer_id = ANY(%s)"
    ).format(CUSTOMERS)
    links = mechanism.fetch(conn, CustomerLink, query, [division, list(customer_ids)])
    return {link.customer_id: link for link in links}


def customers_of_account(conn: Connection, division: int, account_id: UUID) -> list[str]:
    """The billing customers linked to an Exact account of the division."""
    query = sql.SQL(
        "SELECT customer_id FROM {} WHERE division = %s AND account_id = %s AND state = 'linked'"
    ).format(CUSTOMERS)
    return [row[0] for row in conn.execute(query, [division, account_id])]


def save_customer(
    conn: Connection,
    *,
    division: int,
    customer_id: str,
    customer_name: str,
    state: str,
    how: str | None,
    account_id: UUID | None,
    account_code: str | None,
    last_error: str | None,
) -> None:
    conn.execute(
        sql.SQL(
            "INSERT INTO {} AS c (division, customer_id, customer_name, state, how, account_id,"
            " account_code, last_error, linked_at)"
            " VALUES (%(division)s, %(customer_id)s, %(customer_name)s, %(state)s, %(how)s,"
            " %(account_id)s, %(account_code)s, %(last_error)s,"
            " CASE WHEN %(account_id)s::uuid IS NULL THEN NULL ELSE now() END)"
            " ON CONFLICT (division, customer_id) DO UPDATE SET"
            " customer_name = EXCLUDED.customer_name, state = EXCLUDED.state,"
            " how = EXCLUDED.how, account_id = EXCLUDED.account_id,"
            " account_code = EXCLUDED.account_code, last_error = EXCLUDED.last_error,"
            " linked_at = CASE WHEN EXCLUDED.account_id IS NOT DISTINCT FROM c.account_id"
            " THEN c.linked_at ELSE EXCLUDED.linked_at END, updated_at = now()"
        ).format(CUSTOMERS),
        {
            "division": division,
            "customer_id": customer_id,
            "customer_name": customer_name,
            "state": state,
            "how": how,
            "account_id": account_id,
            "account_code": account_code,
            "last_error": last_error,
        },
    )
