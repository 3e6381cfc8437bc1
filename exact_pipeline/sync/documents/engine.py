"""`SyncEngine`: what Dagster (or a CLI, or a test) calls to move billing documents into Exact.

One engine per run: it holds a connection to the state database (the ledger) and uses the
run's `ExactClient` (its master data cached across runs). Every method takes a `Window` of
issue times; a window of many partitions works the same as one.

    with SyncEngine(billing_url=…, state_url=…, mappings=…, exact=exact) as engine:
        engine.validate_mappings()
        engine.stage(window)            # preview: no Exact calls
        engine.sync_customers(window)   # link / match / create the window's customers
        engine.push_documents(window)   # stage (writes only what changed), then push

A stage reads summaries (summaries.py: hashed, no line objects, no PDF bytes kept); the push
reads the documents whole, prepares each once (hashed, planned), and stages them again (a
document may change between two steps): a row that is unchanged costs no write.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from itertools import islice
from typing import Any, TypeVar

import psycopg

from exact_pipeline.billing.models import BillingDocument, Customer
from exact_pipeline.billing.read import (
    ChangeBatch,
    ChangeCursor,
    changes_since,
    read_documents,
    read_entities,
    read_products,
    read_tax_rates,
    start_of_changes,
)
from exact_pipeline.mapping import Blocked
from exact_pipeline.sync.core.calls import CallMeter
from exact_pipeline.sync.core.errors import STOPS_THE_DIVISION
from exact_pipeline.sync.core.ledger import claimed
from exact_pipeline.sync.core.outcomes import CUSTOMER_OUTCOMES
from exact_pipeline.sync.core.session import SyncSession
from exact_pipeline.sync.core.stops import Stops
from exact_pipeline.sync.core.window import Window
from exact_pipeline.sync.documents import (
    corrections,
    dead_letters,
    ledger,
    mapping_check,
    verified,
)
from exact_pipeline.sync.documents.backlog import Backlog
from exact_pipeline.sync.documents.customers import LINKED, CustomerLinker
from exact_pipeline.sync.documents.customers import _still_valid as still_valid
from exact_pipeline.sync.documents.ledger import LedgerRow
from exact_pipeline.sync.documents.periods import preview_column
from exact_pipeline.sync.documents.progress import PushProgress
from exact_pipeline.sync.documents.push import DocumentPusher
from exact_pipeline.sync.documents.reconcile import totals_differences
from exact_pipeline.sync.documents.reports import (
    PREVIEW_DOCUMENTS,
    CustomerReport,
    MappingValidation,
    PushReport,
    StageReport,
    document_row,
    line_rows,
)
from exact_pipeline.sync.documents.staging import Prepared, prepare, stage_values
from exact_pipeline.sync.documents.summaries import (
    DocumentSummary,
    Staged,
    SummaryRow,
    fetch_summaries,
    read_sources,
    summarise,
    unsummarised,
)
from exact_pipeline.sync.documents.transform import DocumentPlan, blocking, plan_document

__all__ = ["SyncEngine"]

T = TypeVar("T")

# Ledger state after a push → the report's outcome for a document this run did not post.
_OUTCOME_OF_STATE = {
    ledger.SYNCED: "already_synced",
    ledger.BLOCKED: "blocked",
    ledger.FAILED: "failed",
    ledger.CHANGED_AFTER_SYNC: "changed_after_sync",
    ledger.VOIDED_AFTER_SYNC: "voided_after_sync",
    ledger.SKIPPED_VOIDED: "skipped_voided",
    ledger.DEAD_LETTER: "dead_letter",
    ledger.STAGED: "not_reached",
}


@dataclass(frozen=True)
class _Read:
    """A day's documents as a stage's reader leaves them: the summaries' rows (`summarise`
    makes them summaries in the staging thread), and the documents read whole."""

    rows: list[SummaryRow]
    whole: list[BillingDocument]

    def documents(self) -> list[Staged]:
        return [*summarise(self.rows), *self.whole]


def _summaries(conn: psycopg.Connection, day: Window, ids: list[str] | None = None) -> _Read:
    """Of the day's documents (those of `ids`, when given), as a stage reads them: summaries'
    rows, and whole those Postgres cannot hash in Python's form."""
    rows = fetch_summaries(conn, day.start, day.end, ids)
    whole = unsummarised(rows)
    if not whole:
        return _Read(rows, [])
    return _Read(rows, read_documents(conn, day.start, day.end, with_payments=False, ids=whole))


