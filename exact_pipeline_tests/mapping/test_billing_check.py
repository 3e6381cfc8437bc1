"""The tables compared with billing's ids: unmapped entities are errors, the rest warnings."""

from __future__ import annotations

from exact_pipeline.demo import catalog
from exact_pipeline.mapping import BillingMismatch, check_against_billing, load_mappings
from exact_pipeline_tests.mapping.variants import DEMO

ENTITY_IDS = [entity.id for entity in catalog.ENTITIES]
TAX_RATE_IDS = [rate.id for rate in catalog.TAX_RATES]
PRODUCT_IDS = [product.id for product in catalog.PRODUCTS]


def test_the_demo_matches_billing_except_the_unmapped_product() -> None:
    mappings = load_mappings(DEMO)
    all_products = PRODUCT_IDS + [product.id for product in catalog.UNMAPPED_PRODUCTS]
    assert check_against_billing(mappings, ENTITY_IDS, TAX_RATE_IDS, all_products) == [
        BillingMismatch("warning", str(mappings.unmapped_product("prod_beta_ai")))
    ]


def test_mismatches_in_both_directions() -> None:
    mappings = load_mappings(DEMO)
    found = check_against_billing(
        mappings,
        entity_ids=["ent_nl", "ent_de"],
        tax_rate_ids=[*TAX_RATE_IDS[1:], "tax_de_19"],
        product_ids=PRODUCT_IDS[:-1],
    )
    assert [str(mismatch) for mismatch in found] == [
        f"error: invoicing entity ent_de has no entry in settings.yaml: add `ent_de:` with "
        f"division, sales_journal, default_invoice_gl and default_credit_note_gl under "
        f"`entities:` in {DEMO / 'settings.yaml'}",
        f"warning: tax rate tax_de_19 has no row in tax_codes.csv: add `tax_de_19,<VAT code>` "
        f"to {DEMO / 'tax_codes.csv'}",
        "warning: settings.yaml maps invoicing entity ent_be, which the billing database does "
        "not have (a typo, or not created yet)",
        f"warning: tax_codes.csv maps tax rate {TAX_RATE_IDS[0]}, which the billing database "
        "does not have (a typo, or not created yet)",
        f"warning: products.csv maps product {PRODUCT_IDS[-1]}, which the billing database "
        "does not have (a typo, or not created yet)",
    ]


def test_an_entity_timezone_that_is_not_a_timezone_is_an_error() -> None:
    mappings = load_mappings(DEMO)
    zones = {"ent_nl": "Europe/Amsterdam", "ent_be": "Mars/Olympus", "ent_x": "Europe"}
    found = check_against_billing(
        mappings, ENTITY_IDS, TAX_RATE_IDS, PRODUCT_IDS, entity_timezones=zones
    )
    assert [str(mismatch) for mismatch in found if mismatch.severity == "error"] == [
        f"error: invoicing entity {entity} has timezone {zone!r} in billing, which is not an "
        "IANA timezone name, so its documents' dates in Exact cannot be known: set "
        f"invoicing_entities.timezone of {entity} in billing to an IANA name such as "
        "Europe/Amsterdam"
        for entity, zone in (("ent_be", "Mars/Olympus"), ("ent_x", "Europe"))
    ]
