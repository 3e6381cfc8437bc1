"""A mapping CSV read forgivingly where it is harmless and strictly where it matters.

Forgiven: a UTF-8 byte-order mark (Excel writes one), spaces around values, blank lines, lines
starting with `#` (comments), columns in any order, trailing empty cells, an optional column
left out. Reported: a missing, unknown or repeated column, and a row with more values than the
header has columns.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from exact_pipeline.mapping.errors import Problem


@dataclass(frozen=True)
class CsvRow:
    line: int  # as an editor numbers it
    values: dict[str, str]


@dataclass
class CsvTable:
    rows: list[CsvRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def read_csv(
    text: str, file: str, columns: Sequence[str], optional: Sequence[str] = ()
) -> CsvTable:
    """Rows of `text` as {column: stripped value}; rows are not read if the header is wrong.
    `optional`: columns of `columns` the header may leave out (their rows then lack them)."""
    table = CsvTable()
    records = _records(text)
    first = next(records, None)
    if first is None:
        expected = f"a header line naming the columns {', '.join(columns)}"
        table.problems.append(Problem(file, None, None, f"expected {expected}, got an empty file"))
        return table
    header_line, header = first
    table.problems.extend(_header_problems(file, header_line, header, columns, optional))
    if table.problems:
        return table
    for line, cells in records:
        if extra := [cell for cell in cells[len(header) :] if cell]:
            message = (
                f"expected at most {len(header)} values ({', '.join(header)}), "
                f"got {len(header) + len(extra)}"
            )
            table.problems.append(Problem(file, line, None, message))
            continue
        padded = [*cells, *[""] * (len(header) - len(cells))]
        table.rows.append(CsvRow(line, dict(zip(header, padded, strict=False))))
    return table


def _records(text: str) -> Iterator[tuple[int, list[str]]]:
    """(line number, stripped cells) of each record that is not blank or a comment."""
    reader = csv.reader(text.splitlines())
    for cells in reader:
        stripped = [cell.strip() for cell in cells]
        if not any(stripped) or stripped[0].startswith("#"):
            continue
        yield reader.line_num, stripped


def _header_problems(
    file: str, line: int, header: list[str], columns: Sequence[str], optional: Sequence[str]
) -> list[Problem]:
    wanted = ", ".join(columns)
    problems = [
        Problem(file, line, name or "(empty)", f"unknown column; expected only {wanted}")
        for name in header
        if name not in columns
    ]
    required = [name for name in columns if name not in optional]
    problems += [
        Problem(
            file, line, name, f"missing column; expected the header to name {', '.join(required)}"
        )
        for name in required
        if name not in header
    ]
    problems += [
        Problem(file, line, name, "repeated column; expected each column once")
        for name in sorted({name for name in header if header.count(name) > 1})
    ]
    return problems
