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
from exact_pipeline.sync import ledger
from exact_pipeline.sync.ledger import LedgerRow
from exact_pipeline.sync.transform import DocumentPlan, content_hash, local_date, oversized_pdf


@dataclass(frozen=True)
class Evaluation:
    state: str
    block_kind: str | None = None
    last_error: str | None = None


def kind_of(document: BillingDocument) -> str:
    return "Credit note" if document.is_credit_note else "Invoice"


def _posted(row: LedgerRow) -> str:
    when = row.synced_at or row.updated_at
    number = f" as number {row.entry_number}" if row.entry_number else ""
    return f"after it was posted to Exact on {when:%Y-%m-%d}{number}"


def evaluate(
    document: BillingDocument,
    row: LedgerRow | None,
    plan: DocumentPlan | Blocked,
    digest: str,
    fingerprint: str,
) -> Evaluation:
    name = f"{kind_of(document)} {document.number}"
    if row is not None and row.reached("entry"):
        if document.status == "voided" and not row.void_accepted:
            return Evaluation(
                ledger.VOIDED_AFTER_SYNC,
                last_error=f"{name} was voided in billing {_posted(row)}: Exact is not changed "
                "automatically; post a credit note in billing (it syncs like any other "
                "document), or reverse the entry in Exact",
            )
        if digest != row.synced_hash:
            return Evaluation(
                ledger.CHANGED_AFTER_SYNC,
                last_error=f"{name} changed in billing {_posted(row)}: Exact is not changed "
                "automatically; post a credit note in billing and issue a corrected "
                "invoice, or correct the entry in Exact, then accept the change "
                "(`accept_change`) to clear this flag",
            )
        if row.state in ledger.FLAGGED:
            return Evaluation(ledger.SYNCED if row.synced_at else ledger.STAGED)
        return Evaluation(row.state, row.block_kind, row.last_error)
    if row is not None and row.entry_in_doubt():
        # Exact may hold it: only the push, which looks it up first, can tell.
        reason = row.last_error
        if document.status == "voided":
            reason = (
                f"{name} was voided in billing while its entry was being posted to Exact: the "
                "next run asks Exact whether it arrived (then it is flagged: post a credit note "
                "in billing) or not (then nothing is posted)"
            )
        return Evaluation(row.state, row.block_kind, reason)
    if document.status == "voided":
        return Evaluation(ledger.SKIPPED_VOIDED, last_error=f"{name} is voided in billing")
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
    document: BillingDocument,
    row: LedgerRow | None,
    mappings: Mappings,
    plan: DocumentPlan | Blocked,
    fingerprint: str,
) -> dict[str, Any]:
    """The ledger columns the stage writes for `document` (see `ledger.STAGE_COLUMNS`);
    `fingerprint` is the mapping tables' (`Mappings.fingerprint()`)."""
    digest = content_hash(document)
    evaluation = evaluate(document, row, plan, digest, fingerprint)
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
