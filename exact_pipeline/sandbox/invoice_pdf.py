"""The PDF Exact renders when it processes a sales invoice (PrintedSalesInvoices).

Written directly (one page, Helvetica, one line of text per row): a real, valid PDF without
the start-up cost of a PDF library in the sandbox process.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from exact_pipeline.sandbox.schema import Record


def render_invoice_pdf(subject: str, customer: str, date: datetime, lines: list[Record]) -> bytes:
    amounts = [Decimal(x["AmountFC"]) + Decimal(x["VATAmountFC"]) for x in lines]
    text = [
        subject,
        f"{customer} - {date:%Y-%m-%d}",
        "",
        *(f"{x.get('Description') or ''}: {a:.2f}" for x, a in zip(lines, amounts, strict=True)),
        "",
        f"Total {sum(amounts, Decimal(0)):.2f}",
    ]
    return _pdf(text)


def _literal(line: str) -> bytes:
    raw = line.encode("cp1252", "replace")
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def _pdf(text: list[str]) -> bytes:
    stream = (
        b"BT /F1 11 Tf 50 790 Td 16 TL " + b" ".join(_literal(t) + b" '" for t in text) + b" ET"
    )
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)
