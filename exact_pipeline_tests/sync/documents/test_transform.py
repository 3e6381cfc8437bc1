"""The pure parts: money, shortening, the quantity × price that equals billing's amount, the
payload guards, what the content hash sees and what the mapping blocks."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from uuid import uuid4

import pytest
from pydantic import ValidationError

from exact_pipeline.billing.models import (
    BillingDocument,
    Customer,
    DocumentLine,
    DocumentPdf,
    InvoicingEntity,
    Payment,
    Product,
    TaxRate,
)
from exact_pipeline.exact.fields import ELLIPSIS, fit, shorten
from exact_pipeline.exact.payloads import SalesEntryLinePayload, SalesEntryPayload
from exact_pipeline.mapping import Blocked, Mappings, load_mappings
from exact_pipeline.sync.core.money import to_major
from exact_pipeline.sync.documents.hashing import content_hash, hashes
from exact_pipeline.sync.documents.transform import (
    DocumentPlan,
    plan_document,
    quoting_original,
)
from exact_pipeline_tests.conftest import REPO

NL = InvoicingEntity("ent_nl", "Cloudmeter B.V.", "NL", "EUR", "Europe/Amsterdam")
RATE = TaxRate("tax_nl_21", "ent_nl", "BTW hoog 21%", Decimal(21))
WHEN = datetime(2026, 11, 19, 23, 30, tzinfo=UTC)  # already the 20th in Amsterdam
CUSTOMER = Customer("cus_1", "Klant", None, None, None, None, None, None, "NL", WHEN, WHEN)


def line(
    position: int, product: str | None, quantity: str, unit: str, amount: int, tax: int
) -> DocumentLine:
    return DocumentLine(
        f"l{position}",
        position,
        Product(product, product) if product else None,
        f"Line {position}",
        Decimal(quantity),
        Decimal(unit),
        amount,
        RATE,
        tax,
    )


def document(*lines: DocumentLine, credit: bool = False) -> BillingDocument:
    excl = sum(x.amount_excluding_tax for x in lines)
    tax = sum(x.tax_amount for x in lines)
    return BillingDocument(
        id="doc_1",
        number="CN-1" if credit else "INV-1",
        type="credit_note" if credit else "invoice",
        status="to_pay",
        entity=NL,
        customer=CUSTOMER,
        currency="EUR",
        issued_at=WHEN,
        due_at=None,
        amount_excluding_tax=excl,
        tax_amount=tax,
        total_amount=excl + tax,
        original_invoice_id="doc_0" if credit else None,
        original_invoice_number="INV-0" if credit else None,
        purchase_order=None,
        created_at=WHEN,
        updated_at=WHEN,
        lines=tuple(lines),
        pdf=DocumentPdf("INV-1.pdf", b"%PDF-1"),
        payments=(),
    )


@pytest.fixture
def mappings() -> Mappings:
    return load_mappings(REPO / "mappings")


def test_money_is_decimal_cents() -> None:
    assert to_major(123456, "EUR") == Decimal("1234.56") and to_major(-5, "EUR") == Decimal("-0.05")
    assert str(to_major(100, "EUR")) == "1.00"


def test_shorten_cuts_with_an_ellipsis_only_when_needed() -> None:
    assert shorten("short", 10) == "short"
    assert shorten("x" * 10, 10) == "x" * 10
    cut = shorten("word " * 20, 12)
    assert len(cut) == 12 and cut.endswith(ELLIPSIS) and cut == "word word w" + ELLIPSIS
    assert fit("SalesEntryLines", "Description", None) is None


def test_plan_signs_amounts_and_keeps_billings_vat(mappings: Mappings) -> None:
    invoice = document(
        line(1, "prod_team", "2", "9900", 19800, 4158),
        # fractions of a cent: sent as one unit at the line amount, billing's figures as a note
        line(2, "prod_api_calls", "1234", "29.75", 36712, 7710),
    )
    plan = plan_document(invoice, mappings)
    assert isinstance(plan, DocumentPlan)
    assert plan.document_date.isoformat() == "2026-11-20"
    first, second = plan.lines
    assert (first.quantity, first.unit_price, first.amount, first.vat) == (
        Decimal(2),
        Decimal("99.00"),
        Decimal("198.00"),
        Decimal("41.58"),
    )
    assert (second.quantity, second.unit_price, second.amount) == (
        Decimal(1),
        Decimal("367.12"),
        Decimal("367.12"),
    )
    assert second.notes == "1234 × 0.2975 (billing's quantity × unit price)"
    assert (plan.amount, plan.vat, plan.total) == (
        Decimal("565.12"),
        Decimal("118.68"),
        Decimal("683.80"),
    )

    credit = plan_document(
        document(line(1, "prod_team", "1", "9900", 9900, 2079), credit=True), mappings, 26700012
    )
    assert isinstance(credit, DocumentPlan)
    (only,) = credit.lines
    assert (only.quantity, only.amount, only.vat) == (
        Decimal(-1),
        Decimal("-99.00"),
        Decimal("-20.79"),
    )
    assert only.codes.gl_account == "8090"  # the credit-note default GL
    assert (
        credit.remarks
        == "Corrects invoice INV-0 (Exact number 26700012); billing credit note CN-1."
    )
    assert credit.description == "Credit note CN-1 for invoice INV-0"


def test_plan_lists_every_cause_that_blocks(mappings: Mappings) -> None:
    unknown_rate = replace(RATE, id="tax_nl_99")
    blocked = plan_document(
        document(
            line(1, "prod_beta_ai", "1", "1900", 1900, 399),
            replace(line(2, None, "1", "100", 100, 21), tax_rate=unknown_rate),
        ),
        mappings,
    )
    assert isinstance(blocked, Blocked)
    message = blocked.message
    assert "line 1: product prod_beta_ai has no row in products.csv" in message
    assert "line 2: a line without a product needs an Exact item" in message
    assert "line 2: tax rate tax_nl_99 has no row in tax_codes.csv" in message


def test_content_hash_sees_content_not_status_or_payments() -> None:
    base = document(line(1, "prod_team", "1", "9900", 9900, 2079))
    paid = replace(
        base,
        status="paid",
        payments=(
            Payment(
                "p",
                "doc_1",
                "INV-1",
                "invoice",
                "ent_nl",
                "cus_1",
                11979,
                "EUR",
                WHEN,
                "ideal",
                "billing",
                None,
                WHEN,
            ),
        ),
    )
    assert content_hash(paid) == content_hash(base)
    changed = replace(base, lines=(replace(base.lines[0], description="Other"),))
    assert content_hash(changed) != content_hash(base)
    new_pdf = replace(base, pdf=DocumentPdf("INV-1.pdf", b"%PDF-2"))
    assert content_hash(new_pdf) != content_hash(base)


def test_payload_guards() -> None:
    good = {
        "GLAccount": uuid4(),
        "AmountFC": Decimal("10.00"),
        "VATCode": "1",
        "VATAmountFC": Decimal("2.10"),
        "Description": "x",
        "Quantity": Decimal(1),
    }
    header = {
        "Customer": uuid4(),
        "Journal": "70",
        "EntryDate": WHEN.date(),
        "YourRef": "INV-1",
        "Description": "Invoice INV-1",
        "Currency": "EUR",
    }
    SalesEntryPayload(**header, VATAmountFC=Decimal("2.10"), SalesEntryLines=[good])
    with pytest.raises(ValidationError, match="header VAT"):
        SalesEntryPayload(**header, VATAmountFC=Decimal("2.11"), SalesEntryLines=[good])
    # a decimal beyond the currency's minor unit would be rounded by someone
    with pytest.raises(ValidationError, match=r"not a whole number of 0\.01"):
        third = good | {"AmountFC": Decimal("10.001")}
        SalesEntryPayload(**header, VATAmountFC=Decimal("2.10"), SalesEntryLines=[third])
    with pytest.raises(ValidationError, match=r"2\.10 JPY is not a whole number of 1"):
        yen = header | {"Currency": "JPY"}
        SalesEntryPayload(**yen, VATAmountFC=Decimal("2.10"), SalesEntryLines=[good])
    with pytest.raises(ValidationError):  # longer than Exact's field: shorten first
        SalesEntryLinePayload(**good | {"Description": "x" * 61})


def test_the_push_quotes_the_original_without_planning_again(mappings: Mappings) -> None:
    """The stage plans once, without the Exact number of the invoice a credit note corrects
    (known only once that invoice is booked); the push adds it to the texts alone."""
    credit = document(line(1, "prod_team", "1", "9900", 9900, 2079), credit=True)
    staged = plan_document(credit, mappings)
    assert isinstance(staged, DocumentPlan)
    assert quoting_original(staged, credit, 26700012) == plan_document(credit, mappings, 26700012)
    assert quoting_original(staged, credit, None) is staged
    invoice = document(line(1, "prod_team", "1", "9900", 9900, 2079))
    planned = plan_document(invoice, mappings)
    assert isinstance(planned, DocumentPlan)
    assert quoting_original(planned, invoice, 26700012) is planned


def test_one_hashing_gives_the_digests_ledgers_already_hold() -> None:
    """Content and PDF digests from one pass over the PDF bytes, in the forms the ledger's
    `payload_hash`/`synced_hash` and `attachment_digest` were recorded in."""
    invoice = document(line(1, "prod_team", "1", "9900", 9900, 2079))
    found = hashes(invoice)
    assert found.content == content_hash(invoice)
    identity = ["INV-1.pdf", hashlib.sha256(b"%PDF-1").hexdigest()]
    assert found.pdf == hashlib.sha256(json.dumps(identity).encode()).hexdigest()[:32]
    assert hashes(replace(invoice, pdf=None)).pdf is None
