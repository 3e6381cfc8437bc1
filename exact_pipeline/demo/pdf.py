"""Invoice and credit-note PDFs, rendered with fpdf2 fast enough for a hundred thousand documents.

fpdf2 needs about 3 ms to lay out a page, and the demo seeds ~100k documents. So fpdf2 lays out
one template per shape (number of lines, number of VAT rates) in which every variable text is a
fixed-width placeholder, in an uncompressed content stream; a document's PDF is its template
with each placeholder overwritten by the document's text padded to the same width. No byte
offset moves, so the cross-reference table stays valid. Figures are set in Courier, where a
right-aligned number padded with spaces keeps its alignment, and a line's figures (quantity,
unit price, VAT rate, amount) share one placeholder.

The built-in PDF fonts cover Windows-1252 (Western Europe's é, ü, ø, ß, Æ, œ and €); other
characters are transliterated (ş → s) or become "?", which needs no font file and keeps the
files small.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache, lru_cache
from typing import NamedTuple
from zoneinfo import ZoneInfo

from fpdf import FPDF

from exact_pipeline.billing.models import BillingDocument, DocumentLine, TaxRate

_ID_PLACEHOLDER = "F" * 32
_DATE_PLACEHOLDER = datetime(2000, 1, 1, tzinfo=UTC)
_DATE_TEXT = "D:20000101000000Z"  # how fpdf2 writes _DATE_PLACEHOLDER
_CENT = Decimal("0.01")
# Escapes of a PDF literal string; control characters (a newline in a name) become spaces.
_PDF_STRING = str.maketrans(
    {**{chr(code): " " for code in range(32)}, "\\": "\\\\", "(": "\\(", ")": "\\)"}
)
# A line's figures: quantity, unit price, VAT rate, amount (characters, right-aligned).
_LINE_COLUMNS = (12, 13, 7, 15)
_LINE_FIGURES = "{:>12}{:>13}{:>7}{:>15}"
_AMOUNT = 15
_RIGHT_EDGE = 195.0


class _TemplatePdf(FPDF):
    def file_id(self) -> str:
        return f"<{_ID_PLACEHOLDER}><{_ID_PLACEHOLDER}>"


class _Slot(NamedTuple):
    key: str
    width: int
    figures: bool  # ASCII made by this module, right-aligned; otherwise text, left-aligned


class _Layout:
    """Draws a template with fpdf2, recording a placeholder for each variable text."""

    def __init__(self) -> None:
        self.pdf = _TemplatePdf(format="A4", unit="mm")
        self.pdf.set_compression(False)
        self.pdf.set_creation_date(_DATE_PLACEHOLDER)
        self.pdf.set_auto_page_break(False)
        self.pdf.add_page()
        self.slots: dict[str, _Slot] = {}

    def font(self, family: str = "Helvetica", style: str = "", size: float = 9) -> None:
        self.pdf.set_font(family, style, size)

    def label(self, x: float, y: float, text: str, *, right: bool = False) -> None:
        """A fixed text; `right`: x is where it ends."""
        self.pdf.text(x - self.pdf.get_string_width(text) if right else x, y, text)

    def text(self, x: float, y: float, key: str, width: int) -> None:
        """A variable text of at most `width` characters (cut with … when longer)."""
        self._slot(x, y, _Slot(key, width, figures=False))

    def figures(self, y: float, key: str, width: int, *, style: str = "", size: float = 9) -> None:
        """Variable figures in Courier, ending at the right margin."""
        self.font("Courier", style, size)
        self._slot(_RIGHT_EDGE, y, _Slot(key, width, figures=True))

    def _slot(self, x: float, y: float, slot: _Slot) -> None:
        assert slot.width >= 6, "a placeholder needs six characters to be unique"
        token = f"{{{len(self.slots):04d}".ljust(slot.width - 1, "~") + "}"
        self.slots[token] = slot
        self.label(x, y, token, right=slot.figures)

    def rule(self, y: float) -> None:
        self.pdf.line(15, y, _RIGHT_EDGE, y)

    def next_row(self, y: float, step: float = 5) -> float:
        if y + step <= 280:
            return y + step
        self.pdf.add_page()
        return 20


def format_minor(amount: int) -> str:
    """1234567 → '12,345.67' (two decimals: every currency of the demo has cents)."""
    sign = "-" if amount < 0 else ""
    units, cents = divmod(abs(amount), 100)
    return f"{sign}{units:,}.{cents:02d}"


def _draw(layout: _Layout, n_lines: int, n_rates: int) -> None:
    """The page: seller and title, customer and document facts, lines, VAT per rate, totals."""
    layout.font("Helvetica", "B", 15)
    layout.text(15, 20, "entity", 40)
    layout.text(140, 20, "title", 12)
    layout.font("Helvetica", "B", 9)
    layout.label(15, 38, "Bill to")
    layout.font()
    for i, key in enumerate(("customer", "address1", "address2", "city", "country", "vat")):
        layout.text(15, 44 + 5 * i, key, 50)
    facts = ("number", "date", "due", "customer_id", "reference", "original")
    for i, key in enumerate(facts):  # label and value; blank when the document has none
        layout.text(125, 38 + 5 * i, f"{key}_label", 16)
        layout.text(155, 38 + 5 * i, key, 24)

    layout.font("Helvetica", "B", 9)
    layout.label(15, 85, "Description")
    layout.font("Courier", "", 9)
    edge, edges = _RIGHT_EDGE, []
    for width in reversed(_LINE_COLUMNS):
        edges.append(edge)
        edge -= width * layout.pdf.get_string_width("0")
    layout.font("Helvetica", "B", 9)
    for x, text in zip(edges, ("Amount", "VAT", "Unit price", "Qty"), strict=True):
        layout.label(x, 85, text, right=True)
    layout.rule(87)
    y = 87.0
    for i in range(n_lines):
        y = layout.next_row(y)
        layout.font()
        layout.text(15, y, f"line{i}", 50)
        layout.figures(y, f"line{i}.figures", sum(_LINE_COLUMNS))
    y = layout.next_row(y, 3)
    layout.rule(y)

    y = layout.next_row(y)
    layout.font()
    layout.label(110, y, "Subtotal")
    layout.figures(y, "subtotal", _AMOUNT)
    for i in range(n_rates):
        y = layout.next_row(y)
        layout.font()
        layout.text(110, y, f"rate{i}", 34)
        layout.figures(y, f"rate{i}.tax", _AMOUNT)
    y = layout.next_row(y, 6)
    layout.font("Helvetica", "B", 10)
    layout.text(110, y, "total_label", 16)
    layout.figures(y, "total", _AMOUNT, style="B", size=10)
    y = layout.next_row(y, 12)
    layout.font("Helvetica", "", 8)
    layout.text(15, y, "note", 110)


@dataclass(frozen=True)
class _Template:
    """A rendered template cut at its placeholders: chunks[0] field[0] chunks[1] … and, last,
    the file id twice (in the trailer) between the last three chunks."""

    chunks: tuple[bytes, ...]
    fields: tuple[_Slot, ...]
    size: int

    @classmethod
    def render(cls, n_lines: int, n_rates: int) -> _Template:
        layout = _Layout()
        _draw(layout, n_lines, n_rates)
        data = bytes(layout.pdf.output())
        # The creation date (in the Info dictionary) is filled per document too.
        by_token = {**layout.slots, _DATE_TEXT: _Slot("created", len(_DATE_TEXT), figures=True)}
        tokens = [*by_token, _ID_PLACEHOLDER]
        pattern = re.compile(b"|".join(re.escape(token.encode()) for token in tokens))
        matches = list(pattern.finditer(data))
        found = [match.group().decode() for match in matches]
        assert found[-2:] == [_ID_PLACEHOLDER] * 2 and len(set(found[:-2])) == len(by_token)
        cuts = [0, *(i for match in matches for i in match.span()), len(data)]
        chunks = tuple(data[start:end] for start, end in zip(cuts[::2], cuts[1::2], strict=True))
        return cls(chunks, tuple(by_token[token] for token in found[:-2]), len(data))

    def fill(self, values: dict[str, str]) -> bytes:
        texts = [
            values[key].encode().rjust(width) if figures else _fit(values.get(key, ""), width)
            for key, width, figures in self.fields
        ]
        # The file id hashes the document's texts (the rest is the template's): unique per
        # document, and reproducible.
        file_id = hashlib.md5(b"\0".join(texts), usedforsecurity=False).hexdigest().upper()
        parts = [b""] * (2 * len(self.chunks) - 1)
        parts[0::2] = self.chunks
        parts[1::2] = [*texts, file_id.encode(), file_id.encode()]
        data = b"".join(parts)
        if len(data) != self.size:  # a figure wider than its placeholder
            raise ValueError(f"a figure of {values['number']} does not fit its PDF template")
        return data


@cache
def _template(n_lines: int, n_rates: int) -> _Template:
    return _Template.render(n_lines, n_rates)


@lru_cache(maxsize=1 << 17)  # names, addresses and descriptions repeat a lot
def _fit(text: str, width: int) -> bytes:
    """`text` as PDF string bytes of exactly `width` bytes: escaped, cut (…) or padded."""
    encoded = _encode(text.translate(_PDF_STRING))
    while len(encoded) > width:
        text = text[: -2 if text.endswith("…") else -1] + "…"
        encoded = _encode(text.translate(_PDF_STRING))
    return encoded.ljust(width)


def _encode(text: str) -> bytes:
    if text.isascii():
        return text.encode()
    try:
        return text.encode("cp1252")
    except UnicodeEncodeError:
        return "".join(map(_transliterate, text)).encode("cp1252", errors="replace")


def _transliterate(char: str) -> str:
    try:
        char.encode("cp1252")
        return char
    except UnicodeEncodeError:
        bare = "".join(c for c in unicodedata.normalize("NFKD", char) if c.isascii())
        return bare or "?"


def _decimal(value: Decimal) -> str:
    return f"{value.normalize():f}"


def _unit_price(unit_amount: Decimal) -> str:
    """Minor units → currency units, keeping sub-cent precision (2975 → 29.75, 29.75 → 0.2975)."""
    units = (unit_amount / 100).normalize()
    return f"{units:,.2f}" if units == units.quantize(_CENT) else f"{units:,f}"


def _rates(lines: tuple[DocumentLine, ...]) -> list[tuple[TaxRate, int, int]]:
    """(rate, base, tax) per tax rate, highest rate first."""
    totals: dict[str, tuple[TaxRate, int, int]] = {}
    for line in lines:
        rate, base, tax = totals.get(line.tax_rate.id, (line.tax_rate, 0, 0))
        totals[rate.id] = (rate, base + line.amount_excluding_tax, tax + line.tax_amount)
    return sorted(totals.values(), key=lambda t: (-t[0].rate, t[0].id))


def _pdf_date(at: datetime) -> str:
    """D:YYYYMMDDHHmmSSZ (formatted by hand: strftime costs more than the rest of a field)."""
    u = at.astimezone(UTC)
    return f"D:{u.year:04}{u.month:02}{u.day:02}{u.hour:02}{u.minute:02}{u.second:02}Z"


def _values(doc: BillingDocument) -> dict[str, str]:
    zone = ZoneInfo(doc.entity.timezone)
    issued = doc.issued_at.astimezone(zone).date().isoformat()
    due = doc.due_at.astimezone(zone).date().isoformat() if doc.due_at else ""
    customer, total = doc.customer, format_minor(doc.total_amount)
    values = {
        "entity": doc.entity.name,
        "title": "CREDIT NOTE" if doc.is_credit_note else "INVOICE",
        "customer": customer.name,
        "address1": customer.address_line1 or "",
        "address2": customer.address_line2 or "",
        "city": f"{customer.zip or ''} {customer.city or ''}".strip(),
        "country": customer.country,
        "vat": f"VAT {customer.vat_number}" if customer.vat_number else "",
        "number_label": "Number",
        "number": doc.number,
        "date_label": "Date",
        "date": issued,
        "due_label": "Due date" if due else "",
        "due": due,
        "customer_id_label": "Customer",
        "customer_id": customer.id,
        "subtotal": format_minor(doc.amount_excluding_tax),
        "total_label": f"Total {doc.currency}",
        "total": total,
        "created": _pdf_date(doc.issued_at),
    }
    if doc.purchase_order:
        values["reference_label"], values["reference"] = "Your reference", doc.purchase_order
    if doc.original_invoice_number:
        values["original_label"], values["original"] = "Corrects", doc.original_invoice_number
        values["note"] = f"This credit note corrects invoice {doc.original_invoice_number}."
    else:
        values["note"] = f"Please pay {total} {doc.currency} by {due}, quoting {doc.number}."
    for i, line in enumerate(doc.lines):
        values[f"line{i}"] = line.description
        values[f"line{i}.figures"] = _LINE_FIGURES.format(
            _decimal(line.quantity),
            _unit_price(line.unit_amount),
            f"{_decimal(line.tax_rate.rate)}%",
            format_minor(line.amount_excluding_tax),
        )
    for i, (rate, base, tax) in enumerate(_rates(doc.lines)):
        values[f"rate{i}"] = f"VAT {_decimal(rate.rate)}% of {format_minor(base)}"
        values[f"rate{i}.tax"] = format_minor(tax)
    return values


def render_pdf(doc: BillingDocument) -> bytes:
    """The document's PDF: seller, customer, number, dates, lines, VAT per rate and totals."""
    template = _template(len(doc.lines), len({line.tax_rate.id for line in doc.lines}))
    return template.fill(_values(doc))


def pdf_file_name(number: str) -> str:
    return f"{number}.pdf"
