"""The sandbox clock and Exact's date conventions.

Every time rule (token lifetimes, rate-limit windows, Timestamps, created dates) reads this
clock, which runs at real speed from an offset the admin API can move forward.

Exact works in its own local time (CET/CEST for the NL host): `/Date(ms)/` values are that
local wall-clock time written as if it were UTC, and dates are local midnight.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

EXACT_TZ = ZoneInfo("Europe/Amsterdam")
_EPOCH = datetime(1970, 1, 1)
_JSON_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")


class Clock:
    """Real time shifted by an offset (`advance` moves it forward, `set` anywhere)."""

    def __init__(self, offset_seconds: float = 0.0) -> None:
        self.offset_seconds = offset_seconds

    def now(self) -> datetime:
        """Aware UTC now."""
        return datetime.fromtimestamp(time.time() + self.offset_seconds, UTC)

    def epoch(self) -> float:
        return time.time() + self.offset_seconds

    def epoch_ms(self) -> int:
        return int(self.epoch() * 1000)

    def local_now(self) -> datetime:
        """Exact's local wall-clock time, naive, whole seconds."""
        return to_local(self.now()).replace(microsecond=0)

    def utc_offset_seconds(self) -> int:
        offset = self.now().astimezone(EXACT_TZ).utcoffset()
        return int(offset.total_seconds()) if offset else 0

    def advance(self, seconds: float) -> None:
        self.offset_seconds += seconds

    def set(self, moment: datetime) -> None:
        self.offset_seconds = moment.timestamp() - time.time()


def to_local(moment: datetime) -> datetime:
    """Aware → Exact's naive local time."""
    return moment.astimezone(EXACT_TZ).replace(tzinfo=None)


def to_json_date(value: datetime) -> str:
    """Naive Exact-local datetime → `/Date(ms)/` (the wall-clock time written as if UTC)."""
    millis = (value - _EPOCH) // timedelta(milliseconds=1)
    return f"/Date({millis})/"


def parse_datetime(text: str) -> datetime:
    """An incoming date: ISO without offset (taken as Exact-local), ISO with an offset or `Z`
    (converted to Exact-local, which is how a `Z` date can slip into the previous day), or
    `/Date(ms)/`. Raises ValueError."""
    if match := _JSON_DATE.match(text.strip()):
        return _EPOCH + timedelta(milliseconds=int(match.group(1)))
    parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if parsed.tzinfo is not None:
        return to_local(parsed)
    return parsed


def utc_midnight_after(moment: datetime) -> datetime:
    """Start of the next UTC day (Exact's daily limit resets there)."""
    day: date = moment.astimezone(UTC).date() + timedelta(days=1)
    return datetime.combine(day, datetime.min.time(), tzinfo=UTC)
