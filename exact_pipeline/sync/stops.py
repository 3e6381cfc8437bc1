"""Divisions a run had to leave early, and the plain sentence that says so.

A spent daily budget (or a division Exact refuses) stops only that division: the run goes on
with the others, counts what it left behind in the stopped one, and ends with e.g. "Exact's
daily API budget for division 310001 is spent; 37 documents stay staged and go through after
2026-11-25 01:00 (CET)."
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from exact_pipeline.exact import DailyLimitReached, ForbiddenError


class Stops:
    def __init__(self, zone: ZoneInfo, noun: str, state: str) -> None:
        """`noun`: what is left (document, customer); `state`: how it stays (staged)."""
        self._zone = zone
        self._noun = noun
        self._state = state
        self._reasons: dict[int, DailyLimitReached | ForbiddenError] = {}
        self._left: dict[int, int] = {}

    def stop(self, division: int, error: DailyLimitReached | ForbiddenError) -> None:
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

    def _sentence(self, division: int, error: DailyLimitReached | ForbiddenError) -> str:
        left = self._left[division]
        one = left == 1
        items = (
            f"{left} {self._noun}{'' if one else 's'} {'stays' if one else 'stay'} {self._state}"
        )
        if isinstance(error, DailyLimitReached):
            reset = error.reset_at.astimezone(self._zone)
            return (
                f"Exact's daily API budget for division {division} is spent; {items} and "
                f"{'goes' if one else 'go'} through after {reset:%Y-%m-%d %H:%M} ({reset:%Z})."
            )
        return (
            f"Exact refuses access to division {division} ({error}); {items}: connect again "
            "(`exact-pipeline auth login`) as a user who may use the division."
        )
