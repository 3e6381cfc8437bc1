"""The fingerprint (Dagster's data version for the tables) moves with meaning, not with layout."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from exact_pipeline.mapping import load_mappings
from exact_pipeline_tests.mapping.variants import DEMO, Edit, append, replace, variant


def reversed_rows(text: str) -> str:
    header, *rows = text.splitlines()
    return "\n".join([header, *reversed(rows)]) + "\n"


def swapped_columns(text: str) -> str:
    return "\n".join(",".join(reversed(line.split(","))) for line in text.splitlines()) + "\n"


def fingerprint_after(tmp_path: Path, edits: dict[str, Edit]) -> str:
    return load_mappings(variant(tmp_path, edits)).fingerprint()


def test_stable_across_loads_and_folders(tmp_path: Path) -> None:
    fingerprint = load_mappings(DEMO).fingerprint()
    assert len(fingerprint) == 16
    assert int(fingerprint, 16) >= 0  # hex digits
    assert load_mappings(DEMO).fingerprint() == fingerprint
    assert fingerprint_after(tmp_path, {}) == fingerprint


@pytest.mark.parametrize(
    "edits",
    [
        {"products.csv": replace("USE-API,8010", "USE-API,8020")},
        {"products.csv": replace("prod_team,SUB-TEAM,", "prod_team,SUB-TEAM,8000")},
        {"products.csv": append("prod_beta_ai,SUB-AI-BETA,\n")},
        {"products.csv": replace("prod_sms,USE-SMS,8010\n", "")},
        {"tax_codes.csv": replace("tax_be_0,5", "tax_be_0,6")},
        {"customer_links.csv": append("cus_known_02,10002\n")},
        {"customer_links.csv": None},
        {"settings.yaml": replace("payment_sync: billing_to_exact", "payment_sync: none")},
        {"settings.yaml": replace("closed_period: block", "closed_period: next_open_period")},
        {"settings.yaml": replace("division: 320001", "division: 320002")},
        {"settings.yaml": replace("history_start: 2025-11-01", "history_start: 2025-11-02")},
    ],
    ids=lambda edits: next(iter(edits)),
)
def test_changes_when_a_mapping_changes(tmp_path: Path, edits: dict[str, Edit]) -> None:
    assert fingerprint_after(tmp_path, edits) != load_mappings(DEMO).fingerprint()


LAYOUT_ONLY: list[dict[str, Callable[[str], str]]] = [
    {"settings.yaml": lambda text: "# a new comment\n\n" + text.replace("  # ", "  #  ")},
    {"settings.yaml": replace('sales_journal: "70"', "sales_journal: '70'")},
    {"settings.yaml": replace('sales_journal: "70"', "sales_journal:    70")},
    {"products.csv": lambda text: text.replace(",", " , ").replace("\n", "  \n\n")},
    {"products.csv": append("# prod_beta_ai waits for finance\n")},
    {"products.csv": reversed_rows},
    {"tax_codes.csv": swapped_columns},
    {"tax_codes.csv": lambda text: "\ufeff" + text},
]


@pytest.mark.parametrize("edits", LAYOUT_ONLY, ids=lambda edits: next(iter(edits)))
def test_unchanged_by_layout_comments_or_order(
    tmp_path: Path, edits: dict[str, Callable[[str], str]]
) -> None:
    folder = variant(tmp_path, edits)
    changed = next(iter(edits))
    assert (folder / changed).read_text() != (DEMO / changed).read_text()
    assert load_mappings(folder).fingerprint() == load_mappings(DEMO).fingerprint()
