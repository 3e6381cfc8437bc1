"""A window's documents as a stage needs them (`DocumentSummary`), read at a fraction of the
cost of reading them whole: no Python object per line (Postgres forms the lines' JSON for the
content hash, and the keys their codes are mapped from), and no PDF kept (its bytes are hashed
as they arrive): a stage of a year builds no million objects it would drop at once.

Four queries a day, whatever the number of documents: the documents' sources (which versions
of billing's rows they are: `read_sources`), then, for those to read, headers (`billing.read`'s),
lines and PDFs.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from exact_pipeline.billing.models import (
    BillingDocument,
    Customer,
    DocumentStatus,
    DocumentType,
    InvoicingEntity,
    Signed,
)
from exact_pipeline.billing.read import PDFS, Connection, optional_line_columns, read_headers
from exact_pipeline.sync.documents.hashing import (
    LINE_JSON,
    LINES_PLAIN,
    canonical_lines,
    content_of,
)

_LINES = f"""
SELECT l.invoice_id, json_agg({LINE_JSON} ORDER BY l.position)::text, {LINES_PLAIN}
FROM (SELECT l.invoice_id, l.position, l.product_id, l.description, l.quantity, l.unit_amount,
             l.amount_excluding_tax, l.tax_rate_id, l.tax_amount, {{optional}}
      FROM invoice_lines l WHERE l.invoice_id = ANY (%(ids)s))
     AS l (invoice_id, position, product_id, description, quantity, unit_amount,
           amount_excluding_tax, tax_rate_id, tax_amount, period_start, period_end)
GROUP BY l.invoice_id
"""


# Which versions of billing's rows a document's ledger row is staged from: Postgres gives every
# write of a row a new `xmin` (the writing transaction), so the same digest means the same
# rows as they were, and a changed row, line or PDF (added, changed or removed) a new one.
# Airbyte's Postgres source detects changes by xmin the same way. Rows restored elsewhere get
# new xmins: their documents are then evaluated once more, nothing worse.
_SOURCES = """
SELECT d.id, md5(ROW(d.xmin, e.xmin, c.xmin, o.xmin,
    (SELECT array_agg(l.xmin ORDER BY l.position) FROM invoice_lines l WHERE l.invoice_id = d.id),
    (SELECT p.xmin FROM invoice_pdfs p WHERE p.invoice_id = d.id))::text)
FROM invoices d
JOIN invoicing_entities e ON e.id = d.invoicing_entity_id
JOIN customers c ON c.id = d.customer_id
LEFT JOIN invoices o ON o.id = d.original_invoice_id
WHERE d.issued_at >= %(start)s AND d.issued_at < %(end)s AND d.status <> 'draft'
"""


def read_sources(conn: Connection, start: datetime, end: datetime) -> dict[str, str]:
    """The source digest (see `_SOURCES`) of each document `read_documents` reads for
    [start, end), in its order."""
    return dict(
        conn.execute(
            _SOURCES + " ORDER BY d.issued_at, d.id", {"start": start, "end": end}
        ).fetchall()
    )


@dataclass(frozen=True, slots=True)
class PdfDigest:
    """A billing PDF without its bytes."""

    file_name: str
    size: int  # bytes
    sha256: str  # of the bytes, hex


@dataclass(frozen=True, slots=True)
class DocumentSummary(Signed):
    """A billing document without its lines' details or its PDF's bytes: what staging needs
    (its ledger columns, what blocks it, its hashes). Its own columns are `BillingDocument`'s,
    in `billing.read.DOCUMENT_FIELDS` order (built from them by position)."""

    id: str
    number: str
    type: DocumentType
    status: DocumentStatus
    currency: str
    issued_at: datetime
    due_at: datetime | None
    amount_excluding_tax: int
    tax_amount: int
    total_amount: int
    original_invoice_id: str | None
    original_invoice_number: str | None
    purchase_order: str | None
    created_at: datetime
    updated_at: datetime
    entity: InvoicingEntity
    customer: Customer
    line_keys: tuple[tuple[int, str | None, str], ...]  # `BillingDocument.line_keys`
    lines_json: str  # the lines as `hashes` encodes them
    pdf: PdfDigest | None  # None: the billing system holds no PDF for it
    source_digest: str | None  # which versions of billing's rows it was read from (`read_sources`)

    @property
    def line_count(self) -> int:
        return len(self.line_keys)

    @property
    def pdf_size(self) -> int | None:
        return self.pdf.size if self.pdf else None

    @property
    def content_hash(self) -> str:
        """`hashing.hashes(…).content` of the document read whole (the same digest)."""
        pdf = (self.pdf.file_name, self.pdf.sha256) if self.pdf else None
        return content_of(self, self.lines_json, pdf)


# What staging takes: a document read whole, or its summary.
Staged = BillingDocument | DocumentSummary


def read_summaries(
    conn: Connection,
    start: datetime,
    end: datetime,
    sources: dict[str, str] | None = None,
    ids: list[str] | None = None,
) -> tuple[list[DocumentSummary], list[str]]:
    """The summaries of the documents `read_documents` reads for [start, end) (and, given
    `ids`, among them), in its order, with their `sources` (read in the same transaction), and
    the ids of those Postgres cannot hash in Python's form (a quantity or price below 10⁻⁶):
    read those whole."""
    sources = sources or {}
    headers = read_headers(conn, start, end, ids)
    if not headers:
        return [], []
    ids = [header.id for header in headers]
    lines = {
        row[0]: row[1:]
        for row in conn.execute(
            _LINES.format(optional=optional_line_columns(conn)), {"ids": ids}
        ).fetchall()
    }
    with conn.cursor(binary=True) as cursor:
        pdfs = {
            doc_id: PdfDigest(file_name, len(content), hashlib.sha256(content).hexdigest())
            for doc_id, file_name, content in cursor.execute(PDFS, {"ids": ids}).fetchall()
        }
    summaries, whole = [], []
    for header in headers:
        doc_id = header.id
        lines_json, plain = lines.get(doc_id, ("[]", True))
        if not plain:
            whole.append(doc_id)
            continue
        # Decoded, then encoded as `hashes` encodes lines: Python's escapes, whatever
        # Postgres's. Each line is [position, product, …, tax rate at 6, …].
        values = json.loads(lines_json)
        summaries.append(
            DocumentSummary(
                *header.own,
                header.entity,
                header.customer,
                tuple((line[0], line[1], line[6]) for line in values),
                canonical_lines(values),
                pdfs.get(doc_id),
                sources.get(doc_id),
            )
        )
    return summaries, whole
