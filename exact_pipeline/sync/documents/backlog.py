"""What backfills have left: the documents still staged on past days (left by a spent budget or
the live reserve), per division and day, and how many days of Exact's budget they still need.

Days to go = documents left × calls per document ÷ the calls a backfill may spend a day (the
daily limit less the live reserve), per division; the slowest division decides.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

# The POSTs of a document with its PDF (push.py); Exact's invoice numbers (a GET per 20) and
# new customers' accounts come on top, PDF-less documents cost two less: an estimate.
CALLS_PER_DOCUMENT = {"sales_invoice": 4, "sales_entry": 3}


@dataclass(frozen=True)
class Backlog:
    rows: list[tuple[int, date, int]]  # (division, partition day, documents staged)

    @property
    def documents(self) -> int:
        return sum(count for _, _, count in self.rows)

    def by_division(self) -> dict[int, int]:
        left: dict[int, int] = {}
        for division, _, count in self.rows:
            left[division] = left.get(division, 0) + count
        return left

    def days(self, divisions: set[int] | None = None) -> list[date]:
        """The partition days holding what is left (of `divisions`, default all), oldest first."""
        return sorted({day for d, day, _ in self.rows if divisions is None or d in divisions})

    def days_to_go(self, calls_per_document: int, usable: Mapping[int, int | None]) -> int | None:
        """Days of budget the backlog still needs; None while a division's daily budget is
        unknown (no call made there yet). `usable`: per division, the calls a backfill may
        spend in a whole day."""
        needed = 0
        for division, left in self.by_division().items():
            per_day = usable.get(division)
            if not per_day:
                return None
            needed = max(needed, -(-left * calls_per_document // per_day))
        return needed

    def sentence(self, calls_per_document: int, usable: Mapping[int, int | None]) -> str:
        """E.g. "1,234 documents left on 45 days (division 310001: 1,000; 320001: 234); about
        1 day to go at 4 calls a document and 4,000 calls a day"."""
        if not self.rows:
            return "no backfill left"
        divisions = "; ".join(f"{d}: {n:,}" for d, n in sorted(self.by_division().items()))
        days = len(self.days())
        text = (
            f"{self.documents:,} document{'s' if self.documents != 1 else ''} left on {days} "
            f"day{'s' if days != 1 else ''} (division {divisions})"
        )
        to_go = self.days_to_go(calls_per_document, usable)
        if to_go is None:
            return f"{text}; days to go unknown until Exact has reported the daily budget"
        per_day = ", ".join(f"{usable[d]:,}" for d in sorted(self.by_division()))
        return (
            f"{text}; about {to_go} day{'s' if to_go != 1 else ''} to go at "
            f"{calls_per_document} calls a document and {per_day} calls a day"
        )
