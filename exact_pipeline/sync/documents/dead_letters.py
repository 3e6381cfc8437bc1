"""Documents that keep failing: counted, given up on (`dead_letter`), and put back by a person.

Every failed push of a document is written to its history (`document_attempts`, in the state
database beside the ledger) with what Exact answered. Only failures that are about the document
count towards giving up:
- Exact refused it (`REFUSED`: a 4xx, or a 500 carrying Exact's message twice: `exact.writes`);
- Exact failed on it (a 5xx after the client's retries, or an unexpected error) while another
  document of its division went through in the same push: then it is not an outage.
A spent budget, the live reserve, a paused endpoint, refused access or a dead connection stop
the division or the run before any document fails (`core.errors`), and a lost answer
(`OutcomeUnknownError`), a 429 that waiting did not cure or a 5xx while nothing went through
are written down without counting: none of them says anything about the document.

A document is given up on at its failure that makes `give_up_after_attempts` counted failures,
or that comes `give_up_after_days` or more after the first (settings.yaml). Counted are the
failures since it was last put back, of the content and mapping tables it has now: a document
changed in billing, or by the mapping tables, starts afresh (the stage puts a dead letter back
to `staged` then, `staging.evaluate`). A dead letter is never pushed by a run; `put_back`
makes it `staged` again (attempts reset, history kept), for the next push.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from psycopg import sql

from exact_pipeline.exact import ExactError, ServerError
from exact_pipeline.mapping.tables import SyncSettings
from exact_pipeline.settings import STATE_SCHEMA
from exact_pipeline.sync.core import ledger as mechanism
from exact_pipeline.sync.core.errors import REFUSED
from exact_pipeline.sync.core.ledger import Connection
from exact_pipeline.sync.documents import ledger, reasons
from exact_pipeline.sync.documents.ledger import LedgerRow

ATTEMPTS = sql.Identifier(STATE_SCHEMA, "document_attempts")

# Events of a document's history.
REFUSED_EVENT = "refused"  # Exact refused it
FAILED_EVENT = "failed"  # Exact (or the pipeline) failed on it
GAVE_UP = "gave_up"  # made a dead letter
PUT_BACK = "put_back"  # a person put it back: the count starts again

DDL = f"""
CREATE SCHEMA IF NOT EXISTS {STATE_SCHEMA};

CREATE TABLE IF NOT EXISTS {STATE_SCHEMA}.document_attempts (
    id                  bigserial PRIMARY KEY,
    billing_id          text NOT NULL,
    at                  timestamptz NOT NULL,
    event               text NOT NULL,
    counts              boolean NOT NULL DEFAULT false,
    doing               text,
    status              integer,
    answer              text,
    payload_hash        text,
    mapping_fingerprint text
);
CREATE INDEX IF NOT EXISTS document_attempts_billing_id
    ON {STATE_SCHEMA}.document_attempts (billing_id, id);
"""


def ensure_schema(conn: Connection) -> None:
    mechanism.ensure_schema(conn, "exact_pipeline.sync.dead_letters", DDL)


@dataclass(frozen=True)
class Failure:
    """One failed push of a document, as `DocumentPusher` met it."""

    row: LedgerRow  # as the failure left it
    doing: str  # what was being done, in plain words
    error: Exception

    @property
    def refused(self) -> bool:
        return isinstance(self.error, REFUSED)

    @property
    def status(self) -> int | None:
        return self.error.status if isinstance(self.error, ExactError) else None

    @property
    def answer(self) -> str:
        """What Exact answered (its own message when it gave one), or the failure."""
        if isinstance(self.error, ExactError):
            return self.error.message or str(self.error)
        return f"{type(self.error).__name__}: {self.error}"

    def counts(self, went_through: bool) -> bool:
        return the_documents_fault(self.error, went_through)


def the_documents_fault(error: Exception, went_through: bool) -> bool:
    """Whether a failed push is the document's own failure; `went_through`: another document of
    its division was pushed in the same push."""
    if isinstance(error, REFUSED):
        return True
    if isinstance(error, ExactError) and not isinstance(error, ServerError):
        return False  # a lost answer (`OutcomeUnknownError`), 429s: nothing about it
    return went_through


@dataclass(frozen=True)
class Attempt:
    """One event of a document's history."""

    billing_id: str
    at: datetime
    event: str
    counts: bool
    doing: str | None
    status: int | None
    answer: str | None

    def as_dict(self, zone: tzinfo) -> dict[str, Any]:
        """For a person: the time in `zone` (the partitions' timezone)."""
        return {
            "at": f"{self.at.astimezone(zone):%Y-%m-%d %H:%M}",
            "event": self.event,
            "counts": self.counts,
            "doing": self.doing,
            "status": self.status,
            "answer": self.answer,
        }


