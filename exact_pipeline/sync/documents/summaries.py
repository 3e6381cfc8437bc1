"""A window's documents as a stage needs them (`DocumentSummary`), read at a fraction of the
cost of reading them whole: Postgres writes each document's canonical text (hashing.py) and
hashes its PDF, so Python builds no object per line or per value and receives no PDF's bytes: a
stage of a year builds no million objects it would drop at once.

At most two queries a day, whatever the number of documents: the documents' sources (which
versions of billing's rows they are: `read_sources`, only when the ledger holds rows staged on
that day), then, for those to read, the documents with their lines' aggregate and their PDFs'
digests.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from exact_pipeline.billing.models import (
    BillingDocument,
    DocumentStatus,
    DocumentType,
    InvoicingEntity,
    Signed,
)
from exact_pipeline.billing.read import Connection, optional_line_columns
from exact_pipeline.sync.documents.hashing import (
    CANONICAL,
    CANONICAL_LINES,
    LINES_PLAIN,
    ascii_json,
    content_of,
    with_moments,
)

# The documents `read_documents` reads for [start, end) (and, given `ids`, among them).
_READ = """d.issued_at >= %(start)s AND d.issued_at < %(end)s AND d.status <> 'draft'
    AND (%(ids)s::text[] IS NULL OR d.id = ANY (%(ids)s))"""

# Which versions of billing's rows a document's ledger row is staged from (over `_from`):
# Postgres gives every write of a row a new `xmin` (the writing transaction), so the same
# digest means the same rows as they were, and a changed row, line or PDF (added, changed or
# removed) a new one. Airbyte's Postgres source detects changes by xmin the same way. Rows
# restored elsewhere get new xmins: their documents are then evaluated once more, nothing worse.
_SOURCE_DIGEST = "md5(ROW(d.xmin, e.xmin, c.xmin, o.xmin, l.versions, p.xmin)::text)"
_VERSIONS = "array_agg(l.version ORDER BY l.position) AS versions"


def _from(aggregates: str, optional: str = "NULL::date, NULL::date") -> str:
    """The documents `_READ` selects, as `d`, with their entity `e`, customer `c` (its name and
    xmin), original `o`, PDF `p`, and `aggregates` of their lines `l` (`version`: a line's xmin;
    no row without lines), over the optional line columns `optional`
    (`billing.read.optional_line_columns`). The lines are aggregated per document, straight
    from their index in position order: no sort, no second pass over the day's invoices."""
    return f"""
FROM invoices d
JOIN invoicing_entities e ON e.id = d.invoicing_entity_id
-- A lookup per document (OFFSET 0 keeps it one): hashing every customer costs more per day.
JOIN LATERAL (SELECT c.name, c.xmin FROM customers c WHERE c.id = d.customer_id OFFSET 0) c
    ON true
LEFT JOIN invoices o ON o.id = d.original_invoice_id
LEFT JOIN invoice_pdfs p ON p.invoice_id = d.id
LEFT JOIN LATERAL (
    SELECT {aggregates}
    FROM (SELECT l.xmin, l.position, l.product_id, l.description, l.quantity,
                 l.unit_amount, l.amount_excluding_tax, l.tax_rate_id, l.tax_amount, {optional}
          FROM invoice_lines l WHERE l.invoice_id = d.id)
         AS l (version, position, product_id, description, quantity, unit_amount,
               amount_excluding_tax, tax_rate_id, tax_amount, period_start, period_end)
    HAVING count(*) > 0) l ON true
WHERE {_READ}
ORDER BY d.issued_at, d.id
"""


@cache
def _summaries(optional: str) -> str:
    """The query of the summaries, with the optional line columns `optional`."""
    lines = f"""count(*) AS count,
        json_agg(json_build_array(l.position, l.product_id, l.tax_rate_id)
                 ORDER BY l.position)::text AS keys,
        {LINES_PLAIN} AS plain, {CANONICAL_LINES} AS text, {_VERSIONS}"""
    return f"""
SELECT d.id, d.number, d.type, d.status, d.currency, d.issued_at,
       d.amount_excluding_tax, d.tax_amount, d.total_amount,
       e.id, e.name, e.country, e.currency, e.timezone, d.customer_id, c.name,
       coalesce(l.count, 0), coalesce(l.keys, '[]'), coalesce(l.plain, true),
       {CANONICAL}, {_SOURCE_DIGEST},
       -- Postgres hashes the PDF: Python, the stage's busier half, then receives none.
       p.file_name, octet_length(p.content), encode(sha256(p.content), 'hex'), d.due_at
{_from(lines, optional)}"""


