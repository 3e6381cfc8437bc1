"""What billing issued in a month: one `BillingFigures` per finalized document, with its VAT
per tax rate and what was paid on it. Two set-based queries whatever the size of the month (no
lines or PDFs are loaded: only their sums)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import psycopg

from exact_pipeline.sync.core.window import Window
from exact_pipeline.sync.payments.receipts import sign_of

Connection = psycopg.Connection[Any]

_DOCUMENTS = """
SELECT d.id, d.number, d.type, d.status, d.invoicing_entity_id, d.currency, d.issued_at,
       d.amount_excluding_tax, d.tax_amount, d.total_amount,
       COALESCE((SELECT sum(p.amount) FROM payments p WHERE p.invoice_id = d.id), 0)
FROM invoices d
WHERE d.issued_at >= %(start)s AND d.issued_at < %(end)s AND d.status <> 'draft'
ORDER BY d.issued_at, d.id
"""

_VAT = """
SELECT l.invoice_id, l.tax_rate_id, t.rate, sum(l.tax_amount)
FROM invoice_lines l
JOIN invoices d ON d.id = l.invoice_id
JOIN tax_rates t ON t.id = l.tax_rate_id
WHERE d.issued_at >= %(start)s AND d.issued_at < %(end)s AND d.status <> 'draft'
GROUP BY l.invoice_id, l.tax_rate_id, t.rate
"""

_KNOWN = "SELECT number FROM invoices WHERE number = ANY(%(numbers)s) AND status <> 'draft'"


@dataclass
class BillingFigures:
    """A finalized document as billing has it. Amounts in minor units, signed as Exact books
    them (a credit note's are negative; a refund on it too)."""

    id: str
    number: str
    type: str
    status: str
    entity_id: str
    currency: str
    issued_at: datetime
    excl: int
    vat: int
    total: int
    paid: int
    vat_by_rate: dict[str, int] = field(default_factory=dict)  # per billing tax rate id
    rates: dict[str, Decimal] = field(default_factory=dict)  # tax rate id → percent

    @property
    def voided(self) -> bool:
        return self.status == "voided"

    @property
    def open(self) -> int:
        return self.total - self.paid


def read_month(conn: Connection, window: Window) -> list[BillingFigures]:
    """The finalized documents issued in the window, in issue order."""
    bounds = {"start": window.start, "end": window.end}
    documents: dict[str, BillingFigures] = {}
    for row in conn.execute(_DOCUMENTS, bounds):
        doc_id, number, kind, status, entity, currency, issued, excl, vat, total, paid = row
        sign = sign_of(kind)
        documents[doc_id] = BillingFigures(
            doc_id,
            number,
            kind,
            status,
            entity,
            currency,
            issued,
            sign * excl,
            sign * vat,
            sign * total,
            sign * int(paid),
        )
    for doc_id, tax_rate_id, rate, vat in conn.execute(_VAT, bounds):
        document = documents[doc_id]
        sign = sign_of(document.type)
        document.vat_by_rate[tax_rate_id] = sign * int(vat)
        document.rates[tax_rate_id] = rate
    return list(documents.values())


def known_numbers(conn: Connection, numbers: list[str]) -> set[str]:
    """Which of `numbers` are finalized billing documents, whatever their month."""
    if not numbers:
        return set()
    return {number for (number,) in conn.execute(_KNOWN, {"numbers": numbers})}
