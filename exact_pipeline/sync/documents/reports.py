"""What each engine call reports: plain dataclasses of plain values (Dagster turns them into
metadata; a CLI can print them). Amounts in rows are decimal strings ("1234.56"), signed as
they land in Exact (credit notes negative)."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from exact_pipeline.sync.core.money import amount_text
from exact_pipeline.sync.core.outcomes import DOCUMENT_OUTCOMES
from exact_pipeline.sync.core.window import Window
from exact_pipeline.sync.documents import ledger
from exact_pipeline.sync.documents.ledger import LedgerRow
from exact_pipeline.sync.documents.transform import DocumentPlan, PlannedLine

Row = dict[str, Any]


@dataclass
class MappingValidation:
    problems: list[str]  # each names the file, the row or key, and the fix
    warnings: list[str]  # harmless now, worth a look (e.g. rows billing does not use)
    summary: dict[str, Any]

    @property
    def ok(self) -> bool:
        return not self.problems


# The documents a stage report previews (the first of its window): a UI table shows no more.
PREVIEW_DOCUMENTS = 500


@dataclass
class StageReport:
    window: Window
    # One per document, for a preview table (with `exact_account`): the first
    # `PREVIEW_DOCUMENTS` of the window.
    rows: list[Row]
    counts: dict[str, int]  # documents per ledger state
    # What will be posted, per document number of `rows`: one row per line (`line_rows`); a
    # blocked document has none.
    lines: dict[str, list[Row]] = field(default_factory=dict)
    documents: int = 0  # in the window, previewed or not


@dataclass
class CustomerReport:
    window: Window
    rows: list[Row]
    counts: dict[str, int]  # per customer outcome
    stopped: str | None = None  # why some customers were not looked at, in plain words


@dataclass
class PushReport:
    window: Window
    rows: list[Row]  # one per document of the window
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(DOCUMENT_OUTCOMES, 0))
    api_calls: dict[int, int] = field(default_factory=dict)  # per division, as Exact counted
    stopped: str | None = None  # why the push stopped early, in plain words


def document_row(row: LedgerRow, **extra: Any) -> Row:
    """A ledger row as a preview/report line."""
    return {
        "number": row.number,
        "type": row.document_type,
        "entity": row.entity_id,
        "division": row.division,
        "customer": row.customer_name,
        "issued": row.partition_date.isoformat(),
        "lines": row.line_count,
        "excl": amount_text(row.amount, row.currency),
        "vat": amount_text(row.vat, row.currency),
        "total": amount_text(row.total, row.currency),
        "state": row.state,
        "reason": row.last_error,
        **extra,
    }


def line_rows(plan: DocumentPlan) -> list[Row]:
    """The document's lines as they will be posted: codes, quantity × unit price, amounts
    signed as in Exact. A sales entry books on GL accounts only, so its lines show no item.
    The service period and the cost centre and unit are shown when a line has them."""
    with_items = plan.mode == "sales_invoice"
    return [
        {
            "number": plan.number,
            "line": line.position,
            "item": line.codes.item_code if with_items else None,
            "gl_account": line.codes.gl_account,
            "vat_code": line.codes.vat_code,
            "quantity": str(line.quantity),
            "unit_price": str(line.unit_price),
            "excl": str(line.amount),
            "vat": str(line.vat),
            **_line_extras(line),
            "description": line.description,
        }
        for line in plan.lines
    ]


def _line_extras(line: PlannedLine) -> Row:
    extras: Row = {}
    if line.period_start or line.period_end:
        start, end = line.period_start, line.period_end
        extras["period"] = f"{start or '…'} – {end or '…'}"
    if line.codes.cost_center:
        extras["cost_center"] = line.codes.cost_center
    if line.codes.cost_unit:
        extras["cost_unit"] = line.codes.cost_unit
    return extras


def problem_row(row: LedgerRow, reason: str | None = None) -> Row:
    """A document that needs attention, for a check's table: the number first, then why."""
    return {
        "number": row.number,
        "state": row.state,
        "reason": reason or row.last_error,
        "issued": row.partition_date.isoformat(),
        "customer": row.customer_name,
        "total": amount_text(row.total, row.currency),
    }


_LINE_PREFIX = re.compile(r"^line \d+: ")


def causes_of(row: LedgerRow, reason: str | None = None) -> list[str]:
    """The distinct causes in a document's reason. A mapping block lists one cause per line
    ("line 5: product … : add …; line 6: …"): the same missing row counts once."""
    text = reason or row.last_error or row.state
    if row.block_kind != ledger.MAPPING:
        return [text]
    return list(dict.fromkeys(_LINE_PREFIX.sub("", part) for part in text.split("; ")))


def cause_summary(problems: list[tuple[LedgerRow, str | None]]) -> list[tuple[str, int]]:
    """Each cause with the number of documents it holds back, most frequent first."""
    counts = Counter(cause for row, reason in problems for cause in causes_of(row, reason))
    return counts.most_common()


def split_by_day(report: PushReport, days: list[tuple[str, Window]]) -> dict[str, PushReport]:
    """A push over several days as one report per day (by the documents' `issued` day). The
    API calls were counted for all of them together, so the days' reports have none."""
    split: dict[str, PushReport] = {}
    for key, window in days:
        rows = [row for row in report.rows if row["issued"] == key]
        counts = dict.fromkeys(DOCUMENT_OUTCOMES, 0) | Counter(row["outcome"] for row in rows)
        split[key] = PushReport(window, rows, counts, api_calls={}, stopped=report.stopped)
    return split
