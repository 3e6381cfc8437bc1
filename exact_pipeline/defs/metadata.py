"""Turning the sync engine's plain reports into Dagster metadata a user reads in the UI."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import dagster as dg

from exact_pipeline.sync.documents import ledger
from exact_pipeline.sync.documents.reports import CustomerReport, PushReport, StageReport

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


def rows_note(rows: Sequence[object], total: int | None = None) -> dict[str, str]:
    """A note when the table shows fewer rows than there are (`total`, else the rows')."""
    total = len(rows) if total is None else total
    shown = min(len(rows), MAX_TABLE_ROWS)
    if total <= shown:
        return {}
    return {"note": f"showing {shown} of {total} rows; the ledger holds them all"}


def causes(summary: Sequence[tuple[str, int]]) -> dg.MetadataValue:
    """Why documents are held back, grouped by cause (each with its fix), most frequent first:
    what a person reads before the table of documents."""
    if not summary:
        return dg.MetadataValue.md("Nothing is held back.")
    lines = ["| documents | cause and fix |", "|---:|---|"]
    lines += [f"| {count} | {_md_cell(cause)} |" for cause, count in summary]
    return dg.MetadataValue.md("\n".join(lines))


def causes_sentence(total: int, summary: Sequence[tuple[str, int]], shown: int = 3) -> str:
    """The check's one-line description: how many, and the main causes with their fixes."""
    parts = [f"{count} × {cause}" for cause, count in summary[:shown]]
    if len(summary) > shown:
        parts.append(f"and {len(summary) - shown} more cause(s): see `causes`")
    return f"{total} document(s) need attention. " + "; ".join(parts)


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


# The columns a person needs first, narrow enough to read without scrolling; the long ones
# (reason, description) last.
PREVIEW_COLUMNS = ("number", "state", "exact_account", "division", "excl", "vat", "total", "lines")
REPORTING = "reporting_period"


def preview(report: StageReport) -> dict[str, Any]:
    """A day's staging: documents per state, then what will be posted: one row per document
    (to which Exact account, for how much), and one per line (item or GL account, VAT code,
    amounts)."""
    # The financial period a document is booked in, only when some differ from their date's
    # (a closed period in Exact: sync/documents/periods.py).
    moved = [REPORTING] if any(row.get(REPORTING) for row in report.rows) else []
    documents = [
        {**{key: row.get(key) for key in (*PREVIEW_COLUMNS, *moved)}, "reason": row.get("reason")}
        for row in report.rows
    ]
    lines = [line for row in report.rows for line in report.lines.get(row["number"], [])]
    return {
        **counts("documents_", report.counts),
        "dagster/row_count": report.documents,
        "payload preview": table(documents),
        "payload lines": table(lines),
        **rows_note(documents, report.documents),
        **({"lines note": rows_note(lines)["note"]} if rows_note(lines) else {}),
    }


def customer_figures(report: CustomerReport) -> dict[str, Any]:
    return {
        **counts("customers_", report.counts),
        "stopped": report.stopped or "no",
        "customers": table(report.rows),
        **rows_note(report.rows),
    }


def push_figures(
    report: PushReport, states: Mapping[str, int], calls_note: str | None
) -> dict[str, Any]:
    """A day's push: the day's documents per state after it (`synced`, `blocked`, `failed`,
    `dead_letter`, `staged`: what the asset page plots), this run's outcomes, the API calls it
    spent, why it stopped, and the documents."""
    figures: dict[str, Any] = {
        "synced": int(states.get(ledger.SYNCED, 0)),
        "blocked": int(states.get(ledger.BLOCKED, 0)),
        "failed": int(states.get(ledger.FAILED, 0)),
        "dead_letter": int(states.get(ledger.DEAD_LETTER, 0)),
        "staged": int(states.get(ledger.STAGED, 0)),
        **counts("documents_", report.counts),
    }
    if report.api_calls or not calls_note:
        figures["api_calls"] = sum(report.api_calls.values())
        figures |= counts("api_calls_division_", report.api_calls)
    else:  # left out rather than a wrong number: a plot shows a gap
        figures["api_calls_note"] = f"not counted per day: {calls_note}"
    return figures | {
        "stopped": report.stopped or "no: every staged document was attempted",
        "documents": table(report.rows),
        **rows_note(report.rows),
    }
