"""Pushing one document into Exact, step by step, so a crash or a lost answer never duplicates.

Steps (each recorded in the ledger the moment Exact confirms it):
  document   POST documents/Documents            the container of our PDF
  attachment POST documents/DocumentAttachments  the PDF bytes (base64)
  entry      POST salesentry/SalesEntries | salesinvoice/SalesInvoices, with all lines and the
             Document's GUID (deep insert)
  booked     POST salesinvoice/PrintedSalesInvoices (sales_invoice mode; never e-mails)
That is 3 calls per document in sales_entry mode and 4 in sales_invoice mode, plus one GET per
20 invoices for Exact's invoice numbers (a document without a PDF in billing skips the first
two). Codes are checked against the division's master
data BEFORE the first write, so a document that cannot be posted leaves nothing in Exact.

Before each POST the row is marked `in_flight`, together with what is being posted (the
entry's content hash `posting_hash`, the PDF's `attachment_digest`); a later attempt on a row
still marked so asks Exact first (by the step's idempotency key: our document number), because
the earlier POST may have been committed without the ledger hearing back. What the ledger then
records as posted is what that earlier POST sent, never billing's newer content:
- an entry in doubt is looked up on BOTH endpoints (SalesEntries and SalesInvoices, by YourRef)
  before anything else, because the push mode may have been switched since; found, it is
  recorded with the content it was posted with (a later billing correction then shows as
  `changed_after_sync`), and a document voided meanwhile is flagged `voided_after_sync` (the
  fix: a credit note); absent, the document is posted as it is now. The push mode is fixed
  from the first entry attempt on;
- a PDF corrected in billing after its attachment reached Exact but before the entry did is
  replaced (DELETE documents/DocumentAttachments(guid), POST the new one: two calls, only then):
  an entry never links another version's PDF.

A PDF over `transform.MAX_PDF_BYTES` (7,499,250 bytes: Exact's 10 MB request limit, counted
strictly on the base64-encoded request) blocks its document before any write, once, with kind
`billing` (reason: the document, the field `invoice_pdfs.content`, and the fix: a smaller PDF in
billing). The stage decides it without calling Exact, so it is never re-tried while the PDF is
unchanged and goes through on the first run after billing stores a smaller one. Blocking
rather than posting the invoice without its PDF keeps "synced" meaning "in Exact with its
PDF", the promise every other document keeps.

In sales_invoice mode Exact numbers the invoice when it is booked; `InvoiceNumbers` reads the
numbers back in batches (one GET per 20 invoices, `InvoiceID eq … or …`) into `entry_number`;
a credit note whose invoice was booked earlier in the same run reads the pending batch at once,
so its remarks quote the number.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from exact_pipeline.billing.models import BillingDocument
from exact_pipeline.exact import ExactClient, ExactError, LookupKey, NotFoundError, eq
from exact_pipeline.exact.endpoints import (
    DOCUMENT_ATTACHMENTS,
    DOCUMENTS,
    PRINTED_SALES_INVOICES,
    SALES_ENTRIES,
    SALES_INVOICES,
    Endpoint,
)
from exact_pipeline.exact.payloads import Payload, PrintPayload
from exact_pipeline.mapping import Blocked, Mappings
from exact_pipeline.sync.core.errors import (
    REFUSED,
    STOPS_THE_DIVISION,
    STOPS_THE_RUN,
    plain_failure,
)
from exact_pipeline.sync.core.ledger import Connection
from exact_pipeline.sync.core.writes import post_once
from exact_pipeline.sync.documents import ledger, reasons
from exact_pipeline.sync.documents.customers import CustomerLinker
from exact_pipeline.sync.documents.ledger import LedgerRow
from exact_pipeline.sync.documents.staging import Prepared, evaluate
from exact_pipeline.sync.documents.transform import (
    DocumentPlan,
    attachment_payload,
    document_payload,
    document_subject,
    oversized_pdf,
    quoting_original,
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
REPLACE_STEP = Step("document", "the replacement of the outdated PDF", DOCUMENT_ATTACHMENTS)
NUMBERS_PER_CALL = 20  # invoice numbers read back per GET (an `or` filter of InvoiceIDs)


class InvoiceNumbers:
    """Exact's numbers of the sales invoices booked (Exact assigns them at booking), read back
    in batches of `NUMBERS_PER_CALL` per division into the ledger's `entry_number`. A failed
    read loses nothing: the number stays unknown and the next run asks again."""

    def __init__(self, conn: Connection, exact: ExactClient) -> None:
        self._conn = conn
        self._exact = exact
        self._pending: dict[int, dict[UUID, str]] = defaultdict(dict)  # entry id → billing id
        self._read_back: dict[str, LedgerRow] = {}  # billing id → its row with the number

    @staticmethod
    def wanted(row: LedgerRow) -> bool:
        return (
            row.push_mode == "sales_invoice"
            and row.reached(BOOK_STEP.name)
            and row.entry_number is None
            and row.entry_id is not None
            and row.division is not None
        )

    def add(self, row: LedgerRow) -> None:
        if not self.wanted(row):
            return
        assert row.division is not None and row.entry_id is not None
        pending = self._pending[row.division]
        pending[row.entry_id] = row.billing_id
        if len(pending) >= NUMBERS_PER_CALL:
            self.flush(row.division)

    def latest(self, row: LedgerRow) -> LedgerRow:
        """`row`, with its number when this run read it back."""
        return self._read_back.get(row.billing_id, row)

    def needs(self, row: LedgerRow) -> bool:
        return row.division in self._pending and row.entry_id in self._pending[row.division]

    def flush(self, division: int | None = None) -> None:
        """Read the pending numbers (of `division`, default all)."""
        for each in [division] if division is not None else list(self._pending):
            pending = self._pending.pop(each, {})
            if pending:
                self._read(each, pending)

    def _read(self, division: int, pending: dict[UUID, str]) -> None:
        try:
            found = list(
                self._exact.list_any(
                    division,
                    SALES_INVOICES,
                    "InvoiceID",
                    list(pending),
                    select="InvoiceID,InvoiceNumber",
                    per_call=NUMBERS_PER_CALL,
                )
            )
        except STOPS_THE_RUN:
            raise
        except ExactError:
            return  # informative only: the next run reads them again
        for invoice in found:
            if invoice.InvoiceID in pending and invoice.InvoiceNumber is not None:
                billing_id = pending[invoice.InvoiceID]
                written = ledger.update(self._conn, billing_id, entry_number=invoice.InvoiceNumber)
                if written is not None:
                    self._read_back[billing_id] = written


class DocumentPusher:
    def __init__(
        self,
        conn: Connection,
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
        self.numbers = InvoiceNumbers(conn, exact)

    def push(self, prepared: Prepared, row: LedgerRow) -> LedgerRow:
        """Push one claimed document (planned and hashed by the stage); returns its ledger row
        afterwards. Raises only what stops the division or the run (see `errors`); everything
        else ends in the row's state."""
        self._step = None
        try:
            row = self._push(prepared, row)
        except (*STOPS_THE_RUN, *STOPS_THE_DIVISION):
            raise
        except REFUSED as refused:
            retry_after = self._now() + EXACT_COOL_DOWN
            local = retry_after.astimezone(self._mappings.settings.zone)
            row = self._block(
                row,
                ledger.EXACT,
                reasons.exact_refused(self._what(), refused.message or str(refused), local),
                retry_after=retry_after,
            )
        except Exception as failure:  # one bad document never stops the others
            error = plain_failure(failure, self._doing())
            row = self._update(row, state=ledger.FAILED, last_error=error)
        if row.state == ledger.SYNCED and self.numbers.wanted(row):
            self.numbers.add(row)
        return self.numbers.latest(row)

    def _what(self) -> str:
        return self._step.what if self._step else "the document"

    def _doing(self) -> str:
        return f"creating {self._step.what}" if self._step else "preparing the document"

    def _push(self, prepared: Prepared, row: LedgerRow) -> LedgerRow:
        document = prepared.document
        self._division = row.division or 0
        if row.entry_in_doubt():
            row = self._settle_entry(row)
        if settled := self._settled_by_billing(prepared, row):
            return settled
        if too_large := oversized_pdf(document):  # before any write (the stage blocks it too)
            return self._block(row, ledger.BILLING, too_large)
        if isinstance(prepared.plan, Blocked):
            return self._block(row, ledger.MAPPING, prepared.plan.message)
        plan = quoting_original(prepared.plan, document, self._original_number(document))
        self._division = plan.division
        customer = self._customers.link(plan.division, document.customer)
        if customer.outcome == "failed":
            return self._update(row, state=ledger.FAILED, last_error=customer.reason)
        if customer.account_id is None:
            return self._block(row, ledger.CUSTOMER, customer.reason)
        # The entry's mode is fixed once it exists (an entry in doubt was settled above);
        # before that, the settings decide.
        mode = row.push_mode if row.reached("entry") and row.push_mode else plan.mode
        checked = self._payload(mode, plan, customer.account_id, None)
        if isinstance(checked, Blocked):
            return self._block(row, ledger.MASTER_DATA, checked.message)
        row = self._update(row, attempts=row.attempts + 1, push_mode=mode)
        if document.pdf is not None and not row.reached("entry"):
            assert prepared.hashes.pdf is not None
            row = self._attach(row, document, prepared.hashes.pdf, plan, customer.account_id)
        if not row.reached("entry"):
            step = ENTRY_STEPS[mode]
            payload = self._payload(mode, plan, customer.account_id, row.exact_document_id)
            assert not isinstance(payload, Blocked)  # checked above with the same codes
            key = LookupKey.field("YourRef", plan.number)
            digest = prepared.hashes.content
            created, marked = self._create(row, step, payload, key, posting_hash=digest)
            row = self._record_entry(marked, step, mode, created, digest)
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
        return self._update(
            row,
            state=ledger.SYNCED,
            block_kind=None,
            last_error=None,
            retry_after=None,
            synced_at=self._now(),
        )

    def _settle_entry(self, row: LedgerRow) -> LedgerRow:
        """An earlier entry POST may have committed: look it up on both endpoints (the push
        mode may have been switched since), the mode it was sent in first. Found, it is
        recorded as posted with the content it was posted with; absent, the doubt is gone."""
        key = LookupKey.field("YourRef", row.number)
        for mode in sorted(ENTRY_STEPS, key=lambda m: m != row.push_mode):
            step = ENTRY_STEPS[mode]
            self._step = step
            found = self._exact.find(self._division, step.endpoint, key)
            if found is not None:
                assert row.posting_hash is not None  # in doubt
                return self._record_entry(row, step, mode, found, row.posting_hash)
        return self._update(row, in_flight=False, posting_hash=None)

    def _settled_by_billing(self, prepared: Prepared, row: LedgerRow) -> LedgerRow | None:
        """Billing voided or changed the document after its entry reached Exact (seen when an
        entry in doubt is found), or voided it before: flag or skip it, and post nothing.
        Returns the row so settled, or None when the document goes on."""
        document = prepared.document
        if document.status != "voided" and not row.reached("entry"):
            return None
        digest, fingerprint = prepared.hashes.content, self._mappings.fingerprint()
        verdict = evaluate(document, row, prepared.plan, digest, fingerprint)
        if verdict.state in (*ledger.FLAGGED, ledger.SKIPPED_VOIDED):
            state, reason = verdict.state, verdict.last_error
        elif document.status == "voided":  # posted, and a person dealt with its voiding
            state, reason = ledger.SKIPPED_VOIDED, reasons.voided(document.number)
        else:
            return None
        return self._update(row, state=state, block_kind=None, last_error=reason, retry_after=None)

    def _attach(
        self,
        row: LedgerRow,
        document: BillingDocument,
        digest: str,
        plan: DocumentPlan,
        account: UUID,
    ) -> LedgerRow:
        """The Exact Document and its attachment, holding the billing PDF as it is now
        (`digest`: its identity, `Hashes.pdf`)."""
        pdf = document.pdf
        assert pdf is not None
        if not row.reached(DOCUMENT_STEP.name):
            subject = document_subject(plan.number, plan.is_credit_note)
            created, _ = self._create(
                row,
                DOCUMENT_STEP,
                document_payload(plan, account),
                LookupKey.field("Subject", subject),
            )
            row = self._record(row, DOCUMENT_STEP, exact_document_id=created.ID)
        for _ in range(2):  # a second round only after replacing an outdated PDF
            if not row.reached(ATTACHMENT_STEP.name):
                document_id = row.exact_document_id
                assert document_id is not None
                attachment = attachment_payload(document_id, pdf.file_name, pdf.content)
                key = f"{eq('Document', document_id)} and {eq('FileName', attachment.FileName)}"
                created, _ = self._create(
                    row, ATTACHMENT_STEP, attachment, LookupKey(key), attachment_digest=digest
                )
                row = self._record(row, ATTACHMENT_STEP, attachment_id=created.ID)
            # The digest recorded is the one POSTed (kept when an earlier POST is found);
            # None: attached before digests were recorded, taken as current.
            if row.attachment_digest in (None, digest):
                break
            row = self._detach(row)
        return row

    def _detach(self, row: LedgerRow) -> LedgerRow:
        """DELETE the attachment of an outdated PDF: the row goes back to its Document."""
        self._step = REPLACE_STEP
        assert row.attachment_id is not None
        with suppress(NotFoundError):  # gone already: an earlier DELETE whose answer was lost
            self._exact.delete(self._division, DOCUMENT_ATTACHMENTS, row.attachment_id)
        return self._update(
            row, step=DOCUMENT_STEP.name, attachment_id=None, attachment_digest=None
        )

    def _payload(
        self, mode: str, plan: DocumentPlan, account: UUID, document: UUID | None
    ) -> Payload | Blocked:
        master_data = self._exact.master_data(plan.division)
        build = sales_entry_payload if mode == "sales_entry" else sales_invoice_payload
        return build(plan, master_data, account, document)

    def _original_number(self, document: BillingDocument) -> int | None:
        """The Exact number of the invoice a credit note corrects, once known (read back at
        once when that invoice was booked earlier in this run)."""
        if document.original_invoice_id is None:
            return None
        original = ledger.document(self._conn, document.original_invoice_id)
        if original is None:
            return None
        if self.numbers.needs(original):
            self.numbers.flush(original.division)
        return self.numbers.latest(original).entry_number

    def _create(
        self, row: LedgerRow, step: Step, payload: Payload, key: LookupKey, **posting: Any
    ) -> tuple[Any, LedgerRow]:
        """POST one step (`core.writes`): Exact's record, and the row as marked for it.
        `in_flight` is set first, with `posting` (what is being posted), and cleared by
        `_record`. A row still in flight from an earlier attempt looks the record up first:
        found, it keeps the earlier attempt's `posting` marks."""
        self._step = step
        marked = row

        def mark() -> None:
            nonlocal marked
            marked = self._update(row, in_flight=True, **posting)

        created = post_once(
            self._exact,
            self._division,
            step.endpoint,
            payload.body(),
            key,
            in_doubt=row.in_flight,
            mark=mark,
            unmark=lambda: self._update(row, in_flight=False, **dict.fromkeys(posting)),
        )
        return created, marked

    def _record_entry(
        self, row: LedgerRow, step: Step, mode: str, created: Any, posted: str
    ) -> LedgerRow:
        """The entry is in Exact; `posted` is the content hash it was POSTed with (as `row`
        was marked before the POST; `posted` for a legacy row found without the mark)."""
        return self._record(
            row,
            step,
            entry_id=getattr(created, step.endpoint.key),
            entry_number=getattr(created, "EntryNumber", None),
            synced_hash=row.posting_hash or posted,
            posting_hash=None,
            push_mode=mode,
        )

    def _record(self, row: LedgerRow, step: Step, **ids: Any) -> LedgerRow:
        return self._update(row, step=step.name, in_flight=False, **ids)

    def _update(self, row: LedgerRow, **values: Any) -> LedgerRow:
        """Write the claimed document's row; the row as written (no second read)."""
        written = ledger.update(self._conn, row.billing_id, **values)
        assert written is not None  # claimed by this run: the row exists
        return written

    def _block(
        self, row: LedgerRow, kind: str, reason: str | None, retry_after: datetime | None = None
    ) -> LedgerRow:
        return self._update(
            row, state=ledger.BLOCKED, block_kind=kind, last_error=reason, retry_after=retry_after
        )
