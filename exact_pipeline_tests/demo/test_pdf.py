"""Template-rendered PDFs: they open, hold the document's facts, and keep a valid xref table."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from pypdf import PdfReader

from exact_pipeline.demo.pdf import render_pdf
from exact_pipeline_tests.billing.conftest import CUSTOMERS, make_document

ISSUED = datetime(2026, 11, 20, 23, 30, tzinfo=UTC)  # the 21st in Amsterdam


def text_of(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf), strict=True)
    return "\n".join(page.extract_text() for page in reader.pages)


def assert_xref_points_at_objects(pdf: bytes) -> None:
    """Every offset in the cross-reference table is where its object starts."""
    start = int(re.search(rb"startxref\s+(\d+)", pdf).group(1))  # type: ignore[union-attr]
    table = pdf[start:].split(b"trailer")[0].split(b"\n")
    first, count = map(int, table[1].split())
    entries = [row for row in table[2:] if row.strip()]
    assert len(entries) == count
    for number, row in enumerate(entries, start=first):
        offset, _, kind = row.split()
        if kind == b"n":
            assert pdf[int(offset) :].startswith(f"{number} 0 obj".encode())


def test_an_invoice_pdf_holds_its_facts() -> None:
    document = make_document(
        "nl-2026-000123",
        ISSUED,
        [
            ("prod_team", "1", "9900", "tax_nl_21"),
            ("prod_api_calls", "534.862", "29.75", "tax_nl_21"),
            ("prod_ebook", "3", "3900", "tax_nl_9"),
            (None, "1", "-1500", "tax_nl_21"),
        ],
    )
    pdf = render_pdf(document)
    text = text_of(pdf)
    assert_xref_points_at_objects(pdf)
    assert "NL-2026-000123" in text and "INVOICE" in text
    assert "Zeeën & Ærø B.V. (test)" in text  # non-ASCII and parentheses survive
    assert "Straße 1" in text and "VAT NL000000001B01" in text
    assert "2026-11-21" in text  # the issue date in the entity's zone
    # 9900 + 15912 (534.862 × 29.75 = 15912.1…) + 11700 - 1500 = 36012; VAT per line, per rate:
    # 21 %: 2079 + 3342 - 315 = 5106, 9 %: 1053; total 36012 + 6159 = 42171
    assert re.search(r"534\.862\s+0\.2975\s+21%\s+159\.12", text)
    assert re.search(r"Subtotal\s+360\.12", text)
    assert re.search(r"VAT 21% of 243\.12\s+51\.06", text)
    assert re.search(r"VAT 9% of 117\.00\s+10\.53", text)
    assert re.search(r"Total EUR\s+421\.71", text)
    assert document.total_amount == 42171


def test_a_credit_note_pdf_names_the_invoice_it_corrects() -> None:
    invoice = make_document("be-2026-000001", ISSUED, [("prod_team", "1", "9900", "tax_be_21")])
    credit = make_document(
        "cn-be-2026-000001",
        ISSUED,
        [("prod_team", "1", "9900", "tax_be_21")],
        customer="cus_b",
        entity="ent_be",
        type="credit_note",
        original=invoice,
    )
    text = text_of(render_pdf(credit))
    assert "CREDIT NOTE" in text and "CN-BE-2026-000001" in text
    assert "corrects invoice BE-2026-000001" in text
    assert "Cloudmeter België BV" in text


def test_pdfs_are_reproducible_and_identified_per_document() -> None:
    first = make_document("inv_1", ISSUED)
    second = make_document("inv_2", ISSUED)
    ids = [PdfReader(io.BytesIO(render_pdf(d))).trailer["/ID"][0] for d in (first, second)]
    assert render_pdf(first) == render_pdf(first)
    assert ids[0] != ids[1]


def test_texts_that_do_not_fit_are_cut_or_transliterated() -> None:
    customer = replace(CUSTOMERS["cus_a"], name="Şahin Łódź " + "Very Long Name " * 8)
    document = replace(make_document("inv_long", ISSUED), customer=customer)
    pdf = render_pdf(document)
    assert_xref_points_at_objects(pdf)
    text = text_of(pdf)
    # Ş has a plain form, Ł has none; the name is cut to its 50 places
    assert "\nSahin ?ódz Very Long Name Very Long Name Very Lon…\n" in text


def test_a_figure_wider_than_its_column_is_an_error() -> None:
    document = make_document("inv_huge", ISSUED, [("prod_sms", "123456789012.5", "7", "tax_nl_21")])
    with pytest.raises(ValueError, match="does not fit"):
        render_pdf(document)
