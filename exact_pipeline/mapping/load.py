"""Read a mapping folder into `Mappings`, or fail with every problem it has.

Each problem names the file, the row (line) and the column (key) and says what was expected, so a
finance user can fix the folder in one pass. Rules between settings (history_start not after
connection_date, a bank journal when payments sync) are checked once every value has its shape.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

from pydantic import BaseModel, ValidationError

from exact_pipeline.mapping.csv_table import read_csv
from exact_pipeline.mapping.errors import MappingError, Problem, SettingsInconsistent
from exact_pipeline.mapping.mappings import Mappings
from exact_pipeline.mapping.tables import (
    CustomerLink,
    ProductMapping,
    SyncSettings,
    TaxCodeMapping,
)
from exact_pipeline.mapping.validation import complaints
from exact_pipeline.mapping.yaml_text import read_yaml

SETTINGS_FILE = "settings.yaml"

Row = TypeVar("Row", bound=BaseModel)


@dataclass(frozen=True)
class Table(Generic[Row]):
    """One CSV mapping table: its file, the model of a row, and the column that must be unique."""

    file: str
    row: type[Row]
    key: str
    noun: str  # what one key names, for "expected each <noun> once"
    required: bool
    optional: tuple[str, ...] = ()  # columns a file may leave out (added after the first)

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(self.row.model_fields)


PRODUCTS = Table(
    "products.csv",
    ProductMapping,
    "product_id",
    "product",
    required=True,
    optional=("cost_center", "cost_unit"),
)
TAX_CODES = Table("tax_codes.csv", TaxCodeMapping, "tax_rate_id", "tax rate", required=True)
CUSTOMER_LINKS = Table(
    "customer_links.csv", CustomerLink, "customer_id", "customer", required=False
)


def load_mappings(folder: Path) -> Mappings:
    """The validated tables of `folder`; raises MappingError listing every problem found."""
    if not folder.is_dir():
        message = f"expected a folder holding {SETTINGS_FILE}, products.csv and tax_codes.csv"
        raise MappingError(str(folder), [Problem(str(folder), None, None, message)])
    settings, problems = _load_settings(folder)
    products, product_problems = _load_table(folder, PRODUCTS)
    tax_codes, tax_problems = _load_table(folder, TAX_CODES)
    links, link_problems = _load_table(folder, CUSTOMER_LINKS)
    problems += product_problems + tax_problems + link_problems
    if problems or settings is None:
        raise MappingError(str(folder), problems)
    return Mappings(
        folder=folder,
        settings=settings,
        products={row.product_id: row for row in products},
        tax_codes={row.tax_rate_id: row.vat_code for row in tax_codes},
        customer_links={row.customer_id: row.exact_account_code for row in links},
    )


def _read_text(folder: Path, file: str, required: bool) -> tuple[str | None, list[Problem]]:
    path = folder / file
    if not path.is_file():
        if not required:
            return None, []
        return None, [Problem(file, None, None, f"missing file; expected it in {folder}")]
    try:
        # utf-8-sig: a byte-order mark (Excel's CSV export writes one) is not part of the header.
        return path.read_text(encoding="utf-8-sig"), []
    except UnicodeDecodeError as bad:
        return None, [Problem(file, None, None, f"expected UTF-8 text, got {bad.reason}")]


def _load_settings(folder: Path) -> tuple[SyncSettings | None, list[Problem]]:
    text, problems = _read_text(folder, SETTINGS_FILE, required=True)
    if text is None:
        return None, problems
    document = read_yaml(text, SETTINGS_FILE)
    if document.data is None:
        return None, document.problems

    def place(path: tuple[str, ...], message: str) -> Problem:
        return Problem(SETTINGS_FILE, document.line_of(path), ".".join(path), message)

    settings = _validated(SyncSettings, document.data, place, document.problems)
    problems = sorted(document.problems, key=lambda problem: problem.line or 0)
    return (None if problems else settings), problems


def _load_table(folder: Path, table: Table[Row]) -> tuple[list[Row], list[Problem]]:
    text, problems = _read_text(folder, table.file, table.required)
    if text is None:
        return [], problems
    parsed = read_csv(text, table.file, table.columns, table.optional)
    rows: list[Row] = []
    first_seen: dict[str, int] = {}
    for csv_row in parsed.rows:
        place = _in_row(table.file, csv_row.line)
        row = _validated(table.row, csv_row.values, place, parsed.problems)
        if row is None:
            continue
        key = getattr(row, table.key)
        if key in first_seen:
            message = (
                f"expected each {table.noun} once, got {key!r} again "
                f"(first on row {first_seen[key]})"
            )
            parsed.problems.append(Problem(table.file, csv_row.line, table.key, message))
            continue
        first_seen[key] = csv_row.line
        rows.append(row)
    return rows, parsed.problems


def _in_row(file: str, line: int) -> Callable[[tuple[str, ...], str], Problem]:
    """Places a row model's complaint: its first path part is the column."""
    return lambda path, message: Problem(file, line, path[0] if path else None, message)


def _validated(
    model: type[Row],
    data: object,
    place: Callable[[tuple[str, ...], str], Problem],
    problems: list[Problem],
) -> Row | None:
    """`model` built from `data`, or None with its problems appended, placed by `place`."""
    try:
        return model.model_validate(data)
    except ValidationError as invalid:
        problems.extend(place(c.path, c.message) for c in complaints(invalid, model))
    except SettingsInconsistent as inconsistent:
        problems.extend(place(i.path, i.message) for i in inconsistent.inconsistencies)
    return None
