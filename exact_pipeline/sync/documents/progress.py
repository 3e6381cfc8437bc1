"""Progress lines while a run pushes documents.

A history backfill runs for minutes or hours; whoever started it (the UI's run view, a terminal
running `dagster asset materialize`) sees it move: a line at the first document, then one every
`every` seconds, counted over all the windows an engine pushes (a range run pushes day by day).
They go to the logger `exact_pipeline.sync` at INFO, which dagster.yaml
(`python_logs.managed_python_loggers`) makes Dagster capture into the run's log.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

from exact_pipeline.sync.core.window import Window

log = logging.getLogger("exact_pipeline.sync")


class PushProgress:
    def __init__(self, *, every: float = 10.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.every, self.clock = every, clock
        self.outcomes: Counter[str] = Counter()
        self.total = 0
        self.current = ""
        self.said: float | None = None

    def window(self, window: Window, documents: int) -> None:
        """A push of `documents` ledger rows of `window` begins."""
        self.total += documents
        first, last = window.start.date(), (window.end - timedelta(microseconds=1)).date()
        self.current = str(first) if first == last else f"{first}…{last}"

    def done(self, outcome: str) -> None:
        """One document is through (`outcome` as in the push report)."""
        self.outcomes[outcome] += 1
        if self.said is None or self.clock() - self.said >= self.every:
            self.said = self.clock()
            log.info("documents: %s", self.line())

    def line(self) -> str:
        done = sum(self.outcomes.values())
        parts = ", ".join(f"{n} {outcome}" for outcome, n in self.outcomes.most_common())
        return f"{done} of {self.total} so far ({parts}); now on {self.current}"
