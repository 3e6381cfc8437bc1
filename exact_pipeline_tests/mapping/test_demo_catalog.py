"""The demo's mapping tables say what the demo catalogue declares, and load cleanly."""

from __future__ import annotations

import pytest

from exact_pipeline.demo import catalog
from exact_pipeline.mapping import EntityMapping, Mappings, ProductMapping, load_mappings
from exact_pipeline_tests.mapping.variants import DEMO


@pytest.fixture(scope="module")
def demo() -> Mappings:
    return load_mappings(DEMO)


def test_settings(demo: Mappings) -> None:
    settings = demo.settings
    assert settings.connection_date.isoformat() == "2026-11-01"
    assert settings.history_start.isoformat() == "2025-11-01"
    assert settings.timezone == "Europe/Amsterdam"
    assert settings.invoice_push_mode == "sales_invoice"
    assert settings.customer_sync == "billing_to_exact"
    assert settings.payment_sync == "billing_to_exact"


def test_entities_match_the_catalogue(demo: Mappings) -> None:
    condition_codes = {code for code, _, _ in catalog.PAYMENT_CONDITIONS}
    assert "14" in condition_codes
    assert demo.settings.entities == {
        entity.id: EntityMapping(
            division=entity.division,
            sales_journal=catalog.SALES_JOURNAL,
            default_invoice_gl=catalog.DEFAULT_INVOICE_GL,
            default_credit_note_gl=catalog.DEFAULT_CREDIT_NOTE_GL,
            bank_journal=catalog.BANK_JOURNAL,
            payment_condition="14",
        )
        for entity in catalog.ENTITIES
    }


def test_products_match_the_catalogue_except_the_unmapped_one(demo: Mappings) -> None:
    assert demo.products == {
        product.id: ProductMapping(
            product_id=product.id,
            item_code=product.item_code,
            gl_account=product.gl_account,
            cost_center=product.cost_center,
            cost_unit=product.cost_unit,
        )
        for product in catalog.PRODUCTS
    }
    assert any(p.cost_center for p in demo.products.values())
    assert any(p.cost_unit for p in demo.products.values())
    assert catalog.UNMAPPED_PRODUCTS
    assert not {product.id for product in catalog.UNMAPPED_PRODUCTS} & set(demo.products)


def test_tax_codes_match_the_catalogue(demo: Mappings) -> None:
    assert demo.tax_codes == {rate.id: rate.vat_code for rate in catalog.TAX_RATES}


def test_customer_links_are_the_explicit_ones(demo: Mappings) -> None:
    assert demo.customer_links == {
        customer.customer_id: customer.exact_account_code
        for customer in catalog.KNOWN_CUSTOMERS
        if customer.link == "explicit"
    }


def test_every_code_exists_in_the_demo_divisions(demo: Mappings) -> None:
    """What the sandbox seeds from the catalogue is what the tables name."""
    gl_codes = {account.code for account in catalog.GL_ACCOUNTS}
    journal_codes = {journal.code for journal in catalog.JOURNALS}
    for entity in demo.settings.entities.values():
        assert {entity.default_invoice_gl, entity.default_credit_note_gl} <= gl_codes
        assert {entity.sales_journal, entity.bank_journal} <= journal_codes
    assert {p.gl_account for p in demo.products.values() if p.gl_account} <= gl_codes
    # Only cost centres and units that have not ended (an ended one is a mapping error).
    centres = {a.code for a in catalog.COST_CENTERS if a.end_date is None}
    units = {a.code for a in catalog.COST_UNITS if a.end_date is None}
    assert {p.cost_center for p in demo.products.values() if p.cost_center} <= centres
    assert {p.cost_unit for p in demo.products.values() if p.cost_unit} <= units
