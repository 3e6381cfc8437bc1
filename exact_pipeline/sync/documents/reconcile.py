"""Reconciliation: do Exact's totals still equal billing's, document by document?

Read back after posting, and on every later run of the day: a document edited or deleted in
Exact by hand, or a rounding Exact applied, shows up here with both amounts side by side.
One GET per twenty synced documents.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from exact_pipeline.exact import ExactClient
from exact_pipeline.sync.core.money import amount_text, exact_text, to_major
from exact_pipeline.sync.documents import ledger
from exact_pipeline.sync.documents.ledger import LedgerRow
from exact_pipeline.sync.documents.push import ENTRY_STEPS

Difference = dict[str, Any]


def totals_differences(exact: ExactClient, rows: list[LedgerRow]) -> list[Difference]:
    """The posted documents among `rows` (synced, or changed in billing since) whose total or
    VAT in Exact differs from billing's (signed as posted), or that Exact no longer holds."""
    groups: dict[tuple[int, str], list[LedgerRow]] = defaultdict(list)
    for row in rows:
        posted = row.state in (ledger.SYNCED, ledger.CHANGED_AFTER_SYNC)
        if posted and row.entry_id and row.division and row.push_mode:
            groups[(row.division, row.push_mode)].append(row)
    differences: list[Difference] = []
    for (division, mode), group in groups.items():
        endpoint = ENTRY_STEPS[mode].endpoint
        key = endpoint.key
        found = {
            getattr(record, key): record
            for record in exact.list_any(
                division,
                endpoint,
                key,
                [row.entry_id for row in group if row.entry_id],
                select=f"{key},AmountFC,VATAmountFC",
            )
        }
        for row in group:
            record = found.get(row.entry_id)
            total = record.AmountFC if record else None
            vat = record.VATAmountFC if record else None
            # Compared as Decimals in the currency: a fraction of the minor unit is a difference.
            billing = (to_major(row.total, row.currency), to_major(row.vat, row.currency))
            if record is not None and (total, vat) == billing:
                continue
            differences.append(
                {
                    "number": row.number,
                    "division": division,
                    "billing_total": amount_text(row.total, row.currency),
                    "exact_total": "" if total is None else exact_text(total, row.currency),
                    "billing_vat": amount_text(row.vat, row.currency),
                    "exact_vat": "" if vat is None else exact_text(vat, row.currency),
                    "explanation": _explanation(row, record is not None),
                }
            )
    return differences


def _explanation(row: LedgerRow, held: bool) -> str:
    if not held:
        return "posted, but Exact no longer holds it (deleted there?)"
    if row.synced_hash != row.payload_hash:  # billing's content is not the one posted
        return (
            "billing corrected the document after it was posted: Exact holds the amounts "
            "posted then (flagged changed_after_sync: post a credit note and a corrected "
            "invoice in billing, or correct the entry in Exact, then accept the change)"
        )
    return "Exact's amounts differ from billing's (changed in Exact by hand?)"
