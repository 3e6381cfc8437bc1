"""Turning the sync engine's plain reports into Dagster metadata a user reads in the UI."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import dagster as dg

MAX_TABLE_ROWS = 500  # the UI stays responsive; the ledger holds the rest


def _cell(value: Any) -> str | int | bool:
    if isinstance(value, bool | int):
        return value
    return "" if value is None else str(value)


def table(rows: Sequence[Mapping[str, Any]]) -> dg.MetadataValue:
    """A table whose columns are the rows' keys, in first-seen order."""
    shown = rows[:MAX_TABLE_ROWS]
    columns: dict[str, str] = {}
    for row in shown:
        for key, value in row.items():
            kind = "int" if isinstance(value, int) and not isinstance(value, bool) else "string"
            columns.setdefault(key, kind)
    schema = dg.TableSchema(columns=[dg.TableColumn(name, kind) for name, kind in columns.items()])
    records = [dg.TableRecord({k: _cell(row.get(k)) for k in columns}) for row in shown]
    return dg.MetadataValue.table(records=records, schema=schema)


def counts(prefix: str, values: Mapping[str, int]) -> dict[str, int]:
    """Numeric entries (charted per partition on the asset page)."""
    return {f"{prefix}{name}": int(value) for name, value in values.items()}


def rows_note(rows: Sequence[object]) -> dict[str, str]:
    if len(rows) <= MAX_TABLE_ROWS:
        return {}
    return {"note": f"showing {MAX_TABLE_ROWS} of {len(rows)} rows; the ledger holds them all"}
