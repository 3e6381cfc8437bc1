"""payment_sync `billing_to_exact`: payments recorded in billing become receipts in Exact.

For each billing payment (source `billing`) paid in the window, plus every one recorded since
the previous push looked (a payment booked today for a day already run: whatever its payment
day, the next run pushes it), plus every earlier one still pending, in paid order:
1. a payment that came from Exact (source `exact_online`) is never pushed back;
2. its document must be in Exact (synced, with its open item): until then it WAITS, with the
   reason, and every later run looks again (no call) and pushes it once the document syncs;
3. per division, one read of master data (bank journal, receivables GL) and one read of the
   open items per 60 documents (`openitems.PER_CALL`);
4. a payment larger than what Exact shows open is BLOCKED, not posted: the money is most
   likely registered in Exact already, and posting it would record it twice;
5. one POST per payment (a bank entry with one line, see `receipts`), claimed with an
   advisory lock, marked in flight first, and looked up by its reference before any re-post.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import psycopg

from exact_pipeline.billing.models import Payment
from exact_pipeline.billing.read import database_now, read_payments, read_payments_recorded
from exact_pipeline.exact.endpoints import BANK_ENTRIES
from exact_pipeline.exact.models import BankEntry
from exact_pipeline.exact.odata import exact_day
from exact_pipeline.exact.openitems import OpenItems, open_items
from exact_pipeline.mapping import Cause
from exact_pipeline.sync.core.errors import (
    REFUSED,
    STOPS_THE_DIVISION,
    STOPS_THE_RUN,
    plain_failure,
)
from exact_pipeline.sync.core.ledger import claimed
from exact_pipeline.sync.core.money import exact_text, to_major
from exact_pipeline.sync.core.stops import Stops
from exact_pipeline.sync.core.window import Window
from exact_pipeline.sync.core.writes import post_once
from exact_pipeline.sync.documents import ledger
from exact_pipeline.sync.documents.ledger import LedgerRow
from exact_pipeline.sync.documents.push import EXACT_COOL_DOWN
from exact_pipeline.sync.payments import ledger as payment_ledger
from exact_pipeline.sync.payments.ledger import PUSHED, PaymentRow, push_key
from exact_pipeline.sync.payments.receipts import (
    Receipt,
    ReceiptAccounts,
    payment_reference,
    receipt_accounts,
    receipt_entry,
    receipt_lookup,
    reference_fits,
    sign_of,
)
from exact_pipeline.sync.payments.report import PaymentReport
from exact_pipeline.sync.payments.step import PaymentStep

# A claim on a payment shares the ledger's advisory-lock space; the prefix keeps it apart from
# document ids.
CLAIM_PREFIX = "payment:"
ONE_MOMENT = timedelta(microseconds=1)
# A payment's row may commit a while after its `created_at` (its transaction's start): each look
# at what billing recorded reaches this far behind the previous one.
LATE_RECORDING = timedelta(days=1)


def in_exact(row: LedgerRow | None) -> bool:
    """Whether the document is in Exact with its open item (booked, in sales_invoice mode)."""
    return row is not None and row.synced_at is not None and row.entry_id is not None


def kind(document_type: str) -> str:
    return "credit note" if document_type == "credit_note" else "invoice"


def not_in_exact_reason(payment: Payment, row: LedgerRow | None) -> str:
    name = f"{kind(payment.document_type)} {payment.invoice_number}"
    if row is None:
        return (
            f"{name} has not been staged for Exact yet (its day has not run, or it was issued "
            "before connection_date: backfill its partition); the payment goes once it syncs"
        )
    because = f": {row.last_error}" if row.last_error else ""
    return f"{name} is not in Exact yet ({row.state}{because}); the payment goes once it syncs"


@dataclass
class PaymentPusher(PaymentStep):
    # Each payment's row as this run last wrote or read it (writes return it: no re-read).
    _rows: dict[str, PaymentRow] = field(default_factory=dict, init=False)

    def push(self, window: Window) -> PaymentReport:
        report = PaymentReport(payment_ledger.PUSH)
        payments, looked_at = self._candidates(window)
        documents = ledger.documents(self._state, list({p.invoice_id for p in payments}))
        known = payment_ledger.rows(self._state, [push_key(p.id) for p in payments])
        ready: dict[tuple[int, str], list[Payment]] = defaultdict(list)
        for payment in payments:
            document = documents.get(payment.invoice_id)
            verdict = self._verdict(payment, document, known.get(push_key(payment.id)))
            if verdict is None:
                assert document is not None and document.division is not None
                ready[(document.division, payment.invoicing_entity_id)].append(payment)
            else:
                outcome, saved = verdict
                report.add(outcome, self._row(payment, document, saved))
        stops = Stops(self._mappings.settings.zone, "payment", "waiting")
        for (division, entity_id), batch in ready.items():
            self._push_division(division, entity_id, batch, documents, report, stops)
        report.stopped = stops.sentence()
        self._looked(payments, report, looked_at)
        return report

    # --- which payments, and which can go ----------------------------------------------------

    def _candidates(self, window: Window) -> tuple[list[Payment], datetime]:
        """The window's payments; those recorded since the previous look that no push has
        seen yet, whatever their payment day; and earlier pending ones worth another look:
        failed or blocked ones, and waiting ones whose document has reached Exact since.
        Also when billing was looked at."""
        pending = payment_ledger.pending_pushes(self._state)
        documents = ledger.documents(self._state, [r.document_id or "" for r in pending])
        retry = {
            r.payment_id: r
            for r in pending
            if r.paid_at is not None
            and not window.start <= r.paid_at < window.end
            and (r.state != payment_ledger.WAITING or in_exact(documents.get(r.document_id or "")))
        }
        with psycopg.connect(self._billing_url) as conn:
            looked_at = database_now(conn)
            since = payment_ledger.recorded_since(self._state) or looked_at
            payments = read_payments(conn, window.start, window.end)
            recorded = read_payments_recorded(conn, since - LATE_RECORDING)
            if retry:
                # One read over the span of their payment times (billing reads by window only).
                times = [r.paid_at for r in retry.values() if r.paid_at is not None]
                earlier = read_payments(conn, min(times), max(times) + ONE_MOMENT)
                payments += [p for p in earlier if p.id in retry]
        payments += self._unseen(recorded, payments, looked_at)
        return sorted(payments, key=lambda p: (p.paid_at, p.id)), looked_at

    def _unseen(
        self, recorded: list[Payment], taken: list[Payment], looked_at: datetime
    ) -> list[Payment]:
        """Recorded payments no push has looked at (no ledger row), paid by now; those with a
        row are the retry's, and a payment dated later goes with its own day."""
        ids = {p.id for p in taken}
        fresh = [p for p in recorded if p.id not in ids and p.paid_at <= looked_at]
        known = payment_ledger.rows(self._state, [push_key(p.id) for p in fresh])
        return [p for p in fresh if push_key(p.id) not in known]

    def _looked(self, payments: list[Payment], report: PaymentReport, looked_at: datetime) -> None:
        """The next push looks at what billing records from here on; not past a payment this
        run had to leave without a ledger row (its division stopped)."""
        left = {row["payment"] for row in report.rows if row["outcome"] == "not_reached"}
        recorded = [p.created_at for p in payments if p.id in left]
        payment_ledger.move_recorded_since(self._state, min([looked_at, *recorded]))

    def _verdict(
        self, payment: Payment, document: LedgerRow | None, known: PaymentRow | None
    ) -> tuple[str, PaymentRow | None] | None:
        """The outcome of a payment that makes no call, or None when it can go."""
        if payment.source != "billing":
            return "from_exact", None
        if known is not None and known.state in payment_ledger.DONE:
            return "already_done", known
        if not reference_fits(payment.id):
            reason = (
                f"payment id {payment.id!r} is too long to carry as the bank line's reference "
                f"({payment_reference(payment.id)!r} exceeds Exact's 100 characters)"
            )
            return "blocked", self._save(payment, document, payment_ledger.BLOCKED, reason)
        if document is not None and document.state == ledger.SKIPPED_VOIDED:
            reason = (
                f"{kind(payment.document_type)} {payment.invoice_number} is voided and was never "
                "posted to Exact, so there is nothing to match the payment to there"
            )
            return "blocked", self._save(payment, document, payment_ledger.BLOCKED, reason)
        if not in_exact(document):
            reason = not_in_exact_reason(payment, document)
            return "waiting", self._save(payment, document, payment_ledger.WAITING, reason)
        cooling = known is not None and known.retry_after and known.retry_after > self._now()
        if cooling:
            return "blocked", known
        return None

    # --- pushing -----------------------------------------------------------------------------

    def _push_division(
        self,
        division: int,
        entity_id: str,
        batch: list[Payment],
        documents: dict[str, LedgerRow],
        report: PaymentReport,
        stops: Stops,
    ) -> None:
        """Read the division's receipt accounts and the batch's open items once (on the first
        payment that gets that far), then push each payment in turn."""
        prepared: tuple[ReceiptAccounts | Cause, dict[UUID, OpenItems]] | str | None = None
        left: dict[UUID, Decimal] = {}  # what Exact shows open, less this run's receipts
        for payment in batch:
            document = documents[payment.invoice_id]
            if stops.skip(division):
                outcome = "not_reached"
            else:
                if prepared is None:
                    try:
                        prepared = self._prepare(division, entity_id, batch, documents)
                    except STOPS_THE_DIVISION as stop:
                        stops.stop(division, stop)
                        report.add("not_reached", self._row(payment, document))
                        continue
                    if not isinstance(prepared, str):
                        left = {e: found.outstanding for e, found in prepared[1].items()}
                outcome = self._try(payment, document, prepared, left, report, stops)
            key = push_key(payment.id)
            saved = self._rows.get(key) or payment_ledger.row(self._state, key)
            report.add(outcome, self._row(payment, document, saved))

    def _prepare(
        self, division: int, entity_id: str, batch: list[Payment], documents: dict[str, LedgerRow]
    ) -> tuple[ReceiptAccounts | Cause, dict[UUID, OpenItems]] | str:
        """The receipt accounts and open items, or why they could not be read (a failure)."""
        try:
            accounts = self._accounts(division, entity_id)
            if isinstance(accounts, Cause):
                return accounts, {}
            entries = {documents[p.invoice_id].entry_id for p in batch}
            return accounts, open_items(self._exact, division, [e for e in entries if e])
        except (*STOPS_THE_RUN, *STOPS_THE_DIVISION):
            raise
        except Exception as failure:
            return plain_failure(failure, "reading the division's accounts and open items")

    def _try(
        self,
        payment: Payment,
        document: LedgerRow,
        prepared: tuple[ReceiptAccounts | Cause, dict[UUID, OpenItems]] | str,
        left: dict[UUID, Decimal],
        report: PaymentReport,
        stops: Stops,
    ) -> str:
        if isinstance(prepared, str):
            self._save(payment, document, payment_ledger.FAILED, prepared)
            return "failed"
        accounts, items = prepared
        if isinstance(accounts, Cause):
            self._save(payment, document, payment_ledger.BLOCKED, str(accounts))
            return "blocked"
        assert document.entry_id is not None and document.division is not None
        with claimed(self._state, CLAIM_PREFIX + payment.id) as mine:
            if not mine:
                return "in_progress"
            try:
                return self._push_claimed(
                    payment, document, accounts, items.get(document.entry_id), left, report
                )
            except STOPS_THE_DIVISION as stop:
                stops.stop(document.division, stop)
                return "not_reached"
            except STOPS_THE_RUN:
                raise
            except Exception as failure:  # one bad payment never stops the others
                # `in_flight` stays as it was: set once a POST may have reached Exact.
                reason = plain_failure(failure, "creating the receipt")
                self._save(payment, document, payment_ledger.FAILED, reason)
                return "failed"

    def _accounts(self, division: int, entity_id: str) -> ReceiptAccounts | Cause:
        entity = self._mappings.entity(entity_id)
        settings_file = str(self._mappings.folder / "settings.yaml")
        master_data = self._exact.master_data(division)
        return receipt_accounts(master_data, entity_id, entity, settings_file)

    def _push_claimed(
        self,
        payment: Payment,
        document: LedgerRow,
        accounts: ReceiptAccounts,
        items: OpenItems | None,
        left: dict[UUID, Decimal],
        report: PaymentReport,
    ) -> str:
        key = push_key(payment.id)
        fresh = payment_ledger.row(self._state, key)  # claimed now: as it really is
        if fresh is not None:
            self._rows[key] = fresh
        if fresh is not None and fresh.state in payment_ledger.DONE:  # another run finished it
            return "already_done"
        division = document.division or 0
        reference = payment_reference(payment.id)
        lookup = receipt_lookup(reference)
        signed = sign_of(payment.document_type) * payment.amount
        if fresh is not None and fresh.in_flight:
            # An earlier POST may have been committed without the ledger hearing back.
            found = self._exact.find(division, BANK_ENTRIES, lookup)
            if found is not None:
                self._pushed(payment, document, found, items, report)
                return "pushed"
        if items is None or items.number is None or items.account is None:
            reason = (
                f"Exact holds no open item for {kind(payment.document_type)} "
                f"{payment.invoice_number} yet; the payment goes once it has one"
            )
            self._save(payment, document, payment_ledger.WAITING, reason)
            return "waiting"
        if items.currency not in (None, payment.currency):
            reason = (
                f"the payment is in {payment.currency}, {kind(payment.document_type)} "
                f"{payment.invoice_number} in Exact in {items.currency}: Exact cannot match "
                "it; correct the payment's currency in billing"
            )
            self._save(payment, document, payment_ledger.BLOCKED, reason)
            return "blocked"
        assert document.entry_id is not None
        amount = to_major(signed, payment.currency)
        open_now = left.get(document.entry_id, Decimal(0))
        if not _within(amount, open_now):
            self._save(
                payment, document, payment_ledger.BLOCKED, _exceeds(payment, amount, open_now)
            )
            return "blocked"
        receipt = Receipt(
            reference=reference,
            account=items.account,
            our_ref=items.number,
            amount=amount,
            currency=payment.currency,
            day=exact_day(payment.paid_at, self._mappings.settings.zone),
            notes=f"{kind(payment.document_type)} {payment.invoice_number}, {payment.method}",
        )
        attempts = (fresh.attempts if fresh else 0) + 1
        try:
            # In doubt it was looked up above, before the open items were judged (which its
            # earlier POST may have settled); the outcome is saved below either way.
            created = post_once(
                self._exact,
                division,
                BANK_ENTRIES,
                receipt_entry(accounts, receipt),
                lookup,
                in_doubt=False,
                mark=lambda: self._save(
                    payment,
                    document,
                    payment_ledger.FAILED,
                    "sent to Exact, answer not recorded yet: the next run looks it up before "
                    "posting",
                    in_flight=True,
                    attempts=attempts,
                ),
            )
        except REFUSED as refused:
            retry_after = self._now() + EXACT_COOL_DOWN
            local = retry_after.astimezone(self._mappings.settings.zone)
            reason = (
                f"Exact refused the receipt: {refused.message or refused}; correct the cause in "
                f"Exact or the mapping tables; it is tried again after "
                f"{local:%Y-%m-%d %H:%M} ({local:%Z})"
            )
            self._save(
                payment,
                document,
                payment_ledger.BLOCKED,
                reason,
                in_flight=False,
                retry_after=retry_after,
            )
            return "blocked"
        except STOPS_THE_DIVISION as stop:  # turned away unprocessed: nothing was created
            self._save(payment, document, payment_ledger.FAILED, str(stop), in_flight=False)
            raise
        self._pushed(payment, document, created, items, report)
        left[document.entry_id] = open_now - amount
        return "pushed"

    def _pushed(
        self,
        payment: Payment,
        document: LedgerRow,
        entry: BankEntry,
        items: OpenItems | None,
        report: PaymentReport,
    ) -> None:
        self._save(
            payment,
            document,
            PUSHED,
            None,
            in_flight=False,
            bank_entry_id=entry.EntryID,
            bank_entry_number=entry.EntryNumber,
            our_ref=items.number if items else None,
            retry_after=None,
            done_at=self._now(),
        )
        report.moved(payment.currency, sign_of(payment.document_type) * payment.amount)

    # --- the ledger and the report -----------------------------------------------------------

    def _save(
        self,
        payment: Payment,
        document: LedgerRow | None,
        state: str,
        reason: str | None,
        **extra: Any,
    ) -> PaymentRow:
        key = push_key(payment.id)
        saved = self._rows[key] = payment_ledger.save(
            self._state,
            key,
            direction=payment_ledger.PUSH,
            payment_id=payment.id,
            document_id=payment.invoice_id,
            document_number=payment.invoice_number,
            document_type=payment.document_type,
            division=document.division if document else None,
            amount=payment.amount,
            currency=payment.currency,
            paid_at=payment.paid_at,
            state=state,
            reason=reason,
            **extra,
        )
        return saved

    def _row(
        self, payment: Payment, document: LedgerRow | None, saved: PaymentRow | None = None
    ) -> dict[str, Any]:
        signed = sign_of(payment.document_type) * payment.amount
        return {
            "payment": payment.id,
            "document": payment.invoice_number,
            "type": payment.document_type,
            "division": document.division if document else None,
            "amount": str(to_major(signed, payment.currency)),
            "currency": payment.currency,
            "paid_on": payment.paid_at.astimezone(self._mappings.settings.zone).date().isoformat(),
            "source": payment.source,
            "state": saved.state if saved else None,
            "exact_entry": saved.bank_entry_number if saved else None,
            "reason": saved.reason if saved else None,
        }


def _within(amount: Decimal, open_now: Decimal) -> bool:
    """A receipt Exact can match: the open item's direction, and no more than is open."""
    return amount * open_now > 0 and abs(amount) <= abs(open_now)


def _exceeds(payment: Payment, amount: Decimal, open_now: Decimal) -> str:
    name = f"{kind(payment.document_type)} {payment.invoice_number}"
    return (
        f"Exact shows {exact_text(open_now, payment.currency)} open on {name}, less than this "
        f"payment of "
        f"{amount}: the money is most likely registered in Exact already, and posting it would "
        "record it twice. If so, accept it as in Exact (`PaymentSync.accept`); otherwise "
        "correct the payment in billing or in Exact, and the next run pushes it"
    )
