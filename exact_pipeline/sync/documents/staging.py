"""What the ledger should say about a billing document now: its description and its state.

Pure: the billing document, the ledger's current row (if any) and the mapping tables decide.
Rules, in order:
- once posted (the ledger's step reached the entry: it exists in Exact), a voided or changed
  document is FLAGGED (`voided_after_sync`, `changed_after_sync`), never re-posted; "changed"
  compares with the content that was POSTED (`synced_hash`); back to it, it is `synced` again;
  with `corrections: credit_and_repost` it is staged instead, and the push reverses its entry
  and reposts it (corrections.py);
- its entry POST is in doubt (sent, answer never recorded): it keeps its state for the push,
  which looks Exact up first, then flags it or goes on; never `skipped_voided` before that;
- voided before it was ever posted: `skipped_voided`;
- the mapping tables cannot map it: `blocked` (kind `mapping`), re-evaluated on every stage;
- its PDF is too large for Exact: `blocked` (kind `billing`), re-evaluated on every stage;
- blocked by Exact: stays blocked until its cool-down ends (the push retries it then), or is
  staged at once when the document or the mapping tables changed since;
- blocked for its customer or a code Exact lacks: stays blocked (every push re-evaluates it);
- given up on (`dead_letter`, dead_letters.py): stays so until a person puts it back, or is
  staged at once when the document or the mapping tables changed since;
- otherwise staged (a failed document stays failed: the push retries it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from exact_pipeline.billing.models import BillingDocument
from exact_pipeline.mapping import Blocked, Mappings
from exact_pipeline.sync.documents import ledger, reasons
from exact_pipeline.sync.documents.corrections import CREDIT_AND_REPOST, FLAG
from exact_pipeline.sync.documents.hashing import Hashes, hashes
from exact_pipeline.sync.documents.ledger import LedgerRow
from exact_pipeline.sync.documents.summaries import DocumentSummary
from exact_pipeline.sync.documents.transform import (
    DocumentPlan,
    blocking,
    local_date,
    oversized_pdf,
    plan_document,
)


@dataclass(frozen=True)
class Prepared:
    """A billing document read whole, as a push sees it: hashed once, planned at most once,
    then staged and pushed with the same plan and hashes. Its stage needs only whether the
    mapping tables block it (`blocked`); the lines are planned when the push first asks
    (`plan`), so nothing is planned that is not pushed."""

    document: BillingDocument
    hashes: Hashes
    mappings: Mappings = field(repr=False, compare=False)

    @cached_property
    def plan(self) -> DocumentPlan | Blocked:
        """From the mapping tables (the push adds Exact's codes)."""
        return plan_document(self.document, self.mappings)

    @cached_property
    def blocked(self) -> Blocked | None:
        """What blocks the plan, or None: from the plan once made, else without making it."""
        if "plan" in self.__dict__:
            return self.plan if isinstance(self.plan, Blocked) else None
        return blocking(self.document, self.mappings)


def prepare(document: BillingDocument, mappings: Mappings) -> Prepared:
    return Prepared(document, hashes(document), mappings)


@dataclass(frozen=True)
class Evaluation:
    state: str
    block_kind: str | None = None
    last_error: str | None = None


def evaluate(
    document: BillingDocument | DocumentSummary,
    row: LedgerRow | None,
    blocked: Blocked | None,  # what blocks its plan (`Prepared.blocked`)
    digest: str,
    fingerprint: str,
    corrections: str = FLAG,
) -> Evaluation:
    if row is not None and row.reached("entry"):
        voided = document.status == "voided" and not row.void_accepted
        if corrections == CREDIT_AND_REPOST and (voided or digest != row.synced_hash):
            return _correction_due(document, row, digest, fingerprint, voided)
        if voided:
            return Evaluation(
                ledger.VOIDED_AFTER_SYNC, last_error=reasons.voided_after_posting(document, row)
            )
        if digest != row.synced_hash:
            return Evaluation(
                ledger.CHANGED_AFTER_SYNC, last_error=reasons.changed_after_posting(document, row)
            )
        if row.state in ledger.FLAGGED:
            return Evaluation(ledger.SYNCED if row.synced_at else ledger.STAGED)
        return Evaluation(row.state, row.block_kind, row.last_error)
    if row is not None and row.entry_in_doubt():
        # Exact may hold it: only the push, which looks it up first, can tell.
        reason = row.last_error
        if document.status == "voided":
            reason = reasons.voided_while_posting(document)
        return Evaluation(row.state, row.block_kind, reason)
    if document.status == "voided":
        return Evaluation(
            ledger.SKIPPED_VOIDED, last_error=reasons.voided(reasons.document_name(document))
        )
    if blocked is not None:
        return Evaluation(ledger.BLOCKED, ledger.MAPPING, blocked.message)
    if too_large := oversized_pdf(document):
        return Evaluation(ledger.BLOCKED, ledger.BILLING, too_large)
    if row is None or row.state in (ledger.SKIPPED_VOIDED, ledger.STAGED):
        return Evaluation(ledger.STAGED)
    if row.state in (ledger.BLOCKED, ledger.DEAD_LETTER):
        unchanged = row.payload_hash == digest and row.mapping_fingerprint == fingerprint
        refused = row.block_kind == ledger.EXACT or row.state == ledger.DEAD_LETTER
        if row.block_kind in (ledger.MAPPING, ledger.BILLING) or (refused and not unchanged):
            return Evaluation(ledger.STAGED)
    return Evaluation(row.state, row.block_kind, row.last_error)


def _correction_due(
    document: BillingDocument | DocumentSummary,
    row: LedgerRow,
    digest: str,
    fingerprint: str,
    voided: bool,
) -> Evaluation:
    """`credit_and_repost`: staged for the push, which reverses the entry (and reposts). A
    verdict an earlier push reached (blocked, given up on, flagged: its posted content unknown)
    stands while neither the document nor the mapping tables changed since."""
    unchanged = row.payload_hash == digest and row.mapping_fingerprint == fingerprint
    settled = (ledger.BLOCKED, ledger.DEAD_LETTER, ledger.FAILED, *ledger.FLAGGED)
    if unchanged and row.state in settled:
        return Evaluation(row.state, row.block_kind, row.last_error)
    due = reasons.reversal_due if voided else reasons.correction_due
    return Evaluation(ledger.STAGED, last_error=due(document, row))


def stage_values(
    document: BillingDocument | DocumentSummary,
    digest: str,  # its content hash (`Hashes.content`)
    blocked: Blocked | None,  # what blocks its plan (`Prepared.blocked`, `transform.blocking`)
    row: LedgerRow | None,
    mappings: Mappings,
    fingerprint: str,
    source: str | None = None,
) -> dict[str, Any]:
    """The ledger columns the stage writes for the document (see `ledger.STAGE_WRITES`);
    `fingerprint` is the mapping tables' (`Mappings.fingerprint()`), `source` the digest of
    the billing rows it was read from, when known (`DocumentSummary.source_digest`)."""
    setting = mappings.settings.corrections
    evaluation = evaluate(document, row, blocked, digest, fingerprint, setting)
    entity = mappings.settings.entities.get(document.entity.id)
    sign = document.sign
    return {
        "billing_id": document.id,
        "number": document.number,
        "document_type": document.type,
        "entity_id": document.entity.id,
        "division": entity.division if entity else None,
        "customer_id": document.customer.id,
        "customer_name": document.customer.name,
        "issued_at": document.issued_at,
        "partition_date": local_date(document.issued_at, mappings.settings.timezone),
        "currency": document.currency,
        "line_count": document.line_count,
        "amount": sign * document.amount_excluding_tax,
        "vat": sign * document.tax_amount,
        "total": sign * document.total_amount,
        "state": evaluation.state,
        "block_kind": evaluation.block_kind,
        "payload_hash": digest,
        "mapping_fingerprint": fingerprint,
        "last_error": evaluation.last_error,
        "source_digest": source,
    }
