"""The mapping tables' failures: a bad folder, an inconsistent setting, an unmapped entity."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong in one place of one file.

    `line` is the line number as an editor shows it; `field` is the CSV column, or the YAML key
    path (`entities.ent_nl.division`). CSV places read "row 7, column item_code", YAML places
    "line 12, key entities.ent_nl.division".
    """

    file: str
    line: int | None
    field: str | None
    message: str

    def __str__(self) -> str:
        tabular = self.file.endswith(".csv")
        place = [self.file]
        if self.line is not None:
            place.append(f"{'row' if tabular else 'line'} {self.line}")
        if self.field is not None:
            place.append(f"{'column' if tabular else 'key'} {self.field}")
        return f"{', '.join(place)}: {self.message}"


class MappingError(Exception):
    """The mapping folder cannot be used; lists every problem found, one per line."""

    def __init__(self, folder: str, problems: Sequence[Problem]) -> None:
        self.folder = folder
        self.problems = tuple(problems)
        count = f"{len(self.problems)} problem{'s' if len(self.problems) != 1 else ''}"
        lines = "\n".join(f"  {problem}" for problem in self.problems)
        super().__init__(f"the mapping tables in {folder} have {count}:\n{lines}")


def expected_got(expected: str, got: object) -> str:
    return f"expected {expected}, got {got!r}"


@dataclass(frozen=True)
class Inconsistency:
    """A rule between settings broken at `path` (keys from the top of settings.yaml)."""

    path: tuple[str, ...]
    message: str


class SettingsInconsistent(Exception):
    """Raised while validating settings whose values are each fine but do not fit together.

    Deliberately not a ValueError: pydantic then lets it through unwrapped, with its paths, so the
    loader can point at the lines in settings.yaml.
    """

    def __init__(self, inconsistencies: Sequence[Inconsistency]) -> None:
        self.inconsistencies = tuple(inconsistencies)
        super().__init__(
            "; ".join(f"{'.'.join(i.path)}: {i.message}" for i in self.inconsistencies)
        )


class UnmappedEntityError(LookupError):
    """A billing invoicing entity has no entry in settings.yaml."""
