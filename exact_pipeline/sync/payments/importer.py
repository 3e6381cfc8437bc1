"""payment_sync `exact_to_billing`: payments registered in Exact are written into billing.

Read incrementally, per division, from `sync/Cashflow/PaymentTerms` with the client's stored
Timestamp. The cursor moves after each page, once every row of it has been handled, so a run
that stops re-reads at most one page, and a replayed row writes nothing twice (billing's
`external_id` is UNIQUE, and the payments ledger remembers every row it decided on).

A settled receivable row (IsFullyPaid) is one payment: a full payment settles the open item
itself, a partial one splits off a settled row of its own. Its `ID` is Exact's id of the
payment (billing's `external_id`). Per settled row:
- payables (LineType 22) are not customer payments: skipped;
- settled by a bank entry this pipeline created (billing_to_exact, also before a switch of
  mode): `from_billing`, never imported back;
- on a document this pipeline did not push (its YourRef is no billing number, or the entry is
  not the one the ledger recorded): REPORTED with the reason, never guessed;
- otherwise written with source `exact_online`, in whole cents, and the document's status
  follows (`billing.payment_writes`); a payment in the wrong direction or currency, or one
  that would pay the document past its total (the same money recorded on both sides), is
  reported instead.
A payment imported earlier that Exact undoes (its bank entry deleted: the item is open again, or
the split-off part is deleted, which `sync/Deleted` reports) is reported: billing keeps the
payment until a person removes it. Each import costs one call per division when nothing
changed (PaymentTerms; Deleted is read only after a change there: an undone payment always
changes its document's open item or open rest), one more per 1000 changed rows.
"""

from __future__ import annotations

from collections.abc import Collection
from decimal import Decimal
from typing import Any
from uuid import UUID

import psycopg

from exact_pipeline.billing.payment_writes import (
    ExactPayment,
    PayableDocument,
    documents_by_number,
    record_exact_payment,
)
from exact_pipeline.exact import ExactError
from exact_pipeline.exact.codes import PAYMENT_TERM_DELETED, RECEIPT_LINE_TYPE
from exact_pipeline.exact.currency import to_minor
from exact_pipeline.exact.endpoints import BANK_ENTRIES, SYNC_DELETED, SYNC_PAYMENT_TERMS
from exact_pipeline.exact.models import PaymentTerm
from exact_pipeline.exact.odata import from_exact_day
from exact_pipeline.sync.core.errors import STOPS_THE_DIVISION, STOPS_THE_RUN, plain_failure
from exact_pipeline.sync.core.ledger import Connection
from exact_pipeline.sync.core.money import sum_text
from exact_pipeline.sync.core.stops import Stops
from exact_pipeline.sync.documents import ledger
from exact_pipeline.sync.documents.ledger import LedgerRow
from exact_pipeline.sync.payments import ledger as payment_ledger
from exact_pipeline.sync.payments.ledger import IMPORTED, REPORTED, REVERSED, import_key
from exact_pipeline.sync.payments.receipts import payment_reference, receipt_lookup, sign_of
from exact_pipeline.sync.payments.report import PaymentReport
from exact_pipeline.sync.payments.step import PaymentStep

METHOD = "exact_online"  # payments.method of a payment registered in Exact


def billing_payment_id(item_id: UUID) -> str:
    """billing's `payments.id` of the payment read from Exact's settled item `item_id`."""
    return f"exact_{item_id}"


