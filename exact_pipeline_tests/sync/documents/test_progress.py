"""Progress lines while documents are pushed: at the first document, then every `every`
seconds, counted over all the windows of a run."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from exact_pipeline.sync.core.window import Window
from exact_pipeline.sync.documents.progress import PushProgress


def day(n: int) -> Window:
    return Window(datetime(2026, 11, n, tzinfo=UTC), datetime(2026, 11, n + 1, tzinfo=UTC))


def test_a_line_at_the_first_document_then_every_interval_over_all_windows(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [0.0]
    caplog.set_level(logging.INFO, logger="exact_pipeline.sync")
    progress = PushProgress(every=10, clock=lambda: now[0])
    progress.window(day(1), 2)
    progress.done("pushed")
    progress.done("blocked")
    now[0] = 11
    progress.window(Window(day(2).start, day(4).end), 3)
    progress.done("pushed")
    progress.done("pushed")
    assert [r.getMessage() for r in caplog.records] == [
        "documents: 1 of 2 so far (1 pushed); now on 2026-11-01",
        "documents: 3 of 5 so far (2 pushed, 1 blocked); now on 2026-11-02…2026-11-04",
    ]
