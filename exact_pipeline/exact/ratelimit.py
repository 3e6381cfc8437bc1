"""Pacing from Exact's X-RateLimit-* headers instead of running into 429s.

Each division has a daily budget (`X-RateLimit-Limit/-Remaining/-Reset`) and a minutely one
(`X-RateLimit-Minutely-*`); resets are epoch milliseconds on the SERVER's clock. Before a call:
a spent daily budget raises `DailyLimitReached` (nothing to wait for within a run); a spent
minutely budget sleeps until the server's clock (see clock.py) reaches the minutely reset.
The last budget seen per division is handed to a `BudgetStore` so the next run and
`auth status` know it.

A caller may keep a share of every division's daily budget unspent (`reserve`, a percentage of
`X-RateLimit-Limit`): a call that would dip into it raises `ReserveReached` (a
`DailyLimitReached`, with the reset time) instead. Before this process has seen the division's
budget, the stored one judges that first call, so a new run never spends into the reserve
either; it stops only once Exact's own clock (`calibrate`, a free call) says the stored day
is not over.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Protocol

import httpx

from exact_pipeline.exact.clock import ServerClock, utc
from exact_pipeline.exact.errors import DailyLimitReached, ReserveReached

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

    def reserve_calls(self, percent: int) -> int:
        """`percent` % of the daily limit, rounded up: the calls kept unspent."""
        return -(-(self.daily_limit or 0) * percent // 100)

    def renewed(self, now: float) -> bool:
        """The daily budget this one was seen in has reset (or no reset is known)."""
        return self.daily_reset is None or self.daily_reset <= now

    def calls_left(self, now: float, *, keep_percent: int = 0) -> int | None:
        """Calls the division may still make today keeping `keep_percent` % of its daily limit;
        a whole day's once the reset has passed. None: the budget is unknown."""
        if self.daily_limit is None or self.daily_remaining is None:
            return None
        remaining = self.daily_limit if self.renewed(now) else self.daily_remaining
        return max(remaining - self.reserve_calls(keep_percent), 0)

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
        self,
        clock: ServerClock,
        store: BudgetStore,
        sleep: Callable[[float], None] = time.sleep,
        calibrate: Callable[[], object] | None = None,
    ) -> None:
        """`calibrate`: asks the server's time (for the clock) before a stored budget stops
        a call."""
        self._clock = clock
        self._store = store
        self._sleep = sleep
        self._calibrate = calibrate
        self._budgets: dict[int, Budget] = {}
        self._reserves: list[tuple[int | None, int]] = []  # (division or None: all, percent)
        self._lock = threading.Lock()

    def budget(self, division: int) -> Budget | None:
        with self._lock:
            return self._budgets.get(division)

    @contextmanager
    def reserve(self, percent: int, division: int | None = None) -> Iterator[None]:
        """Within, keep `percent` % of `division`'s daily limit unspent (every division's
        when None). Reserves add up by taking the largest, whichever thread entered them."""
        if not 0 <= percent <= 100:
            raise ValueError(f"a reserve is a percentage from 0 to 100, got {percent}")
        entry = (division, percent)
        with self._lock:
            self._reserves.append(entry)
        try:
            yield
        finally:
            with self._lock:
                self._reserves.remove(entry)

    def before_call(self, division: int, *, method: str, path: str) -> None:
        """Raise if the day is spent (or down to the reserve); sleep if the minute is."""
        with self._lock:
            keep = max((p for d, p in self._reserves if d in (None, division)), default=0)
        budget = self.budget(division) or (self._stored(division, keep) if keep else None)
        if budget is None:
            return
        now = self._clock.now()
        where = {"method": method, "path": path, "division": division}
        if budget.daily_spent(now):
            raise DailyLimitReached(reset_at=utc(budget.daily_reset), **where)
        if keep and budget.calls_left(now, keep_percent=keep) == 0:
            assert budget.daily_reset is not None  # not renewed: a reset is known
            reserve = budget.reserve_calls(keep)
            raise ReserveReached(reserve=reserve, reset_at=utc(budget.daily_reset), **where)
        self.wait(budget.minutely_wait(now))

    def _stored(self, division: int, keep: int) -> Budget | None:
        """The stored budget when it leaves nothing above the reserve on Exact's clock: a call
        must not find out by spending into it. None: the call may go (its answer tells)."""
        stored = self._store.load().get(division)
        if stored is None or stored.calls_left(self._clock.now(), keep_percent=keep) != 0:
            return None
        if self._calibrate is not None:
            self._calibrate()
        return None if stored.renewed(self._clock.now()) else stored

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
