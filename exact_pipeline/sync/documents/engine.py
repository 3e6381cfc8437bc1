"""`SyncEngine`: what Dagster (or a CLI, or a test) calls to move billing documents into Exact.

One engine per run: it holds a connection to the state database (the ledger) and uses the
run's `ExactClient` (which caches master data per run). Every method takes a `Window` of issue
times; a window of many partitions works the same as one.

    with SyncEngine(billing_url=…, state_url=…, mappings=…, exact=exact) as engine:
        engine.validate_mappings()
        engine.stage(window)            # preview: no Exact calls
        engine.sync_customers(window)   # link / match / create the window's customers
        engine.push_documents(window)   # stage (writes only what changed), then push

Each document is planned and hashed once per run: the push re-reads billing (a document may
change between two steps) and reuses what the run's stage prepared for every document that
did not (`PreparedMemo`); the second stage writes no ledger row that is unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from functools import cached_property
from typing import Any

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
from exact_pipeline.sync.core.calls import CallMeter
from exact_pipeline.sync.core.errors import STOPS_THE_DIVISION
from exact_pipeline.sync.core.ledger import claimed
from exact_pipeline.sync.core.outcomes import CUSTOMER_OUTCOMES
from exact_pipeline.sync.core.session import SyncSession
from exact_pipeline.sync.core.stops import Stops
from exact_pipeline.sync.core.window import Window
from exact_pipeline.sync.documents import ledger, mapping_check
from exact_pipeline.sync.documents.customers import LINKED, CustomerLinker
from exact_pipeline.sync.documents.customers import _still_valid as still_valid
from exact_pipeline.sync.documents.ledger import LedgerRow
from exact_pipeline.sync.documents.progress import PushProgress
from exact_pipeline.sync.documents.push import DocumentPusher
from exact_pipeline.sync.documents.reconcile import totals_differences
from exact_pipeline.sync.documents.reports import (
    CustomerReport,
    MappingValidation,
    PushReport,
    StageReport,
    document_row,
    line_rows,
)
from exact_pipeline.sync.documents.staging import Prepared, PreparedMemo, stage_values
from exact_pipeline.sync.documents.transform import DocumentPlan

__all__ = ["SyncEngine"]

# What this process's last stage prepared (a run is one process; see the module docstring).
STAGED_IN_THIS_RUN = PreparedMemo()

# Ledger state after a push → the report's outcome for a document this run did not post.
_OUTCOME_OF_STATE = {
    ledger.SYNCED: "already_synced",
    ledger.BLOCKED: "blocked",
    ledger.FAILED: "failed",
    ledger.CHANGED_AFTER_SYNC: "changed_after_sync",
    ledger.VOIDED_AFTER_SYNC: "voided_after_sync",
    ledger.SKIPPED_VOIDED: "skipped_voided",
    ledger.STAGED: "not_reached",
}


class SyncEngine(SyncSession):
    """Documents and customers: stage, link, push; and the ledger's view of them."""

    schemas = (ledger.ensure_schema,)

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
        """Read the window's documents, map them, and write their ledger rows (staged, blocked,
        synced, changed_after_sync, …). Makes no Exact call."""
        staged = self._stage(self._documents(window))
        rows = self.ledger_rows(window)
        accounts = self.exact_accounts(rows)
        lines = {
            row.number: line_rows(plan)
            for row in rows
            if row.billing_id in staged
            and isinstance(plan := staged[row.billing_id].plan, DocumentPlan)
        }
        return StageReport(
            window,
            [document_row(r, exact_account=accounts[r.billing_id]) for r in rows],
            self.ledger_counts(window),
            lines,
        )

    def _stage(self, documents: list[BillingDocument]) -> dict[str, Prepared]:
        """Stage `documents`, each planned and hashed once per run (the push reuses both, and
        what an earlier stage of the run prepared). A row whose values are already the
        ledger's is not written: staging what an earlier step of the run staged costs a read,
        no write."""
        known = ledger.documents(self._state, [d.id for d in documents])
        fingerprint = self.mappings.fingerprint()
        staged: dict[str, Prepared] = {}
        for document in documents:
            row = known.get(document.id)
            prepared = staged[document.id] = STAGED_IN_THIS_RUN.prepare(
                document, self.mappings, fingerprint
            )
            values = stage_values(prepared, row, self.mappings, fingerprint)
            if row and all(getattr(row, c) == values[c] for c in ledger.STAGE_COLUMNS):
                continue  # nothing new: the row keeps its version and its updated_at
            # A row another run changed since it was read is left to that run.
            ledger.stage(self._state, values, row.version if row else None)
        STAGED_IN_THIS_RUN.remember(fingerprint, staged)
        return staged

    # --- customers -----------------------------------------------------------------------------

    def sync_customers(self, window: Window) -> CustomerReport:
        """Link (or create) the Exact account of every customer with a document to post in the
        window. Reads each division's accounts once; a call per created account. A division
        whose daily budget is spent (or that refuses access) is left for the next run."""
        linker = CustomerLinker(self._state, self.exact, self.mappings)
        wanted: dict[tuple[int, str], Customer] = {}
        for document in self._documents(window):
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

    def push_documents(self, window: Window) -> PushReport:
        """Stage the window, then push every document that can go: staged and failed ones,
        those blocked for their customer or a missing code (re-evaluated), those Exact refused
        once their cool-down has passed. Synced documents cost nothing (no call at all).

        Stops a division cleanly when its daily budget is spent or access is refused (its
        documents stay staged; `stopped` says why and until when). One bad document never
        stops the others; a dead connection (`ReauthorizationRequired`) stops everything."""
        documents = self._stage(self._documents(window))
        divisions = {e.division for e in self.mappings.settings.entities.values()}
        meter = CallMeter(self.exact, divisions)
        linker = CustomerLinker(self._state, self.exact, self.mappings)
        pusher = DocumentPusher(self._state, self.exact, self.mappings, linker, self._now)
        report = PushReport(window, rows=[])
        stops = Stops(self.mappings.settings.zone, "document", "staged")
        outcomes: list[tuple[LedgerRow, str]] = []
        rows = self.ledger_rows(window)
        progress = self.push_progress
        progress.window(window, len(rows))
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
        pusher.numbers.flush()  # Exact's numbers of the invoices booked, 20 per GET
        for row, outcome in outcomes:
            number = pusher.numbers.latest(row).entry_number
            report.counts[outcome] += 1
            report.rows.append(document_row(row, outcome=outcome, exact_number=number))
        report.api_calls = meter.calls()
        report.stopped = stops.sentence()
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
        if pushed.state == ledger.SYNCED:
            return pushed, "pushed"
        return pushed, _OUTCOME_OF_STATE[pushed.state]

    def _pushable(self, row: LedgerRow) -> bool:
        if row.state in (ledger.STAGED, ledger.FAILED):
            return True
        if row.state != ledger.BLOCKED:
            return False
        if row.block_kind in (ledger.CUSTOMER, ledger.MASTER_DATA):
            return True
        return row.block_kind == ledger.EXACT and (
            row.retry_after is None or row.retry_after <= self._now()
        )

    # --- reading the ledger ------------------------------------------------------------------

    def ledger_rows(self, window: Window) -> list[LedgerRow]:
        """Every ledger row of documents issued in the window, in issue order."""
        return ledger.documents_issued(self._state, window.start, window.end)

    def ledger_counts(self, window: Window) -> dict[str, int]:
        return ledger.state_counts(self._state, window.start, window.end)

    def blocked(self, window: Window) -> list[LedgerRow]:
        """Documents that need a person: blocked, failed, or flagged after posting; each with
        its reason and the fix."""
        return ledger.documents_issued(
            self._state,
            window.start,
            window.end,
            states=(ledger.BLOCKED, ledger.FAILED, *ledger.FLAGGED),
        )

    def open_documents(self, window: Window) -> list[LedgerRow]:
        """Documents not (or no longer) as billing has them in Exact: staged, blocked, failed
        or flagged."""
        return ledger.documents_issued(
            self._state,
            window.start,
            window.end,
            states=(ledger.STAGED, ledger.BLOCKED, ledger.FAILED, *ledger.FLAGGED),
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

    def totals_differences(self, window: Window) -> list[dict[str, Any]]:
        """Synced documents of the window whose totals in Exact are not billing's (see
        reconcile.py); a GET per twenty documents."""
        return totals_differences(self.exact, self.ledger_rows(window))

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

    def days_waiting_for_a_fix(self) -> list[date]:
        """The partition days holding documents a changed mapping may unblock, oldest first."""
        return ledger.days_waiting_for_a_fix(self._state)

    # --- billing -------------------------------------------------------------------------------

    @contextmanager
    def _billing(self) -> Iterator[psycopg.Connection]:
        with psycopg.connect(self.billing_url) as conn:
            yield conn

    def _documents(self, window: Window) -> list[BillingDocument]:
        with self._billing() as conn:
            return read_documents(conn, window.start, window.end)