class PaymentImporter(PaymentStep):
    def run(self, only: Collection[int] | None = None) -> PaymentReport:
        """Every mapped division, or those of `only` (a webhook said they changed)."""
        report = PaymentReport(payment_ledger.IMPORT)
        stops = Stops(self._mappings.settings.zone, "payment import", "pending")
        failures: list[str] = []
        divisions = sorted({e.division for e in self._mappings.settings.entities.values()})
        divisions = [d for d in divisions if only is None or d in only]
        with psycopg.connect(self._billing_url, autocommit=True) as billing:
            for division in divisions:
                try:
                    changed = False
                    for term in self._exact.sync(division, SYNC_PAYMENT_TERMS):
                        changed = True
                        self._one(billing, division, term, report)
                    # A payment undone in Exact changes what its document has open: the item
                    # or its open rest is among the rows just read. Without any, there is no
                    # removal to look for either (its tombstone waits for the next read).
                    for deletion in self._exact.sync(division, SYNC_DELETED) if changed else ():
                        if deletion.EntityType == PAYMENT_TERM_DELETED and deletion.EntityKey:
                            self._undone(import_key(deletion.EntityKey), report)
                except STOPS_THE_DIVISION as stop:
                    stops.stop(division, stop)
                except STOPS_THE_RUN:
                    raise
                except ExactError as failure:
                    doing = f"reading division {division}'s payments"
                    failures.append(f"{plain_failure(failure, doing)} (from where it stopped).")
        report.stopped = " ".join(filter(None, [stops.sentence(), *failures])) or None
        return report

    def _one(
        self, billing: Connection, division: int, term: PaymentTerm, report: PaymentReport
    ) -> None:
        if term.ID is None or term.LineType not in (None, RECEIPT_LINE_TYPE):
            return
        key = import_key(term.ID)
        known = payment_ledger.row(self._state, key)
        if not term.IsFullyPaid:  # an open item (or the open rest of one)
            self._undone(key, report)
            return
        if known is not None and known.state == IMPORTED:
            report.add("already_done", self._row(term, division, known.document_number))
            return
        if term.EntryID is not None and payment_ledger.own_bank_entries(
            self._state, [term.EntryID]
        ):
            report.add("from_billing", self._row(term, division, term.YourRef))
            return
        document, reason = self._document(billing, division, term)
        if document is None:
            self._save(key, term, division, term.YourRef, REPORTED, reason)
            report.add("reported", self._row(term, division, term.YourRef, reason))
            return
        if self._settled_by_lost_push(division, term, document):
            report.add("from_billing", self._row(term, division, document.number))
            return
        outcome, reason = self._record(billing, term, document)
        state = IMPORTED if outcome in ("imported", "already_done") else REPORTED
        self._save(key, term, division, document.number, state, reason, document=document)
        report.add(outcome, self._row(term, division, document.number, reason))
        if outcome == "imported":
            currency = term.Currency or document.currency
            report.moved(currency, to_minor(term.AmountFC or Decimal(0), currency))

    def _undone(self, key: str, report: PaymentReport) -> None:
        """An imported payment that Exact shows open again, or deleted: undone in Exact.
        Reported (billing keeps its copy: a person decides); anything else is not ours."""
        known = payment_ledger.row(self._state, key)
        if known is None or known.state != IMPORTED:
            return
        amount = sum_text([known.amount or 0], known.currency or "")
        reason = (
            f"Exact no longer shows the payment of {amount} on {known.document_number} as "
            f"settled (undone in Exact): billing keeps its copy ({known.payment_id}); remove "
            "it there if the payment was really undone"
        )
        payment_ledger.update(self._state, key, state=REVERSED, reason=reason)
        report.add(
            "reported",
            {
                "exact_id": str(known.exact_item_id),
                "document": known.document_number,
                "exact_invoice": None,
                "division": known.division,
                "amount": amount,
                "currency": known.currency,
                "paid_on": (
                    known.paid_at.astimezone(self._mappings.settings.zone).date().isoformat()
                    if known.paid_at
                    else None
                ),
                "reason": reason,
            },
        )

    def _settled_by_lost_push(
        self, division: int, term: PaymentTerm, document: PayableDocument
    ) -> bool:
        """Whether one of our pushes on the document whose answer was lost (still in flight)
        created the bank entry that settled the item: looked up in Exact, a call each, only in
        that rare case; a push found is recorded as done."""
        for row in payment_ledger.of_documents(self._state, [document.id]):
            if row.direction != payment_ledger.PUSH or not row.in_flight or not row.payment_id:
                continue
            lookup = receipt_lookup(payment_reference(row.payment_id))
            found = self._exact.find(division, BANK_ENTRIES, lookup)
            if found is None:
                continue
            payment_ledger.update(
                self._state,
                row.key,
                state=payment_ledger.PUSHED,
                in_flight=False,
                reason=None,
                bank_entry_id=found.EntryID,
                bank_entry_number=found.EntryNumber,
                done_at=self._now(),
            )
            if found.EntryID == term.EntryID:
                return True
        return False

    def _document(
        self, billing: Connection, division: int, term: PaymentTerm
    ) -> tuple[PayableDocument | None, str | None]:
        """The billing document this pipeline pushed that the item belongs to, or why not."""
        number = (term.YourRef or "").strip()
        document = documents_by_number(billing, [number]).get(number) if number else None
        row: LedgerRow | None = ledger.document(self._state, document.id) if document else None
        if (
            document
            and row
            and row.division == division
            and row.entry_id == term.TransactionEntryID
        ):
            return document, None
        what = f"invoice {term.InvoiceNumber}" + (f" (your ref {number})" if number else "")
        return None, (
            f"Exact registered a payment on {what} of account {term.AccountCode or '?'} in "
            f"division {division}, a document this pipeline did not push: it is not written "
            "into billing; record it there by hand if it belongs to a billing document"
        )

    def _record(
        self, billing: Connection, term: PaymentTerm, document: PayableDocument
    ) -> tuple[str, str | None]:
        """Write the payment into billing: (outcome, reason when not written)."""
        kind = document.type.replace("_", " ")
        name = f"{kind} {document.number}"
        signed = term.AmountFC or Decimal(0)
        if signed * sign_of(document.type) <= 0:
            return "reported", (
                f"Exact's payment of {signed} on {name} goes the wrong way for a {kind} "
                "(billing records receipts on invoices and refunds on credit notes): check it "
                "in Exact"
            )
        currency = term.Currency or document.currency
        if currency != document.currency:
            return "reported", (
                f"Exact's payment on {name} is in {currency}, the document in "
                f"{document.currency}: record it in billing by hand"
            )
        try:
            amount = abs(to_minor(signed, currency))
        except ValueError as odd:
            return "reported", f"Exact's payment on {name}: {odd}; record it in billing by hand"
        zone = self._mappings.settings.zone
        payment = ExactPayment(
            id=billing_payment_id(term.ID),
            external_id=str(term.ID),
            invoice_id=document.id,
            amount=amount,
            currency=currency,
            paid_at=from_exact_day(term.LastPaymentDate, zone, default=self._now()),
            method=METHOD,
        )
        result = record_exact_payment(billing, payment)
        if result.outcome == "recorded":
            return "imported", None
        if result.outcome == "already_recorded":
            return "already_done", None
        paid, total = result.document.paid_amount, result.document.total_amount
        return "reported", (
            f"billing already records {sum_text([paid], currency)} of "
            f"{sum_text([total], currency)} paid on {name}; Exact's payment of "
            f"{sum_text([amount], currency)} would exceed the total: most "
            "likely the "
            "same payment was recorded in billing too. Remove the duplicate in billing or in "
            "Exact; the import reconsiders the item when Exact changes it"
        )

    def _save(
        self,
        key: str,
        term: PaymentTerm,
        division: int,
        number: str | None,
        state: str,
        reason: str | None,
        document: PayableDocument | None = None,
    ) -> None:
        try:
            currency = term.Currency or (document.currency if document else "")
            amount: int | None = abs(to_minor(term.AmountFC or Decimal(0), currency))
        except ValueError:
            amount = None  # the reason says why
        payment_ledger.save(
            self._state,
            key,
            direction=payment_ledger.IMPORT,
            payment_id=billing_payment_id(term.ID) if state == IMPORTED else None,
            exact_item_id=term.ID,
            document_id=document.id if document else None,
            document_number=number,
            document_type=document.type if document else None,
            division=division,
            amount=amount,
            currency=term.Currency or (document.currency if document else None),
            paid_at=from_exact_day(
                term.LastPaymentDate, self._mappings.settings.zone, default=self._now()
            ),
            state=state,
            reason=reason,
            bank_entry_id=term.EntryID,
            done_at=self._now(),
        )

    def _row(
        self, term: PaymentTerm, division: int, number: str | None, reason: str | None = None
    ) -> dict[str, Any]:
        day = term.LastPaymentDate
        return {
            "exact_id": str(term.ID),
            "document": number,
            "exact_invoice": term.InvoiceNumber,
            "division": division,
            "amount": str(term.AmountFC) if term.AmountFC is not None else None,
            "currency": term.Currency,
            "paid_on": day.date().isoformat() if day else None,
            "reason": reason,
        }
