"""`freshness_minutes`: the documents' freshness promise, a whole number of minutes of at least
an hour (the hourly schedule is what keeps it in a quiet hour); 60 when absent."""

from __future__ import annotations

from pathlib import Path

import pytest

from exact_pipeline.mapping import load_mappings
from exact_pipeline_tests.mapping.variants import line_of, only_problem, replace, variant


@pytest.mark.parametrize("value", ["30", "59", "90.5", "an hour", "-60"])
def test_freshness_minutes_is_a_whole_number_of_at_least_an_hour(
    tmp_path: Path, value: str
) -> None:
    folder = variant(
        tmp_path,
        {"settings.yaml": replace("freshness_minutes: 60", f"freshness_minutes: {value}")},
    )
    line = line_of(folder, "settings.yaml", f"freshness_minutes: {value}")
    assert str(only_problem(folder)) == (
        f"settings.yaml, line {line}, key freshness_minutes: expected a whole number of "
        f"minutes, at least 60, e.g. 60, got '{value}'"
    )


def test_freshness_minutes_is_read_and_defaults_to_an_hour(tmp_path: Path) -> None:
    longer = variant(
        tmp_path / "longer",
        {"settings.yaml": replace("freshness_minutes: 60", "freshness_minutes: 120")},
    )
    absent = variant(tmp_path / "absent", {"settings.yaml": replace("freshness_minutes: 60\n", "")})

    assert load_mappings(longer).settings.freshness_minutes == 120
    assert load_mappings(absent).settings.freshness_minutes == 60
