"""A line's Exact codes follow the tables' precedence, or the line is blocked with its fix."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from exact_pipeline.mapping import (
    Blocked,
    LineCodes,
    Mappings,
    UnmappedEntityError,
    load_mappings,
)
from exact_pipeline_tests.mapping.variants import DEMO, chain, replace, variant


@pytest.fixture(scope="module")
def demo() -> Mappings:
    return load_mappings(DEMO)


def in_mode(mode: str) -> Callable[[str], str]:
    return replace("invoice_push_mode: sales_invoice", f"invoice_push_mode: {mode}")


def with_default_item(tmp_path: Path, mode: str = "sales_invoice") -> Mappings:
    edit = chain(replace("# default_item_code: ADJUST", "default_item_code: MISC"), in_mode(mode))
    return load_mappings(variant(tmp_path, {"settings.yaml": edit}))


def test_product_gl_comes_first_even_on_credit_notes(demo: Mappings) -> None:
    for is_credit_note in (False, True):
        assert demo.resolve_line("ent_nl", "prod_api_calls", "tax_nl_21", is_credit_note) == (
            LineCodes(item_code="USE-API", gl_account="8010", vat_code="1")
        )


def test_product_without_gl_uses_the_default_invoice_gl(demo: Mappings) -> None:
    assert demo.resolve_line("ent_be", "prod_team", "tax_be_21", False) == LineCodes(
        item_code="SUB-TEAM", gl_account="8000", vat_code="4"
    )


def test_credit_note_line_without_product_gl_uses_the_credit_note_gl(demo: Mappings) -> None:
    assert demo.resolve_line("ent_be", "prod_team", "tax_be_6", True) == LineCodes(
        item_code="SUB-TEAM", gl_account="8090", vat_code="3"
    )


def test_defaults_are_per_entity(tmp_path: Path) -> None:
    # Only ent_be's line ends right after the value; ent_nl's carries a comment.
    edit = replace('default_credit_note_gl: "8090"\n', 'default_credit_note_gl: "8091"\n')
    mappings = load_mappings(variant(tmp_path, {"settings.yaml": edit}))
    assert mappings.resolve_line("ent_nl", "prod_seat", "tax_nl_21", True).gl_account == "8090"
    assert mappings.resolve_line("ent_be", "prod_seat", "tax_be_21", True).gl_account == "8091"


def test_product_without_a_row_is_blocked_with_its_fix(demo: Mappings) -> None:
    result = demo.resolve_line("ent_nl", "prod_beta_ai", "tax_nl_21", False)
    assert isinstance(result, Blocked)
    assert result.message == (
        "product prod_beta_ai has no row in products.csv: "
        f"add `prod_beta_ai,<item code>,` to {DEMO / 'products.csv'}"
    )


def test_tax_rate_without_a_code_is_blocked_with_its_fix(demo: Mappings) -> None:
    result = demo.resolve_line("ent_nl", "prod_team", "tax_nl_6", False)
    assert isinstance(result, Blocked)
    assert result.message == (
        "tax rate tax_nl_6 has no row in tax_codes.csv: "
        f"add `tax_nl_6,<VAT code>` to {DEMO / 'tax_codes.csv'}"
    )


def test_every_cause_of_a_blocked_line_is_listed(demo: Mappings) -> None:
    result = demo.resolve_line("ent_de", "prod_beta_ai", "tax_de_19", False)
    assert isinstance(result, Blocked)
    assert [cause.reason for cause in result.causes] == [
        "invoicing entity ent_de has no entry in settings.yaml",
        "product prod_beta_ai has no row in products.csv",
        "tax rate tax_de_19 has no row in tax_codes.csv",
    ]


def test_line_without_product_is_blocked_without_a_default_item(demo: Mappings) -> None:
    result = demo.resolve_line("ent_nl", None, "tax_nl_21", False)
    assert isinstance(result, Blocked)
    assert result.message == (
        "a line without a product needs an Exact item in sales_invoice mode, and entity ent_nl "
        "has no default_item_code: set `default_item_code: <item code>` under entities.ent_nl "
        f"in {DEMO / 'settings.yaml'}"
    )


def test_line_without_product_uses_the_default_item(tmp_path: Path) -> None:
    mappings = with_default_item(tmp_path)
    assert mappings.resolve_line("ent_nl", None, "tax_nl_9", False) == LineCodes(
        item_code="MISC", gl_account="8000", vat_code="2"
    )
    assert mappings.resolve_line("ent_nl", None, "tax_nl_9", True).gl_account == "8090"
    # The default item is ent_nl's only: ent_be's product-less lines stay blocked.
    assert isinstance(mappings.resolve_line("ent_be", None, "tax_be_21", False), Blocked)


def test_sales_entry_lines_need_no_item(tmp_path: Path) -> None:
    mappings = load_mappings(variant(tmp_path, {"settings.yaml": in_mode("sales_entry")}))
    assert mappings.resolve_line("ent_nl", None, "tax_nl_0", True) == LineCodes(
        item_code=None, gl_account="8090", vat_code="0"
    )
    # A default item is irrelevant in sales_entry mode: entries carry no items.
    assert with_default_item(tmp_path / "b", "sales_entry").resolve_line(
        "ent_nl", None, "tax_nl_0", False
    ) == LineCodes(item_code=None, gl_account="8000", vat_code="0")
    # An unmapped product still blocks: its revenue must not land on a default GL unnoticed.
    assert isinstance(mappings.resolve_line("ent_nl", "prod_beta_ai", "tax_nl_0", False), Blocked)


def test_entity_lookup(demo: Mappings) -> None:
    assert demo.entity("ent_be").division == 320001
    with pytest.raises(UnmappedEntityError) as raised:
        demo.entity("ent_de")
    assert str(raised.value) == (
        "invoicing entity ent_de has no entry in settings.yaml: add `ent_de:` with division, "
        "sales_journal, default_invoice_gl and default_credit_note_gl under `entities:` in "
        f"{DEMO / 'settings.yaml'}"
    )


def test_explicit_customer_links(demo: Mappings) -> None:
    assert demo.exact_account_code_for("cus_known_01") == "10001"
    assert demo.exact_account_code_for("cus_known_02") is None
