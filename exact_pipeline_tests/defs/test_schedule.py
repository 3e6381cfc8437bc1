"""The hourly schedule: today, yesterday shortly after midnight, never before connection_date."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from exact_pipeline import definitions
from exact_pipeline.defs.resources import MappingTables
from exact_pipeline_tests.sync.conftest import MappingFolder

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def requested(mapping_folder: MappingFolder, at: datetime) -> list[str | None]:
    defs = definitions.defs()
    context = dg.build_schedule_context(
        scheduled_execution_time=at,
        repository_def=defs.get_repository_def(),
        # The schedule reads only the mapping tables (connection_date), per tick.
        resources={"mapping_tables": MappingTables(folder=str(mapping_folder.folder))},
    )
    data = defs.resolve_schedule_def("hourly_sync").evaluate_tick(context)
    assert data.run_requests is not None
    return [request.partition_key for request in data.run_requests]


@pytest.mark.parametrize(
    ("at", "keys"),
    [
        (datetime(2026, 11, 20, 10, 5, tzinfo=AMSTERDAM), ["2026-11-20"]),
        # 23:05 UTC is already the next day in Amsterdam: the partition follows local time.
        (datetime(2026, 11, 20, 23, 5, tzinfo=ZoneInfo("UTC")), ["2026-11-20", "2026-11-21"]),
        (datetime(2026, 11, 21, 1, 5, tzinfo=AMSTERDAM), ["2026-11-20", "2026-11-21"]),
        (datetime(2026, 11, 21, 2, 5, tzinfo=AMSTERDAM), ["2026-11-21"]),
        # The first automated day's early ticks do not reach back before connection_date.
        (datetime(2026, 11, 1, 0, 5, tzinfo=AMSTERDAM), ["2026-11-01"]),
        (datetime(2026, 10, 15, 10, 5, tzinfo=AMSTERDAM), []),
    ],
)
def test_hourly_schedule_targets(
    mapping_folder: MappingFolder, at: datetime, keys: list[str]
) -> None:
    assert requested(mapping_folder, at) == keys


def test_schedule_follows_connection_date(mapping_folder: MappingFolder) -> None:
    mapping_folder.setting("connection_date", "2026-11-21")
    at = datetime(2026, 11, 20, 10, 5, tzinfo=AMSTERDAM)
    assert requested(mapping_folder, at) == []
