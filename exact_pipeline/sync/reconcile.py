"""Reconciliation: do Exact's totals still equal billing's, document by document?

Read back after posting, and on every later run of the day: a document edited or deleted in
Exact by hand, or a rounding Exact applied, shows up here with both amounts side by side.
One GET per twenty synced documents.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from exact_pipeline.exact import ExactClient
from exact_pipeline.sync import ledger
from exact_pipeline.sync.documents import ENTRY_STEPS
from exact_pipeline.sync.ledger import LedgerRow, amount_text

Difference = dict[str, Any]


def _cents(value: Decimal | None) -> int | None:
    return None if value is None else int(value * 100)


def totals_differences(exact: ExactClient, rows: list[LedgerRow]) -> list[Difference]:
    """The synced documents among `rows` whose total or VAT in Exact differs from billing's
    (signed as posted), or that Exact no longer holds."""
    groups: dict[tuple[int, str], list[LedgerRow]] = defaultdict(list)
    for row in rows:
        if row.state == ledger.SYNCED and row.entry_id and row.division and row.push_mode:
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
            total = _cents(record.AmountFC) if record else None
            vat = _cents(record.VATAmountFC) if record else None
            if record is not None and (total, vat) == (row.total, row.vat):
                continue
            differences.append(
                {
                    "number": row.number,
                    "division": division,
                    "billing_total": amount_text(row.total),
                    "exact_total": "" if total is None else amount_text(total),
                    "billing_vat": amount_text(row.vat),
                    "exact_vat": "" if vat is None else amount_text(vat),
                    "explanation": "posted, but Exact no longer holds it (deleted there?)"
                    if record is None
                    else "Exact's amounts differ from billing's (changed in Exact by hand?)",
                }
            )
    return differences