class SyncEngine(SyncSession):
    """Documents and customers: stage, link, push; and the ledger's view of them."""

    schemas = (
        ledger.ensure_schema,
        verified.ensure_schema,
        dead_letters.ensure_schema,
        corrections.ensure_schema,
    )
    _hash_zone: str | None = None  # `ledger.hash_zone`, once a billing session asked for it

    # --- mapping tables ------------------------------------------------------------------

    def validate_mappings(self) -> MappingValidation:
        """Every code of the tables against each mapped division's master data, and the tables
        against billing's ids. Reads master data only (a few GETs per division)."""
        with self._billing() as conn:
            entities = read_entities(conn)
            tax_rates = read_tax_rates(conn)
            products = [p.id for p in read_products(conn)]
        return mapping_check.validate(
            self.mappings,
            self.exact.master_data,
            [e.id for e in entities],
            tax_rates,
            products,
            {e.id: e.timezone for e in entities},
        )

    # --- staging (no Exact calls) ----------------------------------------------------------

    def stage(self, window: Window) -> StageReport:
        """Read the window's documents day by day, map them, and write their ledger rows
        (staged, blocked, synced, changed_after_sync, …). Makes no Exact call. The report
        counts every document and previews the first `PREVIEW_DOCUMENTS` with their lines:
        a range holds one day at a time, whatever its length.

        Documents are read as summaries (summaries.py): hashed and checked against the
        mapping tables without their lines' objects or PDFs' bytes. Only those previewed, and
        those Postgres cannot hash in Python's form, are read whole."""
        report = StageReport(window, rows=[], counts={})
        fingerprint = self.mappings.fingerprint()
        with self._snapshots() as conn:  # the preview's

            def to_stage(reader: _Reader, day: Window) -> _Read:
                """The day's documents whose rows a stage did not write from what billing
                holds now, with these mapping tables (the others would be written as they are)."""
                staged = ledger.staged_sources(reader.state, day.start, day.end, fingerprint)
                if not staged:  # none to skip (a first stage): no digests to compare
                    return _summaries(reader.billing, day)
                sources = read_sources(reader.billing, day.start, day.end)
                ids = [id_ for id_, source in sources.items() if staged.get(id_) != source]
                return _summaries(reader.billing, day, ids) if ids else _Read([], [])

            with self._writing() as write:
                for day, read in self._read_ahead(window, to_stage):
                    write(self._evaluate(read.documents())[1])
                    if room := PREVIEW_DOCUMENTS - len(report.rows):
                        write.wait()  # the preview shows the rows as written
                        self._preview_day(report, conn, day, room)
        report.counts = self.ledger_counts(window)
        report.documents = sum(report.counts.values())
        return report

    def _preview_day(
        self, report: StageReport, conn: psycopg.Connection, day: Window, room: int
    ) -> None:
        """Add the day's first `room` rows to the report's preview, with their plans."""
        rows = self.ledger_rows(day)[:room]
        ids = [row.billing_id for row in rows]
        with conn.transaction():
            read = read_documents(conn, day.start, day.end, with_payments=False, ids=ids)
        self._preview(report, rows, {d.id: plan_document(d, self.mappings) for d in read})

    def _preview(
        self, report: StageReport, rows: list[LedgerRow], plans: dict[str, DocumentPlan | Blocked]
    ) -> None:
        accounts = self.exact_accounts(rows)
        policy = self.mappings.settings.closed_period
        report.rows += [
            document_row(
                r,
                exact_account=accounts[r.billing_id],
                **preview_column(r, plans.get(r.billing_id), self.exact, policy),
            )
            for r in rows
        ]
        report.lines |= {
            row.number: line_rows(plan)
            for row in rows
            if isinstance(plan := plans.get(row.billing_id), DocumentPlan)
        }

    def _stage(self, documents: Sequence[Staged]) -> dict[str, Prepared]:
        """Stage `documents`; those read whole are prepared (hashed, and planned when asked)
        for the push, and returned. A row whose values are already the ledger's is not
        written: staging what an earlier step of the run staged costs a read, no write."""
        prepared, changed = self._evaluate(documents)
        ledger.stage_all(self._state, changed)
        return prepared

    def _evaluate(
        self, documents: Sequence[Staged]
    ) -> tuple[dict[str, Prepared], list[tuple[dict[str, Any], int | None]]]:
        """`_stage` without the write: the documents read whole, prepared, and the rows to
        write (`ledger.stage_all`), each with the version it was read at."""
        known = ledger.documents(self._state, [d.id for d in documents])
        fingerprint = self.mappings.fingerprint()
        prepared: dict[str, Prepared] = {}
        changed: list[tuple[dict[str, Any], int | None]] = []
        for document in documents:
            row = known.get(document.id)
            source = None
            if isinstance(document, DocumentSummary):
                digest, blocked = document.content_hash, blocking(document, self.mappings)
                source = document.source_digest
            else:
                whole = prepared[document.id] = prepare(document, self.mappings)
                digest, blocked = whole.hashes.content, whole.blocked
            values = stage_values(
                document, digest, blocked, row, self.mappings, fingerprint, source
            )
            if row and ledger.stages_nothing(row, values):
                continue  # nothing new: the row keeps its version and its updated_at
            changed.append((values, row.version if row else None))
        return prepared, changed

    # --- customers -----------------------------------------------------------------------------

    def sync_customers(self, window: Window, division: int | None = None) -> CustomerReport:
        """Link (or create) the Exact account of every customer with a document to post in the
        window (in `division` only, when given). Reads each division's accounts once; a call
        per created account. A division whose daily budget is spent (or that refuses access)
        is left for the next run."""
        linker = CustomerLinker(self._state, self.exact, self.mappings)
        wanted: dict[tuple[int, str], Customer] = {}
        for _, documents in self._documents_by_day(window, division):
            for document in documents:
                entity = self.mappings.settings.entities.get(document.entity.id)
                if entity is not None and document.status != "voided":
                    wanted.setdefault((entity.division, document.customer.id), document.customer)
        report = CustomerReport(window, rows=[], counts=dict.fromkeys(CUSTOMER_OUTCOMES, 0))
        stops = Stops(self.mappings.settings.zone, "customer", "unlinked")
        for (division, _), customer in wanted.items():
            if stops.skip(division):
                continue
            try:
                outcome = linker.link(division, customer)
            except STOPS_THE_DIVISION as stop:
                stops.stop(division, stop)
                continue
            report.counts[outcome.outcome] += 1
            report.rows.append(
                {
                    "customer_id": outcome.customer_id,
                    "customer": outcome.customer_name,
                    "division": outcome.division,
                    "outcome": outcome.outcome,
                    "account_code": outcome.account_code,
                    "reason": outcome.reason,
                }
            )
        report.stopped = stops.sentence()
        return report

    # --- pushing -----------------------------------------------------------------------------

    def push_documents(self, window: Window, division: int | None = None) -> PushReport:
        """Stage the window, then push every document that can go: staged and failed ones,
        those blocked for their customer or a missing code (re-evaluated), those Exact refused
        once their cool-down has passed. Synced documents cost nothing (no call at all).

        Stops a division cleanly when its daily budget is spent or access is refused (its
        documents stay staged; `stopped` says why and until when). One bad document never
        stops the others; a dead connection (`ReauthorizationRequired`) stops everything. One
        that keeps failing is given up on (`dead_letter`, dead_letters.py): never pushed again
        until a person puts it back.

        `division`: only that division's documents (one writer per division, each on its own
        engine, work side by side); the documents of no division (their entity unmapped) are
        then in none: `unmapped_documents` reports them.

        Day by day (staged, then pushed): a range holds one day's documents at a time."""
        entities = self.mappings.settings.entities.values()
        divisions = {division} if division is not None else {e.division for e in entities}
        meter = CallMeter(self.exact, divisions)
        linker = CustomerLinker(self._state, self.exact, self.mappings)
        pusher = DocumentPusher(self._state, self.exact, self.mappings, linker, self._now)
        report = PushReport(window, rows=[])
        stops = Stops(self.mappings.settings.zone, "document", "staged")
        outcomes: list[tuple[LedgerRow, str]] = []
        progress = self.push_progress
        for day, read in self._documents_by_day(window, division):
            documents = self._stage(read)
            rows = self.ledger_rows(day, division)
            progress.window(day, len(rows))
            for row in rows:
                if not (self._pushable(row) and row.billing_id in documents):
                    outcome = _OUTCOME_OF_STATE[row.state]
                    pusher.numbers.add(row)  # booked by an earlier run whose read-back failed
                elif stops.skip(row.division):
                    outcome = "not_reached"
                else:
                    with claimed(self._state, row.billing_id) as mine:
                        row, outcome = self._push_claimed(
                            pusher, documents[row.billing_id], row, mine, stops
                        )
                outcomes.append((row, outcome))
                progress.done(outcome)
        # Exact's numbers of the invoices booked, in full GETs only: the rest waits for more
        # (across runs) or for the read-back after their day (reconcile.py).
        pusher.numbers.flush(full_only=True)
        outcomes = self._give_up(pusher, outcomes)
        for row, outcome in outcomes:
            number = pusher.numbers.latest(row).entry_number
            report.counts[outcome] += 1
            note = pusher.correction_note(row.billing_id)  # credit_and_repost: what was done
            report.rows.append(document_row(row, outcome=outcome, exact_number=number, **note))
        report.api_calls = meter.calls()
        report.stopped = stops.sentence()
        return report

    def unmapped_documents(self, window: Window) -> PushReport:
        """The window's documents whose entity the mapping tables send to no division, staged
        (blocked: no call) and reported as a push reports them: the rest of a push made
        division by division."""
        with self._billing() as conn:
            unmapped = {e.id for e in read_entities(conn)} - self.mappings.settings.entities.keys()
        if unmapped:  # the window's documents are read again only when some entity goes nowhere
            for _, documents in self._documents_by_day(window):
                self._stage([d for d in documents if d.entity.id in unmapped])
        report = PushReport(window, rows=[])
        for row in self.ledger_rows(window):
            if row.division is None:
                outcome = _OUTCOME_OF_STATE[row.state]
                report.counts[outcome] += 1
                report.rows.append(document_row(row, outcome=outcome, exact_number=None))
        return report

    @cached_property
    def push_progress(self) -> PushProgress:
        """Over all of this engine's pushes: one run, however many windows it pushes."""
        return PushProgress()

    def _push_claimed(
        self,
        pusher: DocumentPusher,
        document: Prepared,
        row: LedgerRow,
        mine: bool,
        stops: Stops,
    ) -> tuple[LedgerRow, str]:
        if not mine:
            return row, "in_progress"
        fresh = ledger.document(self._state, row.billing_id)
        assert fresh is not None
        if not self._pushable(fresh):  # another run finished it meanwhile
            return fresh, _OUTCOME_OF_STATE[fresh.state]
        try:
            pushed = pusher.push(document, fresh)
        except STOPS_THE_DIVISION as stop:
            stops.stop(fresh.division or 0, stop)
            return fresh, "not_reached"
        corrected = pusher.corrected.get(pushed.billing_id, {}).get("outcome")
        if corrected and pushed.state in (ledger.SYNCED, ledger.SKIPPED_VOIDED):
            return pushed, corrected  # reversed (and reposted), or its PDF alone replaced
        if pushed.state == ledger.SYNCED:
            return pushed, "pushed"
        return pushed, _OUTCOME_OF_STATE[pushed.state]

    def _give_up(
        self, pusher: DocumentPusher, outcomes: list[tuple[LedgerRow, str]]
    ) -> list[tuple[LedgerRow, str]]:
        """The push's failures into their documents' histories; those that failed too often
        become dead letters (dead_letters.py), and report so."""
        pushed = {row.division for row, outcome in outcomes if outcome == "pushed"}
        settings = self.mappings.settings
        given_up = dead_letters.settle(self._state, pusher.failures, pushed, settings, self._now())
        return [
            (given_up[row.billing_id], "dead_letter") if row.billing_id in given_up else (row, o)
            for row, o in outcomes
        ]

    def _pushable(self, row: LedgerRow) -> bool:
        if row.state in (ledger.STAGED, ledger.FAILED):
            return True
        if row.state != ledger.BLOCKED:
            return False
        if row.block_kind in (ledger.CUSTOMER, ledger.MASTER_DATA, ledger.PERIOD):
            return True
        return row.block_kind == ledger.EXACT and (
            row.retry_after is None or row.retry_after <= self._now()
        )

    # --- reading the ledger ------------------------------------------------------------------

    def ledger_rows(self, window: Window, division: int | None = None) -> list[LedgerRow]:
        """Every ledger row of documents issued in the window (of `division`, when given), in
        issue order."""
        rows = ledger.documents_issued(self._state, window.start, window.end)
        return rows if division is None else [row for row in rows if row.division == division]

    def ledger_counts(self, window: Window) -> dict[str, int]:
        return ledger.state_counts(self._state, window.start, window.end)

    def blocked(self, window: Window) -> list[LedgerRow]:
        """Documents that need a person: blocked, failed, given up on (dead letters), or flagged
        after posting; each with its reason and the fix."""
        return ledger.documents_issued(
            self._state,
            window.start,
            window.end,
            states=(ledger.BLOCKED, ledger.FAILED, ledger.DEAD_LETTER, *ledger.FLAGGED),
        )

    def histories(self, rows: list[LedgerRow]) -> dict[str, list[dead_letters.Attempt]]:
        """The failures and retries of each dead letter among `rows`, oldest first."""
        ids = [row.billing_id for row in rows if row.state == ledger.DEAD_LETTER]
        return dead_letters.history(self._state, ids)

    def put_back(self, selection: dead_letters.Selection, by: str) -> dead_letters.PutBack:
        """Stage the selected dead letters again for the next push (dead_letters.py)."""
        return dead_letters.put_back(self._state, selection, by, self._now())

    def open_documents(self, window: Window) -> list[LedgerRow]:
        """Documents not (or no longer) as billing has them in Exact: staged, blocked, failed
        or flagged."""
        return ledger.documents_issued(
            self._state,
            window.start,
            window.end,
            states=(
                ledger.STAGED,
                ledger.BLOCKED,
                ledger.FAILED,
                ledger.DEAD_LETTER,
                *ledger.FLAGGED,
            ),
        )

    def exact_accounts(self, rows: list[LedgerRow]) -> dict[str, str]:
        """Per document (billing id): the Exact account its customer's entry goes to, as far as
        known before the push (linked earlier, in customer_links.csv, or found on the push)."""
        customers: dict[int, set[str]] = {}
        for row in rows:
            if row.division is not None:
                customers.setdefault(row.division, set()).add(row.customer_id)
        links = {
            (division, customer_id): link
            for division, ids in customers.items()
            for customer_id, link in ledger.customer_links(self._state, division, list(ids)).items()
        }
        creates = self.mappings.settings.customer_sync == "billing_to_exact"
        found = "matched or created on push" if creates else "matched on push"
        accounts = {}
        for row in rows:
            link = links.get((row.division or 0, row.customer_id))
            explicit = self.mappings.exact_account_code_for(row.customer_id)
            if link and link.state == LINKED and link.account_code and still_valid(link, explicit):
                accounts[row.billing_id] = link.account_code
            elif explicit:
                accounts[row.billing_id] = f"{explicit} (customer_links.csv)"
            else:
                accounts[row.billing_id] = found
        return accounts

    def totals_differences(
        self, window: Window, division: int | None = None
    ) -> list[dict[str, Any]]:
        """Synced documents of the window (of `division`, when given) whose totals in Exact are
        not billing's (see reconcile.py); reads Exact only for documents not seen there since
        their day ended."""
        rows = self.ledger_rows(window, division)
        zone = self.mappings.settings.zone
        return totals_differences(self.exact, self._state, rows, self._now, zone)

    def accept_change(self, billing_id: str) -> LedgerRow:
        """A person has dealt with a flagged document (credit note posted, Exact corrected):
        its current billing content counts as the posted one, and the flag is cleared."""
        row = ledger.document(self._state, billing_id)
        if row is None or row.state not in ledger.FLAGGED:
            raise ValueError(f"{billing_id} is not flagged (changed or voided after posting)")
        accepted = ledger.update(
            self._state,
            billing_id,
            synced_hash=row.payload_hash,
            void_accepted=row.void_accepted or row.state == ledger.VOIDED_AFTER_SYNC,
            state=ledger.SYNCED if row.synced_at else ledger.STAGED,
            last_error=None,
        )
        assert accepted is not None
        return accepted

    # --- what automation asks (no Exact call) -----------------------------------------------

    def start_of_billing_changes(self) -> ChangeCursor:
        """A cursor at the head of billing's changes: what is there now counts as read."""
        with self._billing() as conn:
            return start_of_changes(conn)

    def billing_changes(self, cursor: str | None) -> ChangeBatch:
        """Finalized documents changed after `cursor` (all of them for None), with the cursor
        to read on from."""
        with self._billing() as conn:
            return changes_since(conn, cursor)

    def backlog(self, today: date) -> Backlog:
        """The documents runs left staged on days before `today`, per division and day."""
        return Backlog(ledger.staged_before(self._state, today))

    def days_waiting_for_a_fix(self) -> list[date]:
        """The partition days holding documents a changed mapping may unblock, oldest first."""
        return ledger.days_waiting_for_a_fix(self._state)

    # --- billing -------------------------------------------------------------------------------

    @contextmanager
    def _billing(self) -> Iterator[psycopg.Connection]:
        with psycopg.connect(self.billing_url) as conn:
            yield conn

    def _documents_by_day(
        self, window: Window, division: int | None = None
    ) -> Iterator[tuple[Window, list[BillingDocument]]]:
        """The window's documents (of `division`, when given) a day at a time: a range holds
        one day in memory, whatever its length. No payments: the documents' sync posts none
        (the payments' has its own reader)."""
        entities = self.mappings.settings.entities
        for day, conn in self._billing_days(window):
            with conn.transaction():  # one snapshot (see _billing_days)
                documents = read_documents(conn, day.start, day.end, with_payments=False)
            if division is not None:
                documents = [
                    d
                    for d in documents
                    if (entity := entities.get(d.entity.id)) is not None
                    and entity.division == division
                ]
            yield day, documents

    @contextmanager
    def _writing(self) -> Iterator[_Writer]:
        """A stage's ledger writes, on their own thread and connection (`_Writer`)."""
        with (
            psycopg.connect(self.state_url, autocommit=True) as conn,
            ThreadPoolExecutor(max_workers=1) as thread,
        ):
            writer = _Writer(conn, thread)
            yield writer
            writer.wait()

    @contextmanager
    def _snapshots(self) -> Iterator[psycopg.Connection]:
        """A billing connection whose transactions are REPEATABLE READ: the reads of one
        document (its row, lines, PDF) in one see one snapshot, so a document changed meanwhile
        is read as it was or as it is, never half of each. Between them it holds none (a push
        may take hours between two days)."""
        with psycopg.connect(self.billing_url, autocommit=True) as conn:
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            # Documents are hashed in the ledger's zone, whatever billing's session zone is now.
            if self._hash_zone is None:  # the zone it reads timestamptz in (Postgres reports it)
                zone = conn.info.parameter_status("TimeZone")
                self._hash_zone = ledger.hash_zone(self._state, zone or "UTC")
            conn.execute("SELECT set_config('TimeZone', %s, false)", [self._hash_zone])
            yield conn

    def _billing_days(self, window: Window) -> Iterator[tuple[Window, psycopg.Connection]]:
        """The window's days on one billing connection (`_snapshots`)."""
        with self._snapshots() as conn:
            for day in window.days(self.mappings.settings.zone):
                yield day, conn

    def _read_ahead(
        self, window: Window, read: Callable[[_Reader, Window], T]
    ) -> Iterator[tuple[Window, T]]:
        """`read` of each day, in order, by `READERS` threads reading the next days while the
        caller works on this one: Postgres reads and Python stages side by side. Each thread
        has its own connections; a day's billing reads are one snapshot (`_snapshots`)."""
        local, opened, opening = threading.local(), ExitStack(), threading.Lock()

        def in_thread(day: Window) -> T:
            reader: _Reader | None = getattr(local, "reader", None)
            if reader is None:
                with opening:
                    billing = opened.enter_context(self._snapshots())
                    state = opened.enter_context(psycopg.connect(self.state_url, autocommit=True))
                reader = local.reader = _Reader(billing, state)
            with reader.billing.transaction():
                return read(reader, day)

        days = iter(window.days(self.mappings.settings.zone))
        with opened, ThreadPoolExecutor(max_workers=READERS) as pool:  # closed once all ended
            ahead = deque((day, pool.submit(in_thread, day)) for day in islice(days, READERS))
            while ahead:
                day, reading = ahead.popleft()
                if (following := next(days, None)) is not None:
                    ahead.append((following, pool.submit(in_thread, following)))
                yield day, reading.result()


@dataclass(frozen=True)
class _Reader:
    """A reading thread's connections: billing (in a snapshot per day) and the state's."""

    billing: psycopg.Connection
    state: psycopg.Connection


class _Writer:
    """Writes a day's staged rows (`ledger.stage_all`: one statement for them all; a row another
    run changed since it was read is left to that run) while the next day is evaluated: in
    order, one day at a time, its error raised by the next call."""

    def __init__(self, conn: psycopg.Connection, thread: ThreadPoolExecutor) -> None:
        self._conn, self._thread = conn, thread
        self._writing: Future[int] | None = None

    def __call__(self, rows: list[tuple[dict[str, Any], int | None]]) -> None:
        self.wait()
        self._writing = self._thread.submit(ledger.stage_all, self._conn, rows)

    def wait(self) -> None:
        """Until the last day given is written."""
        if self._writing is not None:
            writing, self._writing = self._writing, None
            writing.result()


# Days read ahead, each by its own thread: a day's reads wait on Postgres half the time, so two
# keep the staging thread busy on 2 cores (`make bench`).
READERS = 2
