"""The mapping tables against Exact's master data: the demo tables pass; every kind of wrong
code is reported with its file, row or key, and the fix."""

from __future__ import annotations

from exact_pipeline_tests.sync.builder import Billing
from exact_pipeline_tests.sync.conftest import EngineFactory, MappingFolder


def test_the_demo_tables_match_the_demo_divisions(
    billing: Billing, make_engine: EngineFactory
) -> None:
    validation = make_engine().validate_mappings()

    assert validation.ok, validation.problems
    assert validation.summary["divisions"] == [310001, 320001]
    # both divisions: 5 settings codes per entity (+ 2 items/GLs per product row), 6 VAT codes
    assert validation.summary["codes_checked"] > 50
    # billing has a product the tables do not map yet: a warning, not a problem
    assert any("prod_beta_ai" in warning for warning in validation.warnings)


def test_wrong_codes_are_named_with_their_place_and_fix(
    billing: Billing, mapping_folder: MappingFolder, make_engine: EngineFactory
) -> None:
    (
        mapping_folder.replace("settings.yaml", 'sales_journal: "70"', 'sales_journal: "20"')
        .replace("settings.yaml", 'default_invoice_gl: "8000"', 'default_invoice_gl: "1300"')
        .replace("settings.yaml", 'payment_condition: "14"', 'payment_condition: "99"')
        .replace("products.csv", "prod_team,SUB-TEAM,", "prod_team,SUB-TEEM,")
        .replace("products.csv", "prod_sms,USE-SMS,8010", "prod_sms,USE-SMS,1500")
        .replace("tax_codes.csv", "tax_be_6,3", "tax_be_6,9")
        .replace("customer_links.csv", "cus_known_01,10001", "cus_known_01,99999")
    )

    validation = make_engine().validate_mappings()

    assert not validation.ok
    problems = "\n".join(validation.problems)
    expected = [
        "settings.yaml, key entities.ent_nl.sales_journal: journal 20 is a journal of type 12, "
        "not a sales journal (type 20) in Exact division 310001; fix: use the code of a sales "
        "journal (type 20) of that division",
        "settings.yaml, key entities.ent_nl.default_invoice_gl: GL account 1300 is a "
        "balance-sheet account (type 20), not a revenue (profit and loss) account in Exact "
        "division 310001",
        "settings.yaml, key entities.ent_be.payment_condition: payment condition 99 does not "
        "exist in Exact division 320001",
        "products.csv, row of product prod_team, column item_code: item SUB-TEEM does not "
        "exist in Exact division 310001",
        "products.csv, row of product prod_sms, column gl_account: GL account 1500 is a "
        "balance-sheet account (type 24)",
        "tax_codes.csv, row of tax rate tax_be_6, column vat_code: VAT code 9 does not exist "
        "in Exact division 320001",
        "customer_links.csv, row of customer cus_known_01, column exact_account_code: account "
        "99999 does not exist in any mapped Exact division",
    ]
    for text in expected:
        assert text in problems
    # both entities share the wrong journal, GL and condition; products are checked per division
    assert len(validation.problems) == 2 + 2 + 2 + 2 + 2 + 1 + 1
