"""Copies of the demo mapping folder with one defect each, and how to read their problems."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from exact_pipeline.mapping import MappingError, Problem, load_mappings

DEMO = Path(__file__).resolve().parents[2] / "mappings"

Edit = Callable[[str], str] | None  # None deletes the file


def variant(tmp_path: Path, edits: Mapping[str, Edit]) -> Path:
    """The demo folder copied to `tmp_path`, each named file rewritten by its edit."""
    folder = tmp_path / "mappings"
    shutil.copytree(DEMO, folder)
    for file, edit in edits.items():
        path = folder / file
        if edit is None:
            path.unlink()
        else:
            path.write_text(edit(path.read_text(encoding="utf-8") if path.exists() else ""))
    return folder


def replace(old: str, new: str) -> Callable[[str], str]:
    """An edit replacing `old`, which must be there: a changed demo file fails loudly here."""

    def edit(text: str) -> str:
        assert old in text, f"{old!r} is not in the demo file"
        return text.replace(old, new, 1)

    return edit


def chain(*edits: Callable[[str], str]) -> Callable[[str], str]:
    def edit(text: str) -> str:
        for each in edits:
            text = each(text)
        return text

    return edit


def append(lines: str) -> Callable[[str], str]:
    return lambda text: text + lines


def without_analytic_columns(text: str) -> str:
    """products.csv as written before `cost_center` and `cost_unit` existed (three cells)."""
    return "\n".join(
        line if line.startswith("#") else ",".join(line.split(",")[:3])
        for line in text.splitlines()
    )


def problems_of(folder: Path) -> list[Problem]:
    with pytest.raises(MappingError) as raised:
        load_mappings(folder)
    # Every problem is also a line of the message, so what the user reads is what tests see.
    message_lines = str(raised.value).splitlines()
    assert [line.strip() for line in message_lines[1:]] == [str(p) for p in raised.value.problems]
    return list(raised.value.problems)


def only_problem(folder: Path) -> Problem:
    problems = problems_of(folder)
    assert len(problems) == 1, problems
    return problems[0]


def line_of(folder: Path, file: str, text: str) -> int:
    """The editor line number of the (single) line of `file` containing `text`."""
    lines = (folder / file).read_text(encoding="utf-8-sig").splitlines()
    found = [number for number, line in enumerate(lines, start=1) if text in line]
    assert len(found) == 1, f"{text!r} on lines {found} of {file}"
    return found[0]
