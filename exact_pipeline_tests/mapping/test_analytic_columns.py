"""products.csv's optional `cost_center` and `cost_unit` columns: a file without them loads as
before (same rows, same fingerprint); a code of the wrong shape is named with its row and
column; a product's codes reach its lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from exact_pipeline.mapping import load_mappings
from exact_pipeline_tests.mapping.variants import (
    DEMO,
    line_of,
    only_problem,
    replace,
    variant,
    without_analytic_columns,
)


def test_a_file_without_the_columns_loads_as_before(tmp_path: Path) -> None:
    emptied = variant(
        tmp_path / "empty",
        {
            "products.csv": lambda text: text.replace(",SAAS,CLOUD", ",,").replace(
                ",SERVICES,", ",,"
            )
        },
    )
    old = variant(tmp_path / "old", {"products.csv": without_analytic_columns})

    loaded = load_mappings(old)
    assert all(p.cost_center is None and p.cost_unit is None for p in loaded.products.values())
    assert loaded.products == load_mappings(emptied).products
    assert loaded.fingerprint() == load_mappings(emptied).fingerprint()
    # Unset codes are not part of what is hashed: tables written before the columns existed
    # keep the fingerprint (the data version) they had, so an upgrade marks nothing stale.
    assert "cost_center" not in json.dumps(loaded.model_dump(mode="json"))
    # Setting a code is a change of the tables: the data version moves.
    assert loaded.fingerprint() != load_mappings(DEMO).fingerprint()


def test_a_product_s_codes_reach_its_lines() -> None:
    codes = load_mappings(DEMO).resolve_line("ent_nl", "prod_business", "tax_nl_21", False)
    assert (codes.cost_center, codes.cost_unit) == ("SAAS", "CLOUD")  # type: ignore[union-attr]
    plain = load_mappings(DEMO).resolve_line("ent_nl", "prod_team", "tax_nl_21", False)
    assert (plain.cost_center, plain.cost_unit) == (None, None)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("column", "row", "bad", "noun", "example"),
    [
        (
            "cost_center",
            "prod_business,SUB-BUSINESS,,TOOLONG99,CLOUD",
            "TOOLONG99",
            "centre",
            "SAAS",
        ),
        ("cost_unit", "prod_business,SUB-BUSINESS,,SAAS,TWO WORDS", "TWO WORDS", "unit", "CLOUD"),
    ],
)
def test_a_code_of_the_wrong_shape_is_named_with_row_and_column(
    tmp_path: Path, column: str, row: str, bad: str, noun: str, example: str
) -> None:
    folder = variant(
        tmp_path, {"products.csv": replace("prod_business,SUB-BUSINESS,,SAAS,CLOUD", row)}
    )
    line = line_of(folder, "products.csv", row)
    assert str(only_problem(folder)) == (
        f"products.csv, row {line}, column {column}: expected an Exact cost {noun} code "
        f"(1-8 characters without spaces, e.g. {example}), got {bad!r}"
    )
