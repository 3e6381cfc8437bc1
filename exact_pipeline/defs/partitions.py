"""Daily partitions of `issued_at`, in the mapping tables' timezone, from `history_start`.

The partitions are part of the definitions, so they follow the tables as the code location
loads them (`DAILY`, once per process): a bad table stops the load with the table's own
message, and a change of `history_start` or `timezone` takes effect when the code location is
reloaded. Everything else (`connection_date`, the codes) is read per run or tick through the
`mapping_tables` resource.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import dagster as dg

from exact_pipeline.defs.resources import mapping_tables
from exact_pipeline.mapping import Mappings
from exact_pipeline.sync.core.window import Window


def daily_partitions(mappings: Mappings) -> dg.DailyPartitionsDefinition:
    settings = mappings.settings
    # end_offset=1: today's partition exists (and fills up) before the day is over.
    return dg.DailyPartitionsDefinition(
        start_date=settings.history_start.isoformat(),
        timezone=settings.timezone,
        end_offset=1,
    )


# The tables as the code location loaded them: only their history_start and timezone are used.
AT_LOAD = mapping_tables().load()
DAILY = daily_partitions(AT_LOAD)
TIMEZONE, ZONE = AT_LOAD.settings.timezone, AT_LOAD.settings.zone


def window_of(context: dg.AssetExecutionContext) -> Window:
    """The run's window: one day, or the whole range of a backfill's single run."""
    window = context.partition_time_window
    return Window(start=window.start, end=window.end)


def days_of(context: dg.AssetExecutionContext) -> list[tuple[str, Window]]:
    """Each partition of the run with its own window, oldest first: a range run reports its
    figures and checks day by day, as a run of one day would."""
    partitions = context.assets_def.partitions_def
    assert isinstance(partitions, dg.TimeWindowPartitionsDefinition)
    days = []
    for key in context.partition_keys:
        window = partitions.time_window_for_partition_key(key)
        days.append((key, Window(start=window.start, end=window.end)))
    return days


def automated_keys(mappings: Mappings, keys: list[str]) -> list[str]:
    """The partitions automation may touch: from `connection_date` on. Older ones are history,
    pushed only by a backfill someone chooses to launch."""
    first = mappings.settings.connection_date.isoformat()
    return [key for key in keys if key >= first]


def local_day(moment: datetime, mappings: Mappings) -> date:
    return moment.astimezone(mappings.settings.zone).date()


def previous_day(key: str) -> str:
    return (date.fromisoformat(key) - timedelta(days=1)).isoformat()
