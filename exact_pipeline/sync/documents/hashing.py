"""A billing document's identities (`Hashes`): what its Exact payload is made of, hashed in
the form ledgers hold, so a change after posting is seen.

Two roads to the same bytes. `hashes` takes a document read whole. A stage has Postgres write
the canonical text with a mark for the PDF's parts (`CANONICAL`), then hashes it with the PDF's
(`content_of`): a year is hashed without a Python object per line or per value
(summaries.py). The tests hold both roads to the same digests, edge cases included.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from json.encoder import encode_basestring_ascii  # type: ignore[attr-defined]

from exact_pipeline.billing.models import BillingDocument, DocumentLine


@dataclass(frozen=True)
class Hashes:
    """A document's identities, computed once per run (the PDF's bytes are hashed once)."""

    content: str  # what the Exact payload is made of (`content_hash`)
    pdf: str | None  # the billing PDF's file name and bytes, None without a PDF
    # `content` without the PDF: equal after a change, only the PDF changed (corrections.py)
    entry: str


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":")).encode


def hashes(document: BillingDocument) -> Hashes:
    """What the Exact payload is made of, hashed (`content`): a change here after posting is a
    change Exact does not know about. Status and payments are left out (paying an invoice
    changes neither its lines nor its amounts), as are customer details (the account is linked
    once). And the PDF's identity (`pdf`): what the ledger records for the attachment in Exact,
    so a PDF corrected in billing before the entry is posted is seen."""
    lines = _CANONICAL(
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
    canonical = _around_pdf(document, lines).encode()
    entry = content_of(canonical, None)
    if document.pdf is None:
        return Hashes(content=entry, pdf=None, entry=entry)
    pdf = (document.pdf.file_name, hashlib.sha256(document.pdf.content).hexdigest())
    # The PDF's digest keeps the form ledgers already hold (`attachment_digest`):
    # json.dumps([file name, sha]), with its default separators.
    pdf_digest = _sha(f'[{encode_basestring_ascii(pdf[0])}, "{pdf[1]}"]')
    return Hashes(content=content_of(canonical, pdf), pdf=pdf_digest, entry=entry)


# Where the PDF's parts go in the canonical text: JSON holds no raw control character.
_PDF_AT = "\x01"
_PDF_AT_BYTES = _PDF_AT.encode()
# Where Postgres leaves the moments for Python to write (`with_moments`).
_DUE_AT, _ISSUED_AT = "\x02", "\x03"
_DUE_AT_BYTES, _ISSUED_AT_BYTES = _DUE_AT.encode(), _ISSUED_AT.encode()


def content_of(canonical: bytes, pdf: tuple[str, str] | None) -> str:
    """`hashes(…).content` from the canonical text with `_PDF_AT` for the PDF's parts
    (`_around_pdf`, or Postgres's `CANONICAL` made ASCII), encoded, and the PDF's (file name,
    SHA-256 of its bytes); `entry` without a PDF."""
    part = b"null" if pdf is None else f'[{encode_basestring_ascii(pdf[0])},"{pdf[1]}"]'.encode()
    return hashlib.sha256(canonical.replace(_PDF_AT_BYTES, part, 1)).hexdigest()[:32]


def with_moments(canonical: bytes, issued_at: datetime, due_at: datetime | None) -> bytes:
    """`CANONICAL`'s text (made ASCII) with the document's moments written in as `_around_pdf`
    writes them: Python's `isoformat`, in the zone psycopg read them in, whatever its offset
    (a local mean time's has seconds, which no `to_char` pattern writes)."""
    due = b"null" if due_at is None else b'"%s"' % due_at.isoformat().encode()
    issued = b'"%s"' % issued_at.isoformat().encode()
    return canonical.replace(_DUE_AT_BYTES, due, 1).replace(_ISSUED_AT_BYTES, issued, 1)


def _around_pdf(document: BillingDocument, lines_json: str) -> str:
    """The canonical text, with `_PDF_AT` for the PDF's parts.

    The form ledgers hold: json.dumps(content, sort_keys=True, separators=(",", ":")) of the
    keys below, with the PDF's parts at "pdf" (`entry`: "pdf" null), written out in that
    order (a dict through `json` costs twice as much; the tests hold the two equal)."""
    d = document
    return (
        f'{{"amounts":[{d.amount_excluding_tax},{d.tax_amount},{d.total_amount}]'
        f',"currency":{_string(d.currency)},"customer":{_string(d.customer.id)}'
        f',"due_at":{_string(d.due_at and d.due_at.isoformat())}'
        f',"entity":{_string(d.entity.id)},"issued_at":"{d.issued_at.isoformat()}"'
        f',"lines":{lines_json},"number":{_string(d.number)}'
        f',"original":{_string(d.original_invoice_id)},"pdf":{_PDF_AT}'
        f',"purchase_order":{_string(d.purchase_order)},"type":{_string(d.type)}}}'
    )


def _string(text: str | None) -> str:
    return "null" if text is None else encode_basestring_ascii(text)


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


# --- the canonical text, formed by Postgres ---------------------------------------------------
# `_around_pdf`'s text, in SQL over `invoices` aliased `d` and the document's lines'
# aggregate `l` (`CANONICAL_LINES` as `text`), with two differences Python undoes: Postgres's
# `to_json` escapes what `json` escapes below U+007F, the same way, and leaves the rest as it is
# (`ascii_json`); the moments are marks Python writes (`with_moments`). A summary's digest is
# then those and one SHA-256 in Python (summaries.py); the tests hold both roads to the same
# digests, edge cases included.


def _sql_json(text: str) -> str:
    """A text value (or NULL) as JSON."""
    return f"coalesce(to_json({text})::text, 'null')"


def _sql_day(day: str) -> str:
    return f"""coalesce('"' || to_char({day}, 'YYYY-MM-DD') || '"', 'null')"""


# One line of `hashes`' lines list, over `invoice_lines` aliased `l` (both period columns): the
# numerics as Postgres prints them, which is Python's `str` of their Decimal (but see
# `LINES_PLAIN`); the period only when the line has one.
CANONICAL_LINE = f"""'[' || l.position || ',' || {_sql_json("l.product_id")} || ','
    || {_sql_json("l.description")} || ',"' || l.quantity::text || '","' || l.unit_amount::text
    || '",' || l.amount_excluding_tax || ',' || {_sql_json("l.tax_rate_id")}
    || ',' || l.tax_amount || CASE WHEN l.period_start IS NULL AND l.period_end IS NULL THEN ''
       ELSE ',' || {_sql_day("l.period_start")} || ',' || {_sql_day("l.period_end")} END || ']'"""
CANONICAL_LINES = f"'[' || string_agg({CANONICAL_LINE}, ',' ORDER BY l.position) || ']'"

# `_around_pdf`'s text. One `concat`, not a chain of `||`: each `||` would copy the lines' text
# again.
CANONICAL = f"""concat('{{"amounts":[', d.amount_excluding_tax, ',', d.tax_amount, ',',
    d.total_amount, '],"currency":', {_sql_json("d.currency")},
    ',"customer":', {_sql_json("d.customer_id")},
    ',"due_at":', chr({ord(_DUE_AT)}), ',"entity":', {_sql_json("d.invoicing_entity_id")},
    ',"issued_at":', chr({ord(_ISSUED_AT)}), ',"lines":', coalesce(l.text, '[]'),
    ',"number":', {_sql_json("d.number")}, ',"original":', {_sql_json("d.original_invoice_id")},
    ',"pdf":', chr({ord(_PDF_AT)}), ',"purchase_order":', {_sql_json("d.purchase_order")},
    ',"type":', {_sql_json("d.type::text")}, '}}')"""


def _plain(column: str) -> str:
    """Whether Python prints the numeric as Postgres does: it switches to an exponent below
    10⁻⁶ (Decimal('1.2E-7'), Decimal('0E-7')), Postgres never does."""
    return f"(l.{column} <> 0 AND abs(l.{column}) >= 0.000001 OR scale(l.{column}) <= 6)"


# Whether `CANONICAL_LINE` holds Python's values for all of a document's lines (aggregated per
# document).
LINES_PLAIN = f"bool_and({_plain('quantity')} AND {_plain('unit_amount')})"
# After `encode("ascii", "backslashreplace")`: its escapes of U+0080 to U+00FF (`\xe9`) and
# beyond the BMP (`\U0001f9fe`), each after an even run of backslashes (escaped ones are pairs).
_LATIN = re.compile(rb"(?<!\\)((?:\\\\)*)\\x")
_ASTRAL = re.compile(rb"(?<!\\)((?:\\\\)*)\\U([0-9a-f]{8})")


def _surrogates(match: re.Match[bytes]) -> bytes:
    code = int(match.group(2), 16) - 0x10000  # a surrogate pair, as `json` writes it
    return match.group(1) + b"\\u%04x\\u%04x" % (0xD800 | code >> 10, 0xDC00 | code & 0x3FF)


def ascii_json(text: str) -> bytes:
    """Postgres's JSON text as `json` writes it (`ensure_ascii`), encoded: every character from
    U+007F up as its escape (control characters are escaped already, the same way). Python's
    own escapes do it in C; they differ from JSON's only below U+0100 and beyond the BMP."""
    if text.isascii():
        return text.encode().replace(b"\x7f", b"\\u007f")
    escaped = text.encode("ascii", "backslashreplace").replace(b"\x7f", b"\\u007f")
    # JSON's own escapes never put an `x` after a backslash; a literal backslash (an escaped
    # pair) may: then the exact, slower way.
    if "\\\\" in text:
        latin = _LATIN.sub(rb"\1\\u00", escaped)
    else:
        latin = escaped.replace(b"\\x", b"\\u00")
    return _ASTRAL.sub(_surrogates, latin) if b"\\U" in latin else latin
