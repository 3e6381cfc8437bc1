"""Pushing one document into Exact, step by step, so a crash or a lost answer never duplicates.

Steps (each recorded in the ledger the moment Exact confirms it):
  document   POST documents/Documents            the container of our PDF
  attachment POST documents/DocumentAttachments  the PDF bytes (base64)
  entry      POST salesentry/SalesEntries | salesinvoice/SalesInvoices, with all lines and the
             Document's GUID (deep insert)
  booked     POST salesinvoice/PrintedSalesInvoices (sales_invoice mode; never e-mails)
That is 3 calls per document in sales_entry mode and 4 in sales_invoice mode (a document
without a PDF in billing skips the first two). Codes are checked against the division's master
data BEFORE the first write, so a document that cannot be posted leaves nothing in Exact.

Before each POST the row is marked `in_flight`; a later attempt on a row still marked so asks
Exact first (by the step's idempotency key: our document number), because the earlier POST may
have been committed without the ledger hearing back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from exact_pipeline.billing.models import BillingDocument
from exact_pipeline.exact import ExactClient, LookupKey, eq
from exact_pipeline.exact.endpoints import (
    DOCUMENT_ATTACHMENTS,
    DOCUMENTS,
    PRINTED_SALES_INVOICES,
    SALES_ENTRIES,
    SALES_INVOICES,
    Endpoint,
)
from exact_pipeline.mapping import Blocked, Mappings
from exact_pipeline.sync import ledger
from exact_pipeline.sync.customers import CustomerLinker
from exact_pipeline.sync.errors import REFUSED, STOPS_THE_DIVISION, STOPS_THE_RUN, plain_failure
from exact_pipeline.sync.ledger import LedgerRow
from exact_pipeline.sync.payloads import Payload, PrintPayload
from exact_pipeline.sync.transform import (
    DocumentPlan,
    attachment_payload,
    content_hash,
    document_payload,
    document_subject,
    plan_document,
    sales_entry_payload,
    sales_invoice_payload,
)

# How long a document Exact refused waits before it is tried again unchanged (Exact blocks an
# endpoint after 10 errors an hour, so hammering it would stop every other document too).
EXACT_COOL_DOWN = timedelta(hours=1)


@dataclass(frozen=True)
class Step:
    name: str  # as in ledger.STEPS
    what: str  # in plain words, for messages
    endpoint: Endpoint[Any]


DOCUMENT_STEP = Step("document", "the Exact document for the PDF", DOCUMENTS)
ATTACHMENT_STEP = Step("attachment", "the PDF attachment", DOCUMENT_ATTACHMENTS)
ENTRY_STEPS = {
    "sales_entry": Step("entry", "the sales entry", SALES_ENTRIES),
    "sales_invoice": Step("entry", "the sales invoice", SALES_INVOICES),
}
BOOK_STEP = Step("booked", "the booking of the sales invoice", PRINTED_SALES_INVOICES)


class DocumentPusher:
    def __init__(
        self,
        conn: ledger.Connection,
        exact: ExactClient,
        mappings: Mappings,
        customers: CustomerLinker,
        now: Callable[[], datetime],
    ) -> None:
        self._conn = conn
        self._exact = exact
        self._mappings = mappings
        self._customers = customers
        self._now = now
        self._step: Step | None = None  # the step being attempted, for messages
        self._division = 0  # of the document being pushed

    def push(self, document: BillingDocument, row: LedgerRow) -> LedgerRow:
        """Push one claimed document; returns its ledger row afterwards. Raises only what stops
        the division or the run (see `errors`); everything else ends in the row's state."""
        self._step = None
        try:
            self._push(document, row)
        except (*STOPS_THE_RUN, *STOPS_THE_DIVISION):
            raise
        except REFUSED as refused:
            retry_after = self._now() + EXACT_COOL_DOWN
            local = retry_after.astimezone(self._mappings.settings.zone)
            self._block(
                row,
                ledger.EXACT,
                f"Exact refused {self._what()}: {refused.message or refused}; correct the cause "
                f"in Exact, billing or the mapping tables; it is tried again after "
                f"{local:%Y-%m-%d %H:%M} ({local:%Z}), or at once when the document or the "
                "mapping tables change",
                retry_after=retry_after,
            )
        except Exception as failure:  # one bad document never stops the others
            error = plain_failure(failure, self._doing())
            ledger.update(self._conn, row.billing_id, state=ledger.FAILED, last_error=error)
        fresh = ledger.document(self._conn, row.billing_id)
        assert fresh is not None
        return fresh

    def _what(self) -> str:
        return self._step.what if self._step else "the document"

    def _doing(self) -> str:
        return f"creating {self._step.what}" if self._step else "preparing the document"

    def _push(self, document: BillingDocument, row: LedgerRow) -> None:
        original = self._original_number(document)
        plan = plan_document(document, self._mappings, original)
        if isinstance(plan, Blocked):
            self._block(row, ledger.MAPPING, plan.message)
            return
        self._division = plan.division
        customer = self._customers.link(plan.division, document.customer)
        if customer.outcome == "failed":
            ledger.update(
                self._conn, row.billing_id, state=ledger.FAILED, last_error=customer.reason
            )
            return
        if customer.account_id is None:
            self._block(row, ledger.CUSTOMER, customer.reason)
            return
        # The entry's mode is fixed once it exists; before that, the settings decide.
        mode = row.push_mode if row.reached("entry") and row.push_mode else plan.mode
        checked = self._payload(mode, plan, customer.account_id, None)
        if isinstance(checked, Blocked):
            self._block(row, ledger.MASTER_DATA, checked.message)
            return
        row = self._start(row, mode)
        document_id = row.exact_document_id
        if document.pdf is not None:
            if not row.reached(DOCUMENT_STEP.name):
                subject = document_subject(plan.number, plan.is_credit_note)
                created = self._create(
                    row,
                    DOCUMENT_STEP,
                    document_payload(plan, customer.account_id),
                    LookupKey.field("Subject", subject),
                )
                document_id = created.ID
                row = self._record(row, DOCUMENT_STEP, exact_document_id=document_id)
            assert document_id is not None
            if not row.reached(ATTACHMENT_STEP.name):
                attachment = attachment_payload(
                    document_id, document.pdf.file_name, document.pdf.content
                )
                key = f"{eq('Document', document_id)} and {eq('FileName', attachment.FileName)}"
                created = self._create(row, ATTACHMENT_STEP, attachment, LookupKey(key))
                row = self._record(row, ATTACHMENT_STEP, attachment_id=created.ID)
        if not row.reached("entry"):
            step = ENTRY_STEPS[mode]
            payload = self._payload(mode, plan, customer.account_id, document_id)
            assert not isinstance(payload, Blocked)  # checked above with the same codes
            key = LookupKey.field("YourRef", plan.number)
            created = self._create(row, step, payload, key)
            entry_id = getattr(created, step.endpoint.key)
            row = self._record(
                row,
                step,
                entry_id=entry_id,
                entry_number=getattr(created, "EntryNumber", None),
                synced_hash=content_hash(document),
            )
        if mode == "sales_invoice" and not row.reached(BOOK_STEP.name):
            assert row.entry_id is not None
            booked = LookupKey(
                f"{eq('InvoiceID', row.entry_id)} and Status eq 50",
                endpoint=SALES_INVOICES,
                key_field="InvoiceID",
            )
            printing = PrintPayload(InvoiceID=row.entry_id, InvoiceDate=plan.document_date)
            self._create(row, BOOK_STEP, printing, booked)
            row = self._record(row, BOOK_STEP)
        ledger.update(
            self._conn,
            row.billing_id,
            state=ledger.SYNCED,
            block_kind=None,
            last_error=None,
            retry_after=None,
            synced_at=self._now(),
        )

    def _payload(
        self, mode: str, plan: DocumentPlan, account: UUID, document: UUID | None
    ) -> Payload | Blocked:
        master_data = self._exact.master_data(plan.division)
        build = sales_entry_payload if mode == "sales_entry" else sales_invoice_payload
        return build(plan, master_data, account, document)

    def _original_number(self, document: BillingDocument) -> int | None:
        if document.original_invoice_id is None:
            return None
        original = ledger.document(self._conn, document.original_invoice_id)
        return original.entry_number if original else None

    def _start(self, row: LedgerRow, mode: str) -> LedgerRow:
        ledger.update(self._conn, row.billing_id, attempts=row.attempts + 1, push_mode=mode)
        fresh = ledger.document(self._conn, row.billing_id)
        assert fresh is not None
        return fresh

    def _create(self, row: LedgerRow, step: Step, payload: Payload, key: LookupKey) -> Any:
        """POST one step. `in_flight` is set first and cleared by `_record`: a row still in
        flight on a later attempt looks the record up before posting again."""
        self._step = step
        ledger.update(self._conn, row.billing_id, in_flight=True)
        try:
            return self._exact.create(
                self._division,
                step.endpoint,
                payload.body(),
                idempotency=key,
                lookup_first=row.in_flight,
            )
        except (*REFUSED, *STOPS_THE_DIVISION):
            # Not created: refused (the client looked it up after any unclear answer), or
            # turned away unprocessed (a 429 for the day, no access).
            ledger.update(self._conn, row.billing_id, in_flight=False)
            raise

    def _record(self, row: LedgerRow, step: Step, **ids: Any) -> LedgerRow:
        ledger.update(self._conn, row.billing_id, step=step.name, in_flight=False, **ids)
        fresh = ledger.document(self._conn, row.billing_id)
        assert fresh is not None
        return fresh

    def _block(
        self, row: LedgerRow, kind: str, reason: str | None, retry_after: datetime | None = None
    ) -> None:
        ledger.update(
            self._conn,
            row.billing_id,
            state=ledger.BLOCKED,
            block_kind=kind,
            last_error=reason,
            retry_after=retry_after,
        )
