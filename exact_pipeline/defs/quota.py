"""How a run shares each division's daily Exact budget with live documents.

A run is a BACKFILL when it was launched as one: Dagster's backfill tag (a range launched from
the UI, `dagster asset backfill`), a range run without a trigger (`dagster asset materialize
--partition-range`), the billing sensor's first catch-up, or the resume sensor's run
(resume.py). Its LIVE days, today and yesterday in the tables' timezone (what the hourly
schedule and the billing sensor sync), go first and may spend the whole budget; its other days
keep `live_reserve_percent` of each division's daily limit unspent
(`ExactClient.keep_in_reserve`), so the hourly and the sensor's runs always find calls left. A
backfill stopped there leaves its documents staged, green, and the resume sensor continues it
after the daily reset. Every other run (hourly, a billing change, a mapping fix, one day
launched by hand) is live: it spends what is left.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import dagster as dg

from exact_pipeline.defs.documents.automation import RANGE_START, TRIGGER_TAG
from exact_pipeline.exact import ExactClient
from exact_pipeline.mapping import Mappings
from exact_pipeline.sync.documents.backlog import CALLS_PER_DOCUMENT, Backlog
from exact_pipeline.sync.documents.engine import SyncEngine

BACKFILL_TAG = "dagster/backfill"  # set by Dagster on every run of a backfill
RESUME = "resume"  # the resume sensor's trigger
BACKFILL_TRIGGERS = frozenset({"catch_up", RESUME})
D = TypeVar("D")


def is_backfill(tags: Mapping[str, str]) -> bool:
    trigger = tags.get(TRIGGER_TAG)
    if BACKFILL_TAG in tags or trigger in BACKFILL_TRIGGERS:
        return True
    return trigger is None and RANGE_START in tags


def live_days(now: datetime, zone: ZoneInfo) -> frozenset[str]:
    """Today's and yesterday's partition keys in `zone`."""
    today = now.astimezone(zone).date()
    return frozenset(day.isoformat() for day in (today, today - timedelta(days=1)))


@dataclass(frozen=True)
class Quota:
    backfill: bool
    percent: int  # live_reserve_percent
    live: frozenset[str]  # partition keys of the live days

    @classmethod
    def of(cls, context: dg.AssetExecutionContext, mappings: Mappings) -> Quota:
        settings = mappings.settings
        return cls(
            backfill=is_backfill(context.run.tags),
            percent=settings.live_reserve_percent,
            live=live_days(datetime.now(settings.zone), settings.zone),
        )

    def live_first(self, days: Sequence[tuple[str, D]]) -> list[tuple[str, D]]:
        """The live days first, then the others, each in their order."""
        return sorted(days, key=lambda day: day[0] not in self.live)

    def spending(
        self, exact: ExactClient, division: int | None, *keys: str
    ) -> AbstractContextManager[None]:
        """The calls made within for the days `keys` (in `division`; all when None) keep the
        live reserve when this is a backfill and any of them is not a live day."""
        if self.backfill and any(key not in self.live for key in keys):
            return exact.keep_in_reserve(self.percent, division)
        return nullcontext()


def usable_per_day(
    exact: ExactClient, divisions: Sequence[int], percent: int
) -> dict[int, int | None]:
    """Per division, the calls a backfill may spend in a whole day (daily limit less the live
    reserve), as Exact last reported the limit; None when it never has."""
    usable: dict[int, int | None] = {}
    for division in divisions:
        budget = exact.budget(division)
        if budget is None or budget.daily_limit is None:
            usable[division] = None
        else:
            usable[division] = budget.daily_limit - budget.reserve_calls(percent)
    return usable


def progress(backlog: Backlog, exact: ExactClient, mappings: Mappings) -> str:
    """Documents left and days to go, in one sentence (see backlog.py)."""
    settings = mappings.settings
    divisions = sorted(backlog.by_division())
    usable = usable_per_day(exact, divisions, settings.live_reserve_percent)
    return backlog.sentence(CALLS_PER_DOCUMENT[settings.invoice_push_mode], usable)


def backfill_progress(engine: SyncEngine) -> dict[str, Any]:
    """A backfill run's progress as asset metadata: what runs left staged on days before
    today (this run's and earlier ones'), and how many days of budget that still needs."""
    zone = engine.mappings.settings.zone
    backlog = engine.backlog(datetime.now(zone).date())
    settings = engine.mappings.settings
    divisions = sorted(backlog.by_division())
    usable = usable_per_day(engine.exact, divisions, settings.live_reserve_percent)
    to_go = backlog.days_to_go(CALLS_PER_DOCUMENT[settings.invoice_push_mode], usable)
    return {
        "backfill_documents_left": backlog.documents,
        "backfill_days_to_go": to_go if to_go is not None else "unknown",
        "backfill_progress": progress(backlog, engine.exact, engine.mappings),
    }
