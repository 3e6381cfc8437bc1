"""Pushing one document into Exact, step by step, so a crash or a lost answer never duplicates.

Steps (each recorded in the ledger the moment Exact confirms it):
  document   POST documents/Documents            the container of our PDF
  attachment POST documents/DocumentAttachments  the PDF bytes (base64)
  entry      POST salesentry/SalesEntries | salesinvoice/SalesInvoices, with all lines and the
             Document's GUID (deep insert)
  booked     POST salesinvoice/PrintedSalesInvoices (sales_invoice mode; never e-mails)
That is 3 calls per document in sales_entry mode and 4 in sales_invoice mode, plus one GET per
60 invoices for Exact's invoice numbers (a document without a PDF in billing skips the first
two). Exact's answer to the entry's POST (the full entity: `Prefer: return=representation`)
records its total and VAT for `totals_match_exact` (`verified`), so no read-back follows.
Codes are checked against the division's master data BEFORE the first write, so a document
that cannot be posted leaves nothing in Exact; so is the period it is booked in (periods.py:
a document dated in a period closed in Exact is blocked or moved on, and a refusal for a
period closed since reads the statuses again and decides again, without a cool-down).

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
With `corrections: credit_and_repost` (corrections.py) a posted document billing changed is
reversed by a credit entry and reposted, one billing voided is reversed only, and one whose PDF
alone changed gets the new PDF on its entry's Document; the entry POST keeps its body first
(`keep_posted`), and its look-up skips the entries a correction names (`entry_key`).

A PDF over `transform.MAX_PDF_BYTES` (7,499,250 bytes: Exact's 10 MB request limit, counted
strictly on the base64-encoded request) blocks its document before any write, once, with kind
`billing` (reason: the document, the field `invoice_pdfs.content`, and the fix: a smaller PDF in
billing). The stage decides it without calling Exact, so it is never re-tried while the PDF is
unchanged and goes through on the first run after billing stores a smaller one. Blocking
rather than posting the invoice without its PDF keeps "synced" meaning "in Exact with its
PDF", the promise every other document keeps.

In sales_invoice mode Exact numbers the invoice when it is booked (or at entry, by a division
setting: then the POST's answer carries it and nothing is read); `InvoiceNumbers` reads the
numbers back in full batches (one GET per 60 invoices, `InvoiceID eq … or …`) into
`entry_number`, gathered across runs: a run leaves a partial batch to later runs, and the
read-back after the invoices' day (`reconcile`) fills what is left. A credit note whose invoice
is still unnumbered reads that invoice's batch at once, so its remarks quote the number.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from exact_pipeline.billing.models import BillingDocument, DocumentPdf
from exact_pipeline.exact import ExactClient, ExactError, LookupKey, NotFoundError, eq
from exact_pipeline.exact.endpoints import (
    DOCUMENT_ATTACHMENTS,
    DOCUMENTS,
    PRINTED_SALES_INVOICES,
    SALES_ENTRIES,
    SALES_INVOICES,
    Endpoint,
)
from exact_pipeline.exact.masterdata import refuses_master_data
from exact_pipeline.exact.payloads import Payload, PrintPayload
from exact_pipeline.exact.periods import (
    CLOSED,
    JournalPeriods,
    period_of,
    refuses_closed_period,
)
from exact_pipeline.mapping import Blocked, Mappings
from exact_pipeline.sync.core.errors import (
    REFUSED,
    STOPS_THE_DIVISION,
    STOPS_THE_RUN,
    plain_failure,
)
from exact_pipeline.sync.core.ledger import Connection
from exact_pipeline.sync.core.writes import post_once
from exact_pipeline.sync.documents import corrections, ledger, reasons, verified
from exact_pipeline.sync.documents.customers import CustomerLinker
from exact_pipeline.sync.documents.dead_letters import Failure
from exact_pipeline.sync.documents.ledger import LedgerRow
from exact_pipeline.sync.documents.periods import in_open_period
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
REVERSAL_STEP = Step("entry", "the reversal of the posted entry", SALES_ENTRIES)
NUMBERS_PER_CALL = verified.READ_PER_CALL  # numbers read back per GET (`or` of InvoiceIDs)


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

    def forget(self, billing_id: str) -> None:
        """The document's entry was replaced (a correction): its number read back is stale."""
        self._read_back.pop(billing_id, None)

    def flush(self, division: int | None = None, *, full_only: bool = False) -> None:
        """Read the pending numbers (of `division`, default all); `full_only`: only where a
        whole GET's worth waits (the others wait for later runs)."""
        for each in [division] if division is not None else list(self._pending):
            if full_only and len(self._pending[each]) < NUMBERS_PER_CALL:
                continue
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
        self._booking: DocumentPlan | None = None  # as decided for its period, before writes
        self.numbers = InvoiceNumbers(conn, exact)
        self.failures: list[Failure] = []  # this pusher's, for `dead_letters.settle`
        self._reverser = corrections.Reverser(conn, exact, now)
        # Documents this pusher corrected (credit_and_repost): billing id → the report's
        # outcome (`corrected`, `pdf_replaced`) and what was done, in words.
        self.corrected: dict[str, dict[str, str]] = {}

    def push(self, prepared: Prepared, row: LedgerRow) -> LedgerRow:
        """Push one claimed document (planned and hashed by the stage); returns its ledger row
        afterwards. Raises only what stops the division or the run (see `errors`); everything
        else ends in the row's state."""
        self._step = None
        self._booking = None
        try:
            try:
                row = self._push(prepared, row)
            except REFUSED as refused:
                if not self._period_closed_meanwhile(refused):
                    raise
                # Decided again on Exact's statuses as they are now: blocked, or moved on.
                fresh = ledger.document(self._conn, row.billing_id)
                assert fresh is not None  # claimed by this run
                row = self._push(prepared, fresh)
        except (*STOPS_THE_RUN, *STOPS_THE_DIVISION):
            raise
        except REFUSED as refused:
            if stale := self._stale_master_data(prepared, row, refused):
                row = self._block(row, ledger.MASTER_DATA, stale.message)
            else:
                retry_after = self._now() + EXACT_COOL_DOWN
                local = retry_after.astimezone(self._mappings.settings.zone)
                row = self._block(
                    row,
                    ledger.EXACT,
                    reasons.exact_refused(self._what(), refused.message or str(refused), local),
                    retry_after=retry_after,
                )
                self.failures.append(Failure(row, self._doing(), refused))
        except Exception as failure:  # one bad document never stops the others
            error = plain_failure(failure, self._doing())
            row = self._update(row, state=ledger.FAILED, last_error=error)
            self.failures.append(Failure(row, self._doing(), failure))
        if row.state == ledger.SYNCED and self.numbers.wanted(row):
            self.numbers.add(row)
        if self.corrected.get(row.billing_id, {}).get("outcome") == "corrected":
            *_, done = corrections.of_documents(self._conn, [row.billing_id])[row.billing_id]
            number = self.numbers.latest(row).entry_number
            self.corrected[row.billing_id]["correction"] = done.sentence(number)
        return self.numbers.latest(row)

    def _stale_master_data(
        self, prepared: Prepared, row: LedgerRow, refused: ExactError
    ) -> Blocked | None:
        """Exact refused a code the master-data cache has (deleted or changed in Exact since):
        the division's master data is read again (each kind once a run, deletions included)
        and the document's codes checked once more. Blocked: it waits for a fix of its codes
        (re-evaluated by every push) instead of an hour's cool-down."""
        plan = prepared.plan
        if not isinstance(plan, DocumentPlan) or not refuses_master_data(refused.message):
            return None
        try:
            if not self._exact.master_data(plan.division).refresh_stale():
                return None
        except (*STOPS_THE_RUN, *STOPS_THE_DIVISION):
            raise
        except ExactError:
            return None  # the refusal stands as Exact's
        customer = self._customers.link(plan.division, prepared.document.customer)
        if customer.account_id is None:
            return None
        checked = self._payload(row.push_mode or plan.mode, plan, customer.account_id, None)
        return checked if isinstance(checked, Blocked) else None

    def _period_closed_meanwhile(self, refused: ExactError) -> bool:
        """Exact refused the booking for a closed period the cache held open (closed after the
        statuses were read): they are read again, and True when the period booked in is now
        closed, so the push decides again instead of cooling down an hour."""
        plan = self._booking
        if plan is None or not refuses_closed_period(refused.message):
            return False
        periods = self._exact.master_data(plan.division).periods
        try:
            periods.refresh(plan.journal, refused=True)
        except (*STOPS_THE_RUN, *STOPS_THE_DIVISION):
            raise
        except ExactError:
            return False  # the refusal stands as Exact's
        statuses = periods.cached(plan.journal) or {}
        period = plan.reporting_period or period_of(plan.document_date)
        return statuses.get(period) == CLOSED

    def _what(self) -> str:
        return self._step.what if self._step else "the document"

    def _doing(self) -> str:
        return f"creating {self._step.what}" if self._step else "preparing the document"

    def _push(self, prepared: Prepared, row: LedgerRow) -> LedgerRow:
        document = prepared.document
        self._division = row.division or 0
        if row.entry_in_doubt():
            row = self._settle_entry(row)
        if corrected := self._correct_without_repost(prepared, row):
            return corrected
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
        if corrections.due(self._mappings.settings.corrections, row, document, prepared.hashes):
            # Reversed only once the new content can be posted (its codes all in Exact).
            new = self._payload(plan.mode, plan, customer.account_id, None)
            if isinstance(new, Blocked):
                return self._block(row, ledger.MASTER_DATA, new.message)
            row, _ = self._reverse(row, document, voided=False)
        # The entry's mode is fixed once it exists (an entry in doubt was settled above);
        # before that, the settings decide.
        mode = row.push_mode if row.reached("entry") and row.push_mode else plan.mode
        checked = self._payload(mode, plan, customer.account_id, None)
        if isinstance(checked, Blocked):
            return self._block(row, ledger.MASTER_DATA, checked.message)
        if not row.reached(BOOK_STEP.name if mode == "sales_invoice" else "entry"):
            policy = self._mappings.settings.closed_period
            in_period = in_open_period(plan, self._periods(plan), policy)
            if isinstance(in_period, Blocked):
                return self._block(row, ledger.PERIOD, in_period.message)
            plan = self._booking = in_period
        row = self._update(row, attempts=row.attempts + 1, push_mode=mode)
        if document.pdf is not None and not row.reached("entry"):
            assert prepared.hashes.pdf is not None
            row = self._attach(row, document, prepared.hashes.pdf, plan, customer.account_id)
        if not row.reached("entry"):
            step = ENTRY_STEPS[mode]
            payload = self._payload(mode, plan, customer.account_id, row.exact_document_id)
            assert not isinstance(payload, Blocked)  # checked above with the same codes
            key = corrections.entry_key(self._conn, row.billing_id, plan.number, step.endpoint)
            digest = prepared.hashes.content
            corrections.keep_posted(self._conn, row.billing_id, prepared.hashes, mode, payload)
            created, marked = self._create(row, step, payload, key, posting_hash=digest)
            row = self._record_entry(marked, step, mode, created, digest)
        if mode == "sales_invoice" and not row.reached(BOOK_STEP.name):
            assert row.entry_id is not None
            booked = corrections.booked(row.entry_id)
            reporting = plan.reporting_period or (None, None)
            printing = PrintPayload(
                InvoiceID=row.entry_id,
                InvoiceDate=plan.document_date,
                ReportingYear=reporting[0],
                ReportingPeriod=reporting[1],
            )
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
        for mode in sorted(ENTRY_STEPS, key=lambda m: m != row.push_mode):
            step = ENTRY_STEPS[mode]
            self._step = step
            key = corrections.entry_key(self._conn, row.billing_id, row.number, step.endpoint)
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
        setting = self._mappings.settings.corrections
        verdict = evaluate(document, row, prepared.blocked, digest, fingerprint, setting)
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
                attachment_id = self._post_attachment(row, pdf, digest)
                row = self._record(row, ATTACHMENT_STEP, attachment_id=attachment_id)
            # The digest recorded is the one POSTed (kept when an earlier POST is found);
            # None: attached before digests were recorded, taken as current.
            if row.attachment_digest in (None, digest):
                break
            row = self._detach(row)
        return row

    def _post_attachment(self, row: LedgerRow, pdf: DocumentPdf, digest: str) -> UUID:
        """POST the PDF into the row's Exact Document (found instead after a lost answer)."""
        document_id = row.exact_document_id
        assert document_id is not None
        attachment = attachment_payload(document_id, pdf.file_name, pdf.content)
        key = f"{eq('Document', document_id)} and {eq('FileName', attachment.FileName)}"
        created, _ = self._create(
            row, ATTACHMENT_STEP, attachment, LookupKey(key), attachment_digest=digest
        )
        return created.ID  # type: ignore[no-any-return]

    def _detach(self, row: LedgerRow, step: str = DOCUMENT_STEP.name) -> LedgerRow:
        """DELETE the attachment of an outdated PDF: the row goes back to its Document (or,
        its entry posted, stays at `step`)."""
        self._step = REPLACE_STEP
        assert row.attachment_id is not None
        with suppress(NotFoundError):  # gone already: an earlier DELETE whose answer was lost
            self._exact.delete(self._division, DOCUMENT_ATTACHMENTS, row.attachment_id)
        return self._update(row, step=step, attachment_id=None, attachment_digest=None)

    # --- corrections (`corrections: credit_and_repost`, corrections.py) --------------------

    def correction_note(self, billing_id: str) -> dict[str, str]:
        """The push report's `correction` column for a document this pusher corrected."""
        text = self.corrected.get(billing_id, {}).get("correction")
        return {"correction": text} if text else {}

    def _correct_without_repost(self, prepared: Prepared, row: LedgerRow) -> LedgerRow | None:
        """A posted document billing voided is reversed (not reposted); one whose PDF alone
        changed gets the new PDF, no entry touched; one whose posted content the pipeline
        never kept stays flagged. The row so settled, or None (nothing, or a repost, to do)."""
        document, hashes = prepared.document, prepared.hashes
        if not corrections.due(self._mappings.settings.corrections, row, document, hashes):
            return None
        posted = corrections.posted_entry(self._conn, row)
        voided = document.status == "voided"
        if posted is None:
            state = ledger.VOIDED_AFTER_SYNC if voided else ledger.CHANGED_AFTER_SYNC
            reason = (
                reasons.voided_after_posting(document, row)
                if voided
                else reasons.posted_content_unknown(document, row)
            )
            return self._update(row, state=state, block_kind=None, last_error=reason)
        if voided:
            row, done = self._reverse(row, document, voided=True)
            reason = reasons.reversed_void(
                document, done.original_entry_number, done.reversal_entry_number
            )
            return self._update(
                row, state=ledger.SKIPPED_VOIDED, block_kind=None, last_error=reason
            )
        if corrections.only_the_pdf_changed(posted, document, hashes):
            # An entry posted without a PDF has no Document to hold one (entries are never
            # edited); a PDF billing removed stays attached in Exact.
            note = "no entry changed; the PDF in Exact is left as it was"
            if document.pdf and hashes.pdf and row.exact_document_id:
                row = self._replace_pdf(row, document.pdf, hashes.pdf)
                note = "the PDF attached to the entry was replaced; no entry changed"
            self.corrected[row.billing_id] = {"outcome": "pdf_replaced", "correction": note}
            return self._update(
                row,
                state=ledger.SYNCED,
                synced_hash=hashes.content,
                block_kind=None,
                last_error=None,
                retry_after=None,
            )
        return None

    def _replace_pdf(self, row: LedgerRow, pdf: DocumentPdf, digest: str) -> LedgerRow:
        """The entry's Exact Document gets billing's new PDF: DELETE the old attachment, POST
        the new one (two calls); the row keeps its step."""
        if row.attachment_id is not None and row.attachment_digest != digest:
            row = self._detach(row, step=row.step)
        if row.attachment_id is None:
            attachment_id = self._post_attachment(row, pdf, digest)
            row = self._update(row, in_flight=False, attachment_id=attachment_id)
        return row

    def _reverse(
        self, row: LedgerRow, document: BillingDocument, *, voided: bool
    ) -> tuple[LedgerRow, corrections.Correction]:
        """Reverse the document's entry in Exact (once): the row goes back to before it."""
        posted = corrections.posted_entry(self._conn, row)
        assert posted is not None  # checked by `_correct_without_repost`
        self._step = REVERSAL_STEP
        if self.numbers.wanted(row):  # the reversal quotes the number it reverses
            self.numbers.add(row)
            self.numbers.flush(row.division)
        number = self.numbers.latest(row).entry_number or row.entry_number
        self.numbers.forget(row.billing_id)
        row, correction = self._reverser.reverse(
            row, posted, document, voided=voided, original_number=number
        )
        self.corrected[row.billing_id] = {"outcome": "corrected"}
        return row, correction

    def _payload(
        self, mode: str, plan: DocumentPlan, account: UUID, document: UUID | None
    ) -> Payload | Blocked:
        master_data = self._exact.master_data(plan.division)
        build = sales_entry_payload if mode == "sales_entry" else sales_invoice_payload
        return build(plan, master_data, account, document)

    def _periods(self, plan: DocumentPlan) -> JournalPeriods:
        return self._exact.master_data(plan.division).periods

    def _original_number(self, document: BillingDocument) -> int | None:
        """The Exact number of the invoice a credit note corrects, once known (read back at
        once when that invoice was booked earlier in this run)."""
        if document.original_invoice_id is None:
            return None
        original = ledger.document(self._conn, document.original_invoice_id)
        if original is None:
            return None
        if self.numbers.wanted(original):  # unnumbered still (even from an earlier run)
            self.numbers.add(original)
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
        was marked before the POST; `posted` for a legacy row found without the mark). What
        Exact answered (or the look-up found) holds its total and VAT: remembered, so
        `totals_match_exact` reads nothing back."""
        entry_id = getattr(created, step.endpoint.key)
        corrections.reposted(self._conn, row.billing_id, entry_id)
        total, vat = getattr(created, "AmountFC", None), getattr(created, "VATAmountFC", None)
        if total is not None and vat is not None:
            verified.remember(self._conn, row.billing_id, entry_id, total, vat, self._now())
        number = getattr(created, "EntryNumber", None) or getattr(created, "InvoiceNumber", None)
        return self._record(
            row,
            step,
            entry_id=entry_id,
            entry_number=number,
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
