"""Pacing from Exact's X-RateLimit-* headers instead of running into 429s.

Each division has a daily budget (`X-RateLimit-Limit/-Remaining/-Reset`) and a minutely one
(`X-RateLimit-Minutely-*`); resets are epoch milliseconds on the SERVER's clock. Before a call:
a spent daily budget raises `DailyLimitReached` (nothing to wait for within a run); a spent
minutely budget sleeps until the server's clock (see clock.py) reaches the minutely reset.
The last budget seen per division is handed to a `BudgetStore` so the next run and
`auth status` know it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Protocol

import httpx

from exact_pipeline.exact.clock import ServerClock, utc
from exact_pipeline.exact.errors import DailyLimitReached

# A wait longer than this means our view of the server clock is wrong; never hang a run on it.
MAX_MINUTELY_WAIT = 65.0
SLEEP_MARGIN = 0.05


@dataclass(frozen=True)
class Budget:
    """One division's API budget as of a response (resets: server epoch seconds)."""

    daily_limit: int | None = None
    daily_remaining: int | None = None
    daily_reset: float | None = None
    minutely_limit: int | None = None
    minutely_remaining: int | None = None
    minutely_reset: float | None = None

    @classmethod
    def from_headers(cls, headers: httpx.Headers) -> Budget | None:
        def number(name: str) -> int | None:
            value = headers.get(f"X-RateLimit-{name}")
            try:
                return int(value) if value is not None else None
            except ValueError:
                return None

        def instant(name: str) -> float | None:
            ms = number(name)
            return ms / 1000 if ms is not None else None

        budget = cls(
            daily_limit=number("Limit"),
            daily_remaining=number("Remaining"),
            daily_reset=instant("Reset"),
            minutely_limit=number("Minutely-Limit"),
            minutely_remaining=number("Minutely-Remaining"),
            minutely_reset=instant("Minutely-Reset"),
        )
        return None if budget == cls() else budget

    def merged_into(self, previous: Budget | None) -> Budget:
        """A 429 may carry only the minutely headers: keep what it does not say."""
        if previous is None:
            return self
        changes = {k: v for k, v in vars(self).items() if v is not None}
        return replace(previous, **changes)

    def daily_spent(self, now: float) -> bool:
        return self.daily_remaining == 0 and self.daily_reset is not None and self.daily_reset > now

    def minutely_wait(self, now: float) -> float:
        if self.minutely_remaining != 0 or self.minutely_reset is None:
            return 0.0
        return max(0.0, self.minutely_reset - now)


class BudgetStore(Protocol):
    def save(self, division: int, budget: Budget, *, observed_at: float) -> None: ...

    def load(self) -> dict[int, Budget]: ...


class RateLimiter:
    """Per-division budgets seen by this process; each observation is also persisted.

    Pacing uses only what this process saw: a stored budget may be stale (the day or the
    minute may have turned since), and the first call's headers tell the truth anyway.
    """

    def __init__(
        self, clock: ServerClock, store: BudgetStore, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self._clock = clock
        self._store = store
        self._sleep = sleep
        self._budgets: dict[int, Budget] = {}
        self._lock = threading.Lock()

    def budget(self, division: int) -> Budget | None:
        with self._lock:
            return self._budgets.get(division)

    def before_call(self, division: int, *, method: str, path: str) -> None:
        """Raise if the day is spent; sleep if the minute is."""
        budget = self.budget(division)
        if budget is None:
            return
        now = self._clock.now()
        if budget.daily_spent(now):
            raise DailyLimitReached(
                reset_at=utc(budget.daily_reset), method=method, path=path, division=division
            )
        self.wait(budget.minutely_wait(now))

    def wait_for_minute(self, division: int) -> None:
        """After a 429 that was not the daily limit: wait for the minutely reset."""
        budget = self.budget(division)
        now = self._clock.now()
        reset = budget.minutely_reset if budget else None
        if reset is None or reset <= now:
            # The 429 told us nothing usable: Exact's minutes are whole clock minutes.
            reset = now - now % self._clock.window + self._clock.window
        self.wait(reset - now)

    def wait(self, seconds: float) -> None:
        if seconds > 0:
            self._sleep(min(seconds, MAX_MINUTELY_WAIT) + SLEEP_MARGIN)

    def record(self, division: int, seen: Budget) -> Budget:
        with self._lock:
            budget = seen.merged_into(self._budgets.get(division))
            self._budgets[division] = budget
        self._store.save(division, budget, observed_at=self._clock.now())
        return budget
