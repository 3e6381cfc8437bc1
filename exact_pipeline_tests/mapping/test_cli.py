"""`exact-pipeline mappings check` on a good and on a broken folder."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from exact_pipeline.mapping.cli import mappings
from exact_pipeline.mapping.load import load_mappings
from exact_pipeline_tests.mapping.variants import DEMO, replace, variant


def test_check_summarises_a_valid_folder() -> None:
    result = CliRunner().invoke(mappings, ["check", "--dir", str(DEMO)])
    assert result.exit_code == 0, result.output
    assert f"is valid (fingerprint {load_mappings(DEMO).fingerprint()})" in result.output
    assert "ent_nl → division 310001, ent_be → division 320001" in result.output
    assert "20 products, 6 tax codes, 1 customer links" in result.output


def test_check_lists_the_problems_and_fails(tmp_path: Path) -> None:
    folder = variant(tmp_path, {"tax_codes.csv": replace("tax_be_6,3", "tax_be_6,")})
    result = CliRunner().invoke(mappings, ["check"], env={"EXACT_MAPPINGS_DIR": str(folder)})
    assert result.exit_code == 1
    assert "tax_codes.csv, row" in result.output
    assert "column vat_code: expected an Exact VAT code" in result.output
