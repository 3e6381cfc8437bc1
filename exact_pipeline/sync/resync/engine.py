"""`Resync`: for a range of days and a scope (documents, customers, payments), find what billing
has and Exact lacks, push it again through the engines' normal path, and list what differs.

    with Resync(billing_url=…, state_url=…, mappings=…, exact=exact) as resync:
        report = resync.run(first, last, scopes=("documents",), dry_run=False)

Documents: Exact's side is the monthly reconciliation's reading (`Reconciler`: two bulk reads
per division, 1,000 rows a call, whatever the range), so one piece serves both. A document the
ledger says reached Exact and whose entry the reading does not find (deleted by a bookkeeper:
`missing in Exact`) is reset to an entry *in doubt*: the push looks it up by its number on both
entry endpoints before posting (push.py `_settle_entry`, core/writes.py), so even an entry the
reading missed is never posted twice. Its Exact Document (the PDF) is kept: deleting an entry
in Exact leaves it. The range is then pushed as runs of its days push it: the reset documents,
those that never arrived (staged, failed, never staged), nothing else (synced ones cost no
call).

Customers: the linked accounts of the range's customers are asked of Exact by ID (a GET per 60
accounts); a link whose account is gone is dropped, the master-data cache forgets the deleted
accounts (`sync/Deleted` from its own watermark), and the customer is matched or created again.

Payments (`payment_sync: billing_to_exact`): the bank entries of the range's pushed payments are
asked of Exact by ID (a GET per 60); a payment whose receipt is gone is marked in doubt
(`in_flight`): the push looks its receipt up by reference before posting it again.

A division whose budget (or access) stops a reading is left as it is and said so (the job stays
green). Only what a reading found missing is reset; a dry run resets and pushes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager, nullcontext
from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar
from uuid import UUID

from psycopg import sql

from exact_pipeline.exact import ExactClient
from exact_pipeline.exact.endpoints import ACCOUNTS, BANK_ENTRIES
from exact_pipeline.mapping import Mappings
from exact_pipeline.sync.core import ledger as mechanism
from exact_pipeline.sync.core.calls import CallMeter
from exact_pipeline.sync.core.errors import STOPS_THE_DIVISION
from exact_pipeline.sync.core.ledger import claimed
from exact_pipeline.sync.core.session import SyncSession, utc_now
from exact_pipeline.sync.core.stops import not_read_back
from exact_pipeline.sync.core.window import Window
from exact_pipeline.sync.documents import ledger
from exact_pipeline.sync.documents.customers import LINKED
from exact_pipeline.sync.documents.engine import SyncEngine
from exact_pipeline.sync.documents.ledger import LedgerRow
from exact_pipeline.sync.payments import ledger as payment_ledger
from exact_pipeline.sync.payments.engine import PaymentSync
from exact_pipeline.sync.payments.ledger import PaymentRow
from exact_pipeline.sync.payments.push import CLAIM_PREFIX
from exact_pipeline.sync.reconciliation.compare import MISSING, NOT_IN_EXACT
from exact_pipeline.sync.reconciliation.engine import Reconciler
from exact_pipeline.sync.resync.report import (
    LISTED,
    NOT_PUSHED,
    PUSHED,
    RE_PUSHED,
    WOULD_PUSH,
    WOULD_RE_PUSH,
    ResyncReport,
)

__all__ = ["SCOPES", "Resync"]

SCOPES = ("customers", "documents", "payments")  # in the order they are resynced
Hold = Callable[[int], AbstractContextManager[object]]
S = TypeVar("S", bound=SyncSession)
PER_CALL = 60  # ids per GET when asking Exact whether records still exist (URL length)
CHANGED = "changed in billing after sync"
ACCOUNT_GONE = "linked account gone in Exact"
RECEIPT_GONE = "receipt gone from Exact"
# Ledger states of a document Exact held: what a reading may find missing and reset.
POSTED = (ledger.SYNCED, ledger.CHANGED_AFTER_SYNC)


def _no_hold(_division: int) -> AbstractContextManager[object]:
    return nullcontext()


def days_window(first: date, last: date, zone: Any) -> Window:
    """[first 00:00, the day after last 00:00) in `zone`."""
    if last < first:
        raise ValueError(f"the range ends ({last}) before it starts ({first})")
    start = datetime.combine(first, time.min, zone)
    return Window(start, datetime.combine(last + timedelta(days=1), time.min, zone))


class Resync(SyncSession):
    schemas = (ledger.ensure_schema, payment_ledger.ensure_schema)

    def __init__(
        self,
        *,
        billing_url: str,
        state_url: str,
        mappings: Mappings,
        exact: ExactClient,
        now: Callable[[], datetime] = utc_now,
    ) -> None:
        super().__init__(
            billing_url=billing_url, state_url=state_url, mappings=mappings, exact=exact, now=now
        )
        self._state_url = state_url

    def run(
        self,
        first: date,
        last: date,
        scopes: tuple[str, ...] = SCOPES,
        *,
        dry_run: bool = False,
        hold: Hold = _no_hold,
    ) -> ResyncReport:
        """Resync the days [first, last] (in the settings' time zone) for `scopes`. `hold`
        wraps each division's calls (Dagster's division slots: one writer per division)."""
        unknown = set(scopes) - set(SCOPES)
        if unknown or not scopes:
            raise ValueError(f"scope must be any of {', '.join(SCOPES)}; got {sorted(unknown)}")
        window = days_window(first, last, self.mappings.settings.zone)
        ordered = tuple(s for s in SCOPES if s in scopes)
        report = ResyncReport(first, last, ordered, dry_run)
        divisions = sorted({e.division for e in self.mappings.settings.entities.values()})
        meter = CallMeter(self.exact, divisions)
        if "customers" in ordered:
            self._customers(window, divisions, report, hold)
        if "documents" in ordered:
            self._documents(window, divisions, report, hold)
        if "payments" in ordered:
            self._payments(window, divisions, report, hold)
        report.api_calls = sum(meter.calls().values())
        return report

    @contextmanager
    def _session(self, kind: type[S]) -> Iterator[S]:
        with kind(
            billing_url=self.billing_url,
            state_url=self._state_url,
            mappings=self.mappings,
            exact=self.exact,
            now=self._now,
        ) as session:
            yield session

    # --- documents -------------------------------------------------------------------------

    def _documents(
        self, window: Window, divisions: list[int], report: ResyncReport, hold: Hold
    ) -> None:
        with self._session(Reconciler) as reconciler:
            compared = reconciler.reconcile(f"{report.first}…{report.last}", window, hold)
        report.stopped += [why for _, why in sorted(compared.not_read.items())]
        rows = {r.number: r for r in ledger.documents_issued(self._state, window.start, window.end)}
        reset: set[str] = set()
        for difference in compared.differences:
            row = rows.get(difference.number)
            if row is None or difference.kind != MISSING or row.state not in POSTED:
                continue
            if report.dry_run or self._reset_document(row):
                reset.add(row.number)
        outcomes: dict[str, dict[str, Any]] = {}
        if not report.dry_run:
            with self._session(SyncEngine) as engine:
                for division in divisions:
                    with hold(division):
                        pushed = engine.push_documents(window, division)
                    outcomes |= {r["number"]: r for r in pushed.rows}
                    if pushed.stopped:
                        report.stopped.append(pushed.stopped)
        listed = set()
        for d in compared.differences:
            listed.add(d.number)
            outcome, detail = _document_outcome(
                d.kind, d.number in reset, outcomes.get(d.number), report.dry_run
            )
            if outcome is None:
                outcome, detail = LISTED, d.explanation
            report.add(
                "documents",
                outcome,
                detail,
                number=d.number,
                issued=d.issued,
                division=d.division,
                difference=d.kind,
                state=d.state,
                billing=d.billing_total,
                exact=d.exact_total,
            )
        self._unlisted_documents(rows, listed, outcomes, report)

    def _unlisted_documents(
        self,
        rows: dict[str, LedgerRow],
        listed: set[str],
        outcomes: dict[str, dict[str, Any]],
        report: ResyncReport,
    ) -> None:
        """What the reading did not list: documents pushed now (of a division not read, or
        never staged before) and those changed in billing after sync whose amounts agree."""
        for number, pushed in outcomes.items():
            if number not in listed and pushed["outcome"] == "pushed":
                report.add(
                    "documents",
                    PUSHED,
                    "never arrived: pushed now",
                    number=number,
                    issued=pushed["issued"],
                    division=pushed["division"],
                    difference=NOT_IN_EXACT,
                    state=pushed["state"],
                    billing=pushed["total"],
                )
        for number, row in rows.items():
            if number not in listed and row.state in ledger.FLAGGED:
                report.add(
                    "documents",
                    LISTED,
                    row.last_error or row.state,
                    number=number,
                    issued=row.partition_date,
                    division=row.division,
                    difference=CHANGED if row.state == ledger.CHANGED_AFTER_SYNC else row.state,
                    state=row.state,
                    billing=row.as_dict()["total"],
                )

    def _reset_document(self, row: LedgerRow) -> bool:
        """The document's entry is gone from Exact: back to staged, its entry in doubt (looked
        up before it is posted again), its Exact Document kept. False when another run holds
        or changed it meanwhile (that run decides)."""
        with claimed(self._state, row.billing_id) as mine:
            if not mine:
                return False
            kept = row.reached("attachment") and row.attachment_id is not None
            written = ledger.update(
                self._state,
                row.billing_id,
                expected_version=row.version,
                state=ledger.STAGED,
                step="attachment" if kept else "none",
                exact_document_id=row.exact_document_id if kept else None,
                attachment_id=row.attachment_id if kept else None,
                attachment_digest=row.attachment_digest if kept else None,
                in_flight=True,
                posting_hash=row.synced_hash or row.payload_hash,
                entry_id=None,
                entry_number=None,
                synced_at=None,
                attempts=0,
                block_kind=None,
                retry_after=None,
                last_error=f"{MISSING}: deleted there after it was posted; the resync posts it "
                "again (looked up first)",
            )
            return written is not None

    # --- customers -------------------------------------------------------------------------

    def _customers(
        self, window: Window, divisions: list[int], report: ResyncReport, hold: Hold
    ) -> None:
        links = self._linked_customers(window)
        gone: dict[int, list[tuple[str, str, UUID]]] = {}
        for division in divisions:
            wanted = links.get(division, [])
            if not wanted:
                continue
            with hold(division):
                try:
                    there = self._existing(division, ACCOUNTS, "ID", [a for _, _, a in wanted])
                except STOPS_THE_DIVISION as stop:
                    report.stopped.append(not_read_back(stop, self.mappings.settings.zone))
                    continue
                gone[division] = [link for link in wanted if link[2] not in there]
                if gone[division] and not report.dry_run:
                    self._drop_links(division, [customer for customer, _, _ in gone[division]])
                    self.exact.master_data(division).refresh_stale()  # applies sync/Deleted
        outcomes: dict[tuple[int, str], dict[str, Any]] = {}
        if not report.dry_run and any(gone.values()):
            with self._session(SyncEngine) as engine:
                for division in (d for d in divisions if gone.get(d)):
                    with hold(division):
                        linked = engine.sync_customers(window, division)
                    outcomes |= {(division, r["customer_id"]): r for r in linked.rows}
                    if linked.stopped:
                        report.stopped.append(linked.stopped)
        for division, lost in sorted(gone.items()):
            for customer_id, name, account in lost:
                found = outcomes.get((division, customer_id))
                if report.dry_run:
                    outcome, detail = WOULD_PUSH, "would be matched or created again"
                elif found and found["account_code"]:
                    outcome = PUSHED
                    detail = f"{found['outcome']}: account {found['account_code']}"
                else:
                    outcome = NOT_PUSHED
                    detail = (found or {}).get("reason") or "not linked again"
                report.add(
                    "customers",
                    outcome,
                    detail,
                    number=customer_id,
                    division=division,
                    difference=ACCOUNT_GONE,
                    state=name,
                    exact=f"account {account} gone",
                )

    def _linked_customers(self, window: Window) -> dict[int, list[tuple[str, str, UUID]]]:
        """Per division: (customer id, name, account id) of the range's documents' customers."""
        found = self._state.execute(
            sql.SQL(
                "SELECT DISTINCT c.division, c.customer_id, c.customer_name, c.account_id"
                " FROM {} c JOIN {} d ON d.division = c.division AND d.customer_id = c.customer_id"
                " WHERE d.issued_at >= %s AND d.issued_at < %s AND c.state = %s"
                " AND c.account_id IS NOT NULL ORDER BY 1, 2"
            ).format(ledger.CUSTOMERS, ledger.DOCUMENTS),
            [window.start, window.end, LINKED],
        )
        links: dict[int, list[tuple[str, str, UUID]]] = {}
        for division, customer_id, name, account_id in found:
            links.setdefault(division, []).append((customer_id, name, account_id))
        return links

    def _drop_links(self, division: int, customer_ids: list[str]) -> None:
        self._state.execute(
            sql.SQL("DELETE FROM {} WHERE division = %s AND customer_id = ANY(%s)").format(
                ledger.CUSTOMERS
            ),
            [division, customer_ids],
        )

    # --- payments --------------------------------------------------------------------------

    def _payments(
        self, window: Window, divisions: list[int], report: ResyncReport, hold: Hold
    ) -> None:
        if self.mappings.settings.payment_sync != payment_ledger.PUSH:
            return
        pushed = self._pushed_payments(window)
        gone: list[PaymentRow] = []
        for division in divisions:
            mine = [p for p in pushed if p.division == division and p.bank_entry_id]
            if not mine:
                continue
            with hold(division):
                try:
                    ids = [p.bank_entry_id for p in mine if p.bank_entry_id]
                    there = self._existing(division, BANK_ENTRIES, "EntryID", ids)
                except STOPS_THE_DIVISION as stop:
                    report.stopped.append(not_read_back(stop, self.mappings.settings.zone))
                    continue
            gone += [p for p in mine if p.bank_entry_id not in there]
        reset = [p for p in gone if report.dry_run or self._reset_payment(p)]
        outcomes: dict[str, dict[str, Any]] = {}
        if reset and not report.dry_run:
            with self._session(PaymentSync) as payments, ExitStack() as held:
                for division in divisions:  # in order: never two runs waiting on each other
                    held.enter_context(hold(division))
                pushed_now = payments.push_payments(window)
            outcomes = {r["payment"]: r for r in pushed_now.rows}
            if pushed_now.stopped:
                report.stopped.append(pushed_now.stopped)
        for payment in reset:
            found = outcomes.get(payment.payment_id or "")
            if report.dry_run:
                outcome, detail = WOULD_RE_PUSH, "would be looked up, then posted again"
            elif found and found["outcome"] == "pushed":
                outcome, detail = RE_PUSHED, f"bank entry {found['exact_entry']}"
            else:
                outcome = NOT_PUSHED
                detail = (found or {}).get("reason") or (found or {}).get("outcome", "not reached")
            report.add(
                "payments",
                outcome,
                detail,
                number=payment.payment_id,
                issued=payment.paid_at.date() if payment.paid_at else None,
                division=payment.division,
                difference=RECEIPT_GONE,
                state=payment.document_number,
                exact=f"bank entry {payment.bank_entry_number} gone",
            )

    def _pushed_payments(self, window: Window) -> list[PaymentRow]:
        query = sql.SQL(
            "SELECT {} FROM {} WHERE direction = %s AND state = %s AND paid_at >= %s"
            " AND paid_at < %s ORDER BY paid_at, key"
        ).format(mechanism.columns(PaymentRow), payment_ledger.TABLE)
        params = [payment_ledger.PUSH, payment_ledger.PUSHED, window.start, window.end]
        return mechanism.fetch(self._state, PaymentRow, query, params)

    def _reset_payment(self, payment: PaymentRow) -> bool:
        """The receipt is gone from Exact: failed and in doubt, so the push looks it up by its
        reference before posting it again. False when another run holds it."""
        with claimed(self._state, CLAIM_PREFIX + (payment.payment_id or "")) as mine:
            if not mine:
                return False
            written = payment_ledger.update(
                self._state,
                payment.key,
                state=payment_ledger.FAILED,
                in_flight=True,
                bank_entry_id=None,
                bank_entry_number=None,
                done_at=None,
                retry_after=None,
                reason=f"{RECEIPT_GONE} (bank entry {payment.bank_entry_number}): the resync "
                "posts it again (looked up first)",
            )
            return written is not None

    def _existing(self, division: int, endpoint: Any, field: str, ids: list[UUID]) -> set[UUID]:
        """Which of `ids` Exact still holds: a GET per `PER_CALL` ids."""
        records = self.exact.list_any(
            division, endpoint, field, ids, select=field, per_call=PER_CALL
        )
        return {getattr(record, field) for record in records}


def _document_outcome(
    kind: str, reset: bool, pushed: dict[str, Any] | None, dry_run: bool
) -> tuple[str | None, str]:
    """What became of a document that differs (None: listed for a person). A missing one the
    resync did not reset (in doubt already) counts only when the push posted it."""
    if kind not in (MISSING, NOT_IN_EXACT):
        return None, ""
    meant = reset or kind == NOT_IN_EXACT
    if dry_run:
        if not meant:
            return None, ""
        if reset:
            return WOULD_RE_PUSH, "would be looked up, then posted again"
        return WOULD_PUSH, "would be pushed"
    if pushed is not None and pushed["outcome"] == "pushed":
        number = f" as entry {pushed['exact_number']}" if pushed.get("exact_number") else ""
        return (RE_PUSHED if reset else PUSHED), f"in Exact now{number}"
    if not meant:
        return None, ""
    if pushed is None:
        return NOT_PUSHED, "not pushed: its entity is mapped to no division"
    return NOT_PUSHED, f"{pushed['outcome']}: {pushed.get('reason') or ''}".rstrip(": ")
