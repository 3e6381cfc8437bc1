"""API calls spent during a piece of work, per division, as Exact counted them.

Read from the daily budget Exact reports on every answer (`X-RateLimit-Remaining`, which the
client records per division and keeps across runs): calls = remaining before − remaining after.
When the day's budget was reset in between (another reset instant), the work started from a
full budget. Exact counts every call of the app in the division, so this is exact as long as
one writer works per division at a time, which the Dagster pool guarantees.
"""

from __future__ import annotations

from collections.abc import Iterable

from exact_pipeline.exact import Budget, ExactClient


class CallMeter:
    def __init__(self, exact: ExactClient, divisions: Iterable[int]) -> None:
        self._exact = exact
        self._before: dict[int, Budget | None] = {d: exact.budget(d) for d in divisions}

    def calls(self) -> dict[int, int]:
        return {
            division: self._spent(division, before) for division, before in self._before.items()
        }

    def _spent(self, division: int, before: Budget | None) -> int:
        after = self._exact.budget(division)
        if after is None or after.daily_remaining is None or after == before:
            return 0
        same_day = (
            before is not None
            and before.daily_remaining is not None
            and before.daily_reset == after.daily_reset
        )
        start = before.daily_remaining if same_day and before else after.daily_limit
        return max((start or 0) - after.daily_remaining, 0)
