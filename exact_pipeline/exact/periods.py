"""A division's open and closed periods per journal (`read/financial/JournalStatusList`: a
`Status` 0 open or 1 closed per journal, year and period; GET only, exact-online-api.md §9),
kept in the master-data store between runs (kind `periods:<journal>`, one record per period,
keyed "<year>-<period>") and read from Exact only when it has to be:

- a journal never read is read in full (one `Journal eq` filter: one page of 60 periods, five
  years, in one call);
- a period asked for that the cache does not hold as open (closed, or not listed) is read
  again, once a run: a period is only ever declared closed, or moved past, on what Exact said
  this run, so a period reopened in Exact is seen by the next run that needs it;
- when Exact refused a booking for a closed period (`refuses_closed_period`), once a run more.
A period the cache holds as open costs nothing: if it was closed since, Exact's refusal says
so and the caller refreshes.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING

from exact_pipeline.exact import endpoints
from exact_pipeline.exact.odata import eq

if TYPE_CHECKING:
    from exact_pipeline.exact.masterstore import MasterDataStore, Reader

Period = tuple[int, int]  # (financial year, period)
OPEN, CLOSED = 0, 1
KIND = "periods:{journal}"  # the master-data store's kind for one journal's periods

# Words of Exact's refusal of a booking into a closed period, in both its languages. The
# reference documents the refusal but not its text; these are the sandbox's ("Periode
# 2026/11 van dagboek 70 is afgesloten"). A refusal only triggers a read of the statuses,
# which decide: a false match costs one GET, a miss the usual cool-down.
_PERIOD_WORDS = ("periode", "period")
_CLOSED_WORDS = ("afgesloten", "gesloten", "closed")


def refuses_closed_period(message: str | None) -> bool:
    """Whether Exact's refusal says the booking's period is closed."""
    text = (message or "").lower()
    return any(w in text for w in _PERIOD_WORDS) and any(w in text for w in _CLOSED_WORDS)


def period_of(day: date) -> Period:
    """The financial period a date falls in: the calendar month, as Exact's default financial
    years (12 periods from January) have it and as the sandbox books (`EntryDate`'s year and
    month). A division with another calendar (a financial year from April, 13 periods) would
    need financial/FinancialPeriods' StartDate/EndDate: not read."""
    return day.year, day.month


def period_text(period: Period) -> str:
    """ "2026/11", as Exact writes a period."""
    return f"{period[0]}/{period[1]:02d}"


class JournalPeriods:
    """One division's period statuses per journal, for one run (one per `MasterData`)."""

    def __init__(self, reader: Reader, store: MasterDataStore, division: int) -> None:
        self._reader = reader
        self._store = store
        self.division = division
        self._statuses: dict[str, dict[Period, int]] = {}  # journal → period → status
        self._read: set[str] = set()  # journals read from Exact this run
        self._read_after_refusal: set[str] = set()

    def cached(self, journal: str) -> Mapping[Period, int] | None:
        """What the store holds (no call to Exact); None when the journal was never read."""
        if journal not in self._statuses:
            found = self._store.load(self.division, KIND.format(journal=journal))
            if found is None:
                return None
            self._statuses[journal] = {
                (int(r["Year"]), int(r["Period"])): int(r["Status"]) for r in found.records.values()
            }
        return self._statuses[journal]

    def statuses(self, journal: str, needed: Period) -> Mapping[Period, int]:
        """The journal's periods, read again (once a run) unless `needed` is known open."""
        cached = self.cached(journal)
        if cached is None or cached.get(needed) != OPEN:
            self.refresh(journal)
        return self._statuses[journal]

    def refresh(self, journal: str, *, refused: bool = False) -> bool:
        """Read the journal's periods from Exact unless this run did (`refused`: Exact refused
        a booking for a closed period, which earns one more read). Returns whether it read."""
        done = self._read_after_refusal if refused else self._read
        if journal in done:
            return False
        rows = self._reader.list(
            self.division, endpoints.JOURNAL_STATUS, filter=eq("Journal", journal)
        )
        statuses = {
            (r.Year, r.Period): r.Status
            for r in rows
            if r.Year is not None and r.Period is not None and r.Status is not None
        }
        records = {
            f"{year}-{period}": (None, {"Year": year, "Period": period, "Status": status})
            for (year, period), status in statuses.items()
        }
        self._store.replace(self.division, KIND.format(journal=journal), records)
        self._statuses[journal] = statuses
        self._read.add(journal)
        done.add(journal)
        return True


def first_open_after(statuses: Mapping[Period, int], period: Period) -> Period | None:
    """The first period after `period` Exact lists as open, or None."""
    return min((p for p, status in statuses.items() if p > period and status == OPEN), default=None)