_OWN = slice(9)  # the summary's own fields, in its order
_ENTITY = slice(9, 14)
_COMPUTED = slice(14, 21)  # the customer's id and name, the lines' aggregates, the digests
_PLAIN = 18  # whether Postgres writes the document as Python does
_PDF_AND_DUE = slice(21, None)
_SOURCES = f"SELECT d.id, {_SOURCE_DIGEST} {_from(_VERSIONS)}"


def read_sources(conn: Connection, start: datetime, end: datetime) -> dict[str, str]:
    """The source digest (`_SOURCE_DIGEST`) of each document `read_documents` reads for
    [start, end), in its order."""
    return dict(conn.execute(_SOURCES, {"start": start, "end": end, "ids": None}).fetchall())


@dataclass(slots=True)
class CustomerName:
    """A document's customer as the ledger names it."""

    id: str
    name: str


@dataclass(slots=True)  # not frozen: five times cheaper to build (see billing.models)
class DocumentSummary(Signed):
    """A billing document without its lines or its PDF: what staging needs (its ledger
    columns, what blocks it, its content hash), by `BillingDocument`'s names."""

    id: str
    number: str
    type: DocumentType
    status: DocumentStatus
    currency: str
    issued_at: datetime
    amount_excluding_tax: int
    tax_amount: int
    total_amount: int
    entity: InvoicingEntity
    customer: CustomerName
    line_count: int
    # `line_keys` as JSON: what `transform.blocking` remembers a verdict by
    line_structure: str
    pdf_name: str | None  # its file name; None: the billing system holds no PDF for it
    pdf_size: int | None  # bytes
    content_hash: str  # `hashing.hashes(…).content` of the document read whole
    source_digest: str  # which versions of billing's rows it was read from (`_SOURCE_DIGEST`)

    @property
    def line_keys(self) -> tuple[tuple[int, str | None, str], ...]:
        """`BillingDocument.line_keys`."""
        return tuple((key[0], key[1], key[2]) for key in json.loads(self.line_structure))


# What staging takes: a document read whole, or its summary.
Staged = BillingDocument | DocumentSummary


# A summary as Postgres sends it (`fetch_summaries`), before `summarise`.
SummaryRow = tuple[Any, ...]


def fetch_summaries(
    conn: Connection, start: datetime, end: datetime, ids: list[str] | None = None
) -> list[SummaryRow]:
    """The rows of the documents `read_documents` reads for [start, end) (and, given `ids`,
    among them), in its order, for `summarise`; `unsummarised` names those to read whole. One
    statement, so each document's row, lines and PDF are of one snapshot; the caller's
    REPEATABLE READ keeps those read whole after it in the same one. Apart from `summarise`,
    so a thread that reads does little more than wait for Postgres."""
    params = {"start": start, "end": end, "ids": ids}
    with conn.cursor(binary=True) as cursor:
        return cursor.execute(_summaries(optional_line_columns(conn)), params).fetchall()


def unsummarised(rows: list[SummaryRow]) -> list[str]:
    """The ids of the documents of `rows` Postgres cannot write in Python's form (a quantity
    or price below 10⁻⁶): read those whole."""
    return [row[0] for row in rows if not row[_PLAIN]]


def summarise(rows: list[SummaryRow]) -> list[DocumentSummary]:
    """The summaries of `rows` (all but `unsummarised`)."""
    entities: dict[str, InvoicingEntity] = {}
    customers: dict[str, CustomerName] = {}
    summaries = []
    for row in rows:
        if not row[_PLAIN]:
            continue
        customer_id, name, line_count, keys, _, canonical, source = row[_COMPUTED]
        pdf_name, pdf_size, pdf_sha, due_at = row[_PDF_AND_DUE]
        entity_row = row[_ENTITY]
        # One object per entity and customer, however many documents share it.
        entity = entities.get(entity_row[0]) or entities.setdefault(
            entity_row[0], InvoicingEntity(*entity_row)
        )
        customer = customers.get(customer_id) or customers.setdefault(
            customer_id, CustomerName(customer_id, name)
        )
        pdf = (pdf_name, pdf_sha) if pdf_size is not None else None
        summaries.append(
            DocumentSummary(
                *row[_OWN],
                entity,
                customer,
                line_count,
                keys,
                pdf_name,
                pdf_size,
                content_of(with_moments(ascii_json(canonical), row[5], due_at), pdf),
                source,
            )
        )
    return summaries
