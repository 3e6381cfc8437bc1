"""`Window`: the span of issue (or payment) times one engine call works on, a partition or a
range of them. Both domains take it; Dagster's partitions make it (`defs.partitions`)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo


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

    def days(self, zone: tzinfo) -> Iterator[Window]:
        """The window cut at each midnight in `zone`, oldest first: what an engine reads and
        holds at a time, so a range costs the memory of its largest day."""
        start = self.start
        while start < self.end:
            midnight = datetime.combine(
                start.astimezone(zone).date() + timedelta(days=1), datetime.min.time(), zone
            )
            end = min(midnight, self.end)
            yield Window(start, end)
            start = end
