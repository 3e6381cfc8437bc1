"""Divisions a run had to leave early, and the plain sentence that says so.

A spent daily budget (or a division Exact refuses) stops only that division: the run goes on
with the others, counts what it left behind in the stopped one, and ends with e.g. "Exact's
daily API budget for division 310001 is spent; 37 documents stay staged and go through after
2026-11-25 01:00 (CET)." A backfill stopped at the live reserve says so the same way. An
endpoint paused short of Exact's error block stops the division's
step the same way, with how many refusals and until when.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from exact_pipeline.exact import (
    DailyLimitReached,
    EndpointPaused,
    ForbiddenError,
    ReserveReached,
)
from exact_pipeline.exact.errorblock import endpoint_of

Stop = DailyLimitReached | ForbiddenError | EndpointPaused


class Stops:
    def __init__(self, zone: ZoneInfo, noun: str, state: str) -> None:
        """`noun`: what is left (document, customer); `state`: how it stays (staged)."""
        self._zone = zone
        self._noun = noun
        self._state = state
        self._reasons: dict[int, Stop] = {}
        self._left: dict[int, int] = {}

    def stop(self, division: int, error: Stop) -> None:
        """Stop `division`; the item that met the error is left too."""
        self._reasons[division] = error
        self._left[division] = self._left.get(division, 0) + 1

    def skip(self, division: int | None) -> bool:
        """True (and counted as left) when `division` was stopped."""
        if division is None or division not in self._reasons:
            return False
        self._left[division] += 1
        return True

    def sentence(self) -> str | None:
        if not self._reasons:
            return None
        return " ".join(
            self._sentence(division, error) for division, error in sorted(self._reasons.items())
        )

    def _sentence(self, division: int, error: Stop) -> str:
        left = self._left[division]
        one = left == 1
        items = (
            f"{left} {self._noun}{'' if one else 's'} {'stays' if one else 'stay'} {self._state}"
        )
        if isinstance(error, ReserveReached):
            reset = error.reset_at.astimezone(self._zone)
            return (
                f"Stopped at the live reserve in division {division}: the rest of today's "
                f"Exact API budget ({error.reserve} calls) is kept for live documents; {items} "
                f"and the backfill resumes by itself after {reset:%Y-%m-%d %H:%M} ({reset:%Z})."
            )
        if isinstance(error, DailyLimitReached):
            reset = error.reset_at.astimezone(self._zone)
            return (
                f"Exact's daily API budget for division {division} is spent; {items} and "
                f"{'goes' if one else 'go'} through after {reset:%Y-%m-%d %H:%M} ({reset:%Z})."
            )
        if isinstance(error, EndpointPaused):
            until = error.until.astimezone(self._zone)
            return (
                f"Exact refused {error.errors} calls to {_endpoint(error)} in division {division} "
                "within the last hour (see the blocked ones for why); more than 10 would block "
                f"it for an hour, so the pipeline stops calling it until {until:%Y-%m-%d %H:%M} "
                f"({until:%Z}); {items} and "
                f"{'goes' if one else 'go'} through after that."
            )
        return (
            f"Exact refuses access to division {division} ({error}); {items}: connect again "
            "(`exact-pipeline auth login`) as a user who may use the division."
        )


def _endpoint(error: EndpointPaused) -> str:
    return endpoint_of(error.path) if error.path else "an endpoint"


def not_read_back(error: Stop, zone: ZoneInfo) -> str:
    """Why a check could not read Exact back this run (it is not a failure), and when it can."""
    if isinstance(error, ReserveReached):
        reset = error.reset_at.astimezone(zone)
        return (
            f"a backfill keeps the rest of division {error.division}'s daily Exact API budget "
            f"for live documents, so Exact was not read back this run; the first run after "
            f"{reset:%Y-%m-%d %H:%M} ({reset:%Z}) checks again."
        )
    if isinstance(error, DailyLimitReached):
        reset = error.reset_at.astimezone(zone)
        return (
            f"Exact's daily API budget for division {error.division} is spent, so Exact was not "
            f"read back this run; the first run after {reset:%Y-%m-%d %H:%M} ({reset:%Z}) "
            "checks again."
        )
    return f"Exact was not read back this run ({error}); the next run checks again."
