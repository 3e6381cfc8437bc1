"""`Reconciler`: a month of billing against Exact, what Dagster (or a CLI, or a test) calls.

    with Reconciler(billing_url=…, state_url=…, mappings=…, exact=exact) as reconciler:
        report = reconciler.reconcile("2026-11", window)
        report.write_csv(folder)

Billing and the ledger are read first, then Exact, division by division (`hold` wraps each
division's reading: the caller's way to be the division's only caller while it reads, so the
calls counted are this reading's). A billing document finalized meanwhile is left to the next
reading rather than reported as an entry nobody claims.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from datetime import date
from functools import cached_property

import psycopg

from exact_pipeline.sync.core.calls import CallMeter
from exact_pipeline.sync.core.errors import STOPS_THE_DIVISION
from exact_pipeline.sync.core.session import SyncSession
from exact_pipeline.sync.core.stops import not_read_back
from exact_pipeline.sync.core.window import Window
from exact_pipeline.sync.documents import corrections, ledger
from exact_pipeline.sync.reconciliation import billing_side, exact_side
from exact_pipeline.sync.reconciliation.compare import Matcher
from exact_pipeline.sync.reconciliation.exact_side import ExactEntry
from exact_pipeline.sync.reconciliation.report import MonthReport

__all__ = ["Reconciler"]

Hold = Callable[[int], AbstractContextManager[object]]
# Exact dates an entry in its entity's time zone, the month is in the settings' one: read a
# day more on either side, so an entry a time zone moves across the bound is still found.
MARGIN_DAYS = 1


def _no_hold(_division: int) -> AbstractContextManager[object]:
    return nullcontext()


class Reconciler(SyncSession):
    schemas = (ledger.ensure_schema, corrections.ensure_schema)

    @cached_property
    def _stopped(self) -> dict[int, str]:
        """Divisions whose budget (or access) stopped a reading, with why: not asked again
        for the next months of the run, which say why instead."""
        return {}

    def reconcile(self, month: str, window: Window, hold: Hold = _no_hold) -> MonthReport:
        zone = self.mappings.settings.zone
        first, after = window.start.astimezone(zone).date(), window.end.astimezone(zone).date()
        rows = {
            row.billing_id: row
            for row in ledger.documents_issued(self._state, window.start, window.end)
        }
        states = ledger.state_counts(self._state, window.start, window.end)
        with psycopg.connect(self.billing_url) as conn:
            documents = billing_side.read_month(conn, window)
        entries, calls = self._read_exact(first, after, hold)
        refs = {e.your_ref for found in entries.values() for e in found if e.your_ref}
        with psycopg.connect(self.billing_url) as conn:
            elsewhere = billing_side.known_numbers(
                conn, sorted(refs - {d.number for d in documents})
            )
        reversed_entries = corrections.reversed_entries(self._state, list(rows))
        comparison = Matcher(
            self.mappings, rows, entries, (first, after), reversed_entries
        ).compare(documents, elsewhere)
        oldest = comparison.oldest_not_in_exact
        behind = 0 if oldest is None else int((self._now() - oldest).total_seconds() // 60)
        return MonthReport(
            month=month,
            window=window,
            comparison=comparison,
            states=states,
            api_calls=calls,
            not_read={d: why for d, why in self._stopped.items() if d not in entries},
            minutes_behind=max(behind, 0),
        )

    def _read_exact(
        self, first: date, after: date, hold: Hold
    ) -> tuple[dict[int, list[ExactEntry]], int]:
        """Each division's entries of its sales journals (a division stopped by its budget or
        its access is absent), and the calls that cost."""
        journals: dict[int, set[str]] = {}
        for entity in self.mappings.settings.entities.values():
            journals.setdefault(entity.division, set()).add(entity.sales_journal)
        margin = date.fromordinal(first.toordinal() - MARGIN_DAYS)
        until = date.fromordinal(after.toordinal() + MARGIN_DAYS)
        entries: dict[int, list[ExactEntry]] = {}
        calls = 0
        for division, codes in sorted(journals.items()):
            if division in self._stopped:
                continue
            with hold(division):
                meter = CallMeter(self.exact, [division])
                try:
                    entries[division] = exact_side.read_month(
                        self.exact, division, codes, margin, until
                    )
                except STOPS_THE_DIVISION as stop:
                    self._stopped[division] = not_read_back(stop, self.mappings.settings.zone)
                finally:
                    calls += meter.calls()[division]
        return entries, calls