def settle(
    conn: Connection,
    failures: Sequence[Failure],
    pushed_divisions: Iterable[int | None],
    settings: SyncSettings,
    now: datetime,
) -> dict[str, LedgerRow]:
    """Write the push's failures to their documents' histories, and give up on each document
    whose counted failures reach the settings' bounds. `pushed_divisions`: the divisions in
    which a document went through in the push. The dead letters, by billing id."""
    through = set(pushed_divisions)
    given_up: dict[str, LedgerRow] = {}
    for failure in failures:
        row = failure.row
        counts = failure.counts(row.division in through)
        event = REFUSED_EVENT if failure.refused else FAILED_EVENT
        _add(conn, row, now, event, counts, failure.doing, failure.status, failure.answer)
        if not counts:
            continue
        count, first = _tally(conn, row)
        if count < settings.give_up_after_attempts and now - first < timedelta(
            days=settings.give_up_after_days
        ):
            continue
        reason = reasons.given_up(
            row.number,
            count,
            first.astimezone(settings.zone),
            failure.doing,
            failure.answer,
        )
        written = ledger.update(
            conn,
            row.billing_id,
            expected_version=row.version,  # another run changed it since: its news wins
            state=ledger.DEAD_LETTER,
            block_kind=None,
            retry_after=None,
            last_error=reason,
        )
        if written is not None:
            _add(conn, row, now, GAVE_UP, False, None, None, reason)
            given_up[row.billing_id] = written
    return given_up


def _tally(conn: Connection, row: LedgerRow) -> tuple[int, datetime]:
    """The document's counted failures since it was last put back, of its current content and
    mapping tables: how many, and when the first was."""
    found = conn.execute(
        sql.SQL(
            "SELECT count(*), min(at) FROM {t} WHERE billing_id = %(id)s AND counts"
            " AND payload_hash = %(hash)s AND mapping_fingerprint IS NOT DISTINCT FROM %(fp)s"
            " AND id > coalesce((SELECT max(id) FROM {t} WHERE billing_id = %(id)s"
            " AND event = %(put_back)s), 0)"
        ).format(t=ATTEMPTS),
        {
            "id": row.billing_id,
            "hash": row.payload_hash,
            "fp": row.mapping_fingerprint,
            "put_back": PUT_BACK,
        },
    ).fetchone()
    assert found is not None and found[1] is not None  # the failure just written counts
    return int(found[0]), found[1]


def _add(
    conn: Connection,
    row: LedgerRow,
    at: datetime,
    event: str,
    counts: bool,
    doing: str | None,
    status: int | None,
    answer: str | None,
) -> None:
    conn.execute(
        sql.SQL(
            "INSERT INTO {} (billing_id, at, event, counts, doing, status, answer, payload_hash,"
            " mapping_fingerprint) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
        ).format(ATTEMPTS),
        [
            row.billing_id,
            at,
            event,
            counts,
            doing,
            status,
            answer,
            row.payload_hash,
            row.mapping_fingerprint,
        ],
    )


def history(conn: Connection, billing_ids: Sequence[str]) -> dict[str, list[Attempt]]:
    """Each document's history, oldest first (every document asked for, [] without any)."""
    query = sql.SQL(
        "SELECT billing_id, at, event, counts, doing, status, answer FROM {}"
        " WHERE billing_id = ANY(%s) ORDER BY id"
    ).format(ATTEMPTS)
    found: dict[str, list[Attempt]] = {billing_id: [] for billing_id in billing_ids}
    for attempt in mechanism.fetch(conn, Attempt, query, [list(billing_ids)]):
        found[attempt.billing_id].append(attempt)
    return found


@dataclass(frozen=True)
class Selection:
    """Which dead letters to put back: all of them, or those named (billing document numbers
    or billing ids); either only of documents issued from `issued_from` to `issued_to`
    (partition days, both included) when given."""

    all: bool = False
    documents: tuple[str, ...] = ()
    issued_from: date | None = None
    issued_to: date | None = None

    def __post_init__(self) -> None:
        if self.all == bool(self.documents):
            raise ValueError("name the documents to put back, or all of them (not both)")


@dataclass(frozen=True)
class PutBack:
    rows: list[LedgerRow]  # staged again, as written
    not_found: list[str]  # named documents that are no dead letter (in the date range)


def dead_letters(conn: Connection, selection: Selection | None = None) -> list[LedgerRow]:
    """The dead letters (of `selection`, when given), in issue order."""
    conditions = [sql.SQL("state = %(state)s")]
    params: dict[str, Any] = {"state": ledger.DEAD_LETTER}
    if selection is not None:
        if selection.documents:
            conditions.append(sql.SQL("(number = ANY(%(named)s) OR billing_id = ANY(%(named)s))"))
            params["named"] = list(selection.documents)
        if selection.issued_from is not None:
            conditions.append(sql.SQL("partition_date >= %(start)s"))
            params["start"] = selection.issued_from
        if selection.issued_to is not None:
            conditions.append(sql.SQL("partition_date <= %(end)s"))
            params["end"] = selection.issued_to
    where = sql.SQL(" AND ").join(conditions)
    query = sql.SQL("SELECT {} FROM {} WHERE {} ORDER BY issued_at, billing_id").format(
        mechanism.columns(LedgerRow), ledger.DOCUMENTS, where
    )
    return mechanism.fetch(conn, LedgerRow, query, params)


def put_back(conn: Connection, selection: Selection, by: str, now: datetime) -> PutBack:
    """Stage the selected dead letters again (attempts reset, history kept, the count starts
    afresh), for the next push; `by`: who did it, for the history."""
    rows: list[LedgerRow] = []
    for row in dead_letters(conn, selection):
        written = ledger.update(
            conn,
            row.billing_id,
            expected_version=row.version,
            state=ledger.STAGED,
            attempts=0,
            block_kind=None,
            retry_after=None,
            last_error=reasons.put_back(by),
        )
        if written is not None:
            _add(conn, written, now, PUT_BACK, False, None, None, by)
            rows.append(written)
    named = {name for row in rows for name in (row.number, row.billing_id)}
    return PutBack(rows, [name for name in selection.documents if name not in named])
