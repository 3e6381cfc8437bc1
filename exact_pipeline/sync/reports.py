"""What each engine call reports: plain dataclasses of plain values (Dagster turns them into
metadata; a CLI can print them). Amounts in rows are decimal strings ("1234.56"), signed as
they land in Exact (credit notes negative)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from exact_pipeline.sync.ledger import LedgerRow, amount_text

Row = dict[str, Any]

PUSH_OUTCOMES = (
    "pushed",
    "already_synced",
    "blocked",
    "failed",
    "changed_after_sync",
    "voided_after_sync",
    "skipped_voided",
    "in_progress",  # another run holds the document right now
    "not_reached",  # left staged because the push stopped (see `stopped`)
)


@dataclass(frozen=True)
class Window:
    """A partition window or a range of them: [start, end), timezone-aware."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("a window's bounds must be timezone-aware")
        if self.end <= self.start:
            raise ValueError(f"the window ends ({self.end}) before it starts ({self.start})")


@dataclass
class MappingValidation:
    problems: list[str]  # each names the file, the row or key, and the fix
    warnings: list[str]  # harmless now, worth a look (e.g. rows billing does not use)
    summary: dict[str, Any]

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class StageReport:
    window: Window
    rows: list[Row]  # one per document, for a preview table
    counts: dict[str, int]  # documents per ledger state


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
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(PUSH_OUTCOMES, 0))
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
        "excl": amount_text(row.amount),
        "vat": amount_text(row.vat),
        "total": amount_text(row.total),
        "state": row.state,
        "reason": row.last_error,
        **extra,
    }
