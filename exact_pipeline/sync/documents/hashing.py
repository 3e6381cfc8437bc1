"""A billing document's identities (`Hashes`): what its Exact payload is made of, hashed in
the form ledgers hold, so a change after posting is seen.

Two roads to the same bytes. `hashes` takes a document read whole. `hashes_of` and `content_of`
take its header and its lines' JSON: Postgres forms that (`LINE_JSON`), Python decodes it and
encodes it as it encodes lines (`canonical_lines`), so a stage hashes a year without building
a Python object per line (summaries.py). The tests hold both roads to the same digests, edge
cases included.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from json.encoder import encode_basestring_ascii  # type: ignore[attr-defined]
from typing import Any, Protocol

from exact_pipeline.billing.models import BillingDocument, Customer, DocumentLine, InvoicingEntity


@dataclass(frozen=True)
class Hashes:
    """A document's identities, computed once per run (the PDF's bytes are hashed once)."""

    content: str  # what the Exact payload is made of (`content_hash`)
    pdf: str | None  # the billing PDF's file name and bytes, None without a PDF
    # `content` without the PDF: equal after a change, only the PDF changed (corrections.py)
    entry: str


class Header(Protocol):
    """What of a document's header the content hash covers (a `BillingDocument` has it all)."""

    number: str
    type: str
    currency: str
    issued_at: datetime
    due_at: datetime | None
    amount_excluding_tax: int
    tax_amount: int
    total_amount: int
    original_invoice_id: str | None
    purchase_order: str | None
    entity: InvoicingEntity
    customer: Customer


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":")).encode


def hashes(document: BillingDocument) -> Hashes:
    """What the Exact payload is made of, hashed (`content`): a change here after posting is a
    change Exact does not know about. Status and payments are left out (paying an invoice
    changes neither its lines nor its amounts), as are customer details (the account is linked
    once). And the PDF's identity (`pdf`): what the ledger records for the attachment in Exact,
    so a PDF corrected in billing before the entry is posted is seen."""
    pdf = document.pdf
    lines = canonical_lines(
        [
            [
                line.position,
                line.product.id if line.product else None,
                line.description,
                str(line.quantity),
                str(line.unit_amount),
                line.amount_excluding_tax,
                line.tax_rate.id,
                line.tax_amount,
                *_period_parts(line),
            ]
            for line in document.lines
        ]
    )
    if pdf is None:
        return hashes_of(document, lines, None)
    return hashes_of(document, lines, (pdf.file_name, hashlib.sha256(pdf.content).hexdigest()))


def hashes_of(header: Header, lines_json: str, pdf: tuple[str, str] | None) -> Hashes:
    """`hashes` from the header, the lines as canonical JSON and the PDF's (file name, SHA-256
    of its bytes)."""
    head, tail = _around_pdf(header, lines_json)
    entry = f"{head}null{tail}"
    if pdf is None:
        return Hashes(content=_sha(entry), pdf=None, entry=_sha(entry))
    name = encode_basestring_ascii(pdf[0])
    # The PDF's digest keeps the form ledgers already hold (`attachment_digest`):
    # json.dumps([file name, sha]), with its default separators.
    pdf_digest = _sha(f'[{name}, "{pdf[1]}"]')
    return Hashes(
        content=_sha(f'{head}[{name},"{pdf[1]}"]{tail}'), pdf=pdf_digest, entry=_sha(entry)
    )


def content_of(header: Header, lines_json: str, pdf: tuple[str, str] | None) -> str:
    """`hashes_of(…).content` alone (what a stage records)."""
    head, tail = _around_pdf(header, lines_json)
    if pdf is None:
        return _sha(f"{head}null{tail}")
    return _sha(f'{head}[{encode_basestring_ascii(pdf[0])},"{pdf[1]}"]{tail}')


def _around_pdf(header: Header, lines_json: str) -> tuple[str, str]:
    """The canonical text before and after the PDF's parts.

    The form ledgers hold: json.dumps(content, sort_keys=True, separators=(",", ":")) of the
    keys below, with the PDF's parts at "pdf" (`entry`: "pdf" null), written out in that
    order (a dict through `json` costs twice as much; the tests hold the two equal)."""
    head = (
        f'{{"amounts":[{header.amount_excluding_tax},{header.tax_amount},{header.total_amount}]'
        f',"currency":{_string(header.currency)},"customer":{_string(header.customer.id)}'
        f',"due_at":{_string(header.due_at and header.due_at.isoformat())}'
        f',"entity":{_string(header.entity.id)},"issued_at":"{header.issued_at.isoformat()}"'
        f',"lines":{lines_json},"number":{_string(header.number)}'
        f',"original":{_string(header.original_invoice_id)},"pdf":'
    )
    return (
        head,
        f',"purchase_order":{_string(header.purchase_order)},"type":{_string(header.type)}}}',
    )


def _string(text: str | None) -> str:
    return "null" if text is None else encode_basestring_ascii(text)


def canonical_lines(lines: list[list[Any]]) -> str:
    """The lines as the content hash holds them (`json`'s escapes, no spaces)."""
    return _CANONICAL(lines)


def content_hash(document: BillingDocument) -> str:
    return hashes(document).content


def _period_parts(line: DocumentLine) -> list[str | None]:
    """A line's service period for the hash, only when it has one: a document without one
    keeps the hash it was posted with before billing had the columns."""
    if line.period_start is None and line.period_end is None:
        return []
    return [_iso(line.period_start), _iso(line.period_end)]


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


# --- the lines' JSON, formed by Postgres --------------------------------------------------------

_LINE = (
    "l.position, l.product_id, l.description, l.quantity::text, l.unit_amount::text,"
    " l.amount_excluding_tax, l.tax_rate_id, l.tax_amount"
)
# One line of `hashes`' lines list as JSON, in SQL over `invoice_lines` aliased `l` (with its
# product and tax rate ids and both period columns). Decoded, its values are Python's: the
# strings as they are, Postgres's `numeric` text is Python's `str` of the Decimal read from it
# (but see `LINES_PLAIN`), the days ISO, the period only when the line has one.
LINE_JSON = f"""CASE WHEN l.period_start IS NULL AND l.period_end IS NULL
    THEN json_build_array({_LINE})
    ELSE json_build_array({_LINE}, to_char(l.period_start, 'YYYY-MM-DD'),
                          to_char(l.period_end, 'YYYY-MM-DD')) END"""


def _plain(column: str) -> str:
    """Whether Python prints the numeric as Postgres does: it switches to an exponent below
    10⁻⁶ (Decimal('1.2E-7'), Decimal('0E-7')), Postgres never does."""
    return f"(l.{column} <> 0 AND abs(l.{column}) >= 0.000001 OR scale(l.{column}) <= 6)"


# Whether `LINE_JSON` holds Python's values for all of a document's lines (aggregated per
# document).
LINES_PLAIN = f"bool_and({_plain('quantity')} AND {_plain('unit_amount')})"
