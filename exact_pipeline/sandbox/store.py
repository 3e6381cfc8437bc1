"""The entity store: per division, per entity set, records by key; plus the rowversion.

Pure data, no rules: callers hold the sandbox lock. Every write bumps the database-wide
rowversion and stamps it on the record as `Timestamp` (what sync/ endpoints page on).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from exact_pipeline.sandbox.schema import Record

GLOBAL = 0  # the "division" global sets (system/Divisions) live in


class Store:
    def __init__(self) -> None:
        self.tables: dict[int, dict[str, dict[Any, Record]]] = {}
        self.rowversion = 0
        self.sequences: dict[str, int] = {}
        self.revision = 0  # bumped on every change: tells the sandbox to persist

    def table(self, division: int, path: str) -> dict[Any, Record]:
        return self.tables.setdefault(division, {}).setdefault(path, {})

    def divisions(self) -> list[int]:
        return sorted(d for d in self.tables if d != GLOBAL)

    def rows(self, division: int, path: str) -> list[Record]:
        return list(self.table(division, path).values())

    def get(self, division: int, path: str, key: Any) -> Record | None:
        return self.table(division, path).get(key)

    def find(
        self, division: int, path: str, field: str, value: Any, *, trim: bool = False
    ) -> Record | None:
        return next(self.where(division, path, field, value, trim=trim), None)

    def where(
        self, division: int, path: str, field: str, value: Any, *, trim: bool = False
    ) -> Iterator[Record]:
        wanted = _norm(value, trim)
        return (r for r in self.rows(division, path) if _norm(r.get(field), trim) == wanted)

    def insert(self, division: int, path: str, key: str, record: Record, now: datetime) -> Record:
        record.setdefault("Division", division if division != GLOBAL else None)
        record.setdefault("Created", now)
        record["Modified"] = now
        self._stamp(record)
        self.table(division, path)[record[key]] = record
        return record

    def touch(self, record: Record, now: datetime) -> None:
        """Record an in-place change."""
        record["Modified"] = now
        self._stamp(record)

    def delete(self, division: int, path: str, key: Any) -> Record | None:
        self.revision += 1
        return self.table(division, path).pop(key, None)

    def next_number(self, sequence: str, first: int, taken: set[int]) -> int:
        """Next free number of a named sequence that starts at `first`."""
        number = max(self.sequences.get(sequence, first - 1) + 1, first)
        while number in taken:
            number += 1
        self.sequences[sequence] = number
        self.revision += 1
        return number

    def _stamp(self, record: Record) -> None:
        self.rowversion += 1
        self.revision += 1
        record["Timestamp"] = self.rowversion

    # persistence -----------------------------------------------------------------------
    def dump(self) -> dict:
        return {
            "rowversion": self.rowversion,
            "sequences": self.sequences,
            "tables": {
                str(division): {path: list(rows.values()) for path, rows in sets.items()}
                for division, sets in self.tables.items()
            },
        }

    def load(self, data: dict, keys: dict[str, str]) -> None:
        """Restore a dump; `keys` maps set path → key field."""
        self.rowversion = data["rowversion"]
        self.sequences = dict(data["sequences"])
        self.tables = {
            int(division): {
                path: {row[keys[path]]: row for row in rows} for path, rows in sets.items()
            }
            for division, sets in data["tables"].items()
        }


def _norm(value: Any, trim: bool) -> Any:
    if isinstance(value, str):
        value = value.lower()  # GUIDs and codes compare case-insensitively (SQL Server)
        return value.strip() if trim else value
    return value
