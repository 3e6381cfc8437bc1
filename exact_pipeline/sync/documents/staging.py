"""What the ledger should say about a billing document now: its description and its state.

Pure: the billing document, the ledger's current row (if any) and the mapping tables decide.
Rules, in order:
- once posted (the ledger's step reached the entry: it exists in Exact), a voided or changed
  document is FLAGGED (`voided_after_sync`, `changed_after_sync`), never re-posted; "changed"
  compares with the content that was POSTED (`synced_hash`); back to it, it is `synced` again;
- its entry POST is in doubt (sent, answer never recorded): it keeps its state for the push,
  which looks Exact up first, then flags it or goes on; never `skipped_voided` before that;
- voided before it was ever posted: `skipped_voided`;
- the mapping tables cannot map it: `blocked` (kind `mapping`), re-evaluated on every stage;
- its PDF is too large for Exact: `blocked` (kind `billing`), re-evaluated on every stage;
- blocked by Exact: stays blocked until its cool-down ends (the push retries it then), or is
  staged at once when the document or the mapping tables changed since;
- blocked for its customer or a code Exact lacks: stays blocked (every push re-evaluates it);
- otherwise staged (a failed document stays failed: the push retries it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from exact_pipeline.billing.models import BillingDocument
from exact_pipeline.mapping import Blocked, Mappings
from exact_pipeline.sync.documents import ledger, reasons
from exact_pipeline.sync.documents.ledger import LedgerRow
from exact_pipeline.sync.documents.transform import (
    DocumentPlan,
    Hashes,
    hashes,
    local_date,
    oversized_pdf,
    plan_document,
)


@dataclass(frozen=True)
class Prepared:
    """A billing document as this run sees it: planned and hashed once, then staged and
    pushed with the same plan and hashes."""

    document: BillingDocument
    plan: DocumentPlan | Blocked  # from the mapping tables (the push adds Exact's codes)
    hashes: Hashes


def prepare(document: BillingDocument, mappings: Mappings) -> Prepared:
    return Prepared(document, plan_document(document, mappings), hashes(document))


class PreparedMemo:
    """The documents the last stage in this process planned and hashed, so that the push of
    the same run (one process: the definitions use the in-process executor) plans and hashes
    each document once. One is reused only while billing's document (PDF included) and the
    mapping tables are what the stage saw; otherwise it is prepared anew. Each is handed out
    once, so the memo empties as the push goes."""

    def __init__(self) -> None:
        self._fingerprint: str | None = None
        self._kept: dict[str, Prepared] = {}

    def remember(self, fingerprint: str, prepared: dict[str, Prepared]) -> None:
        self._fingerprint, self._kept = fingerprint, dict(prepared)

    def prepare(self, document: BillingDocument, mappings: Mappings, fingerprint: str) -> Prepared:
        kept = self._kept.pop(document.id, None)
        if kept is not None and fingerprint == self._fingerprint and kept.document == document:
            return kept
        return prepare(document, mappings)


@dataclass(frozen=True)
class Evaluation:
    state: str
    block_kind: str | None = None
    last_error: str | None = None


def evaluate(
    document: BillingDocument,
    row: LedgerRow | None,
    plan: DocumentPlan | Blocked,
    digest: str,
    fingerprint: str,
) -> Evaluation:
    if row is not None and row.reached("entry"):
        if document.status == "voided" and not row.void_accepted:
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
    if isinstance(plan, Blocked):
        return Evaluation(ledger.BLOCKED, ledger.MAPPING, plan.message)
    if too_large := oversized_pdf(document):
        return Evaluation(ledger.BLOCKED, ledger.BILLING, too_large)
    if row is None or row.state in (ledger.SKIPPED_VOIDED, ledger.STAGED):
        return Evaluation(ledger.STAGED)
    if row.state == ledger.BLOCKED:
        unchanged = row.payload_hash == digest and row.mapping_fingerprint == fingerprint
        if row.block_kind in (ledger.MAPPING, ledger.BILLING) or (
            row.block_kind == ledger.EXACT and not unchanged
        ):
            return Evaluation(ledger.STAGED)
    return Evaluation(row.state, row.block_kind, row.last_error)


def stage_values(
    prepared: Prepared, row: LedgerRow | None, mappings: Mappings, fingerprint: str
) -> dict[str, Any]:
    """The ledger columns the stage writes for the document (see `ledger.STAGE_COLUMNS`);
    `fingerprint` is the mapping tables' (`Mappings.fingerprint()`)."""
    document, digest = prepared.document, prepared.hashes.content
    evaluation = evaluate(document, row, prepared.plan, digest, fingerprint)
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
        "line_count": len(document.lines),
        "amount": sign * document.amount_excluding_tax,
        "vat": sign * document.tax_amount,
        "total": sign * document.total_amount,
        "state": evaluation.state,
        "block_kind": evaluation.block_kind,
        "payload_hash": digest,
        "mapping_fingerprint": fingerprint,
        "last_error": evaluation.last_error,
    }
