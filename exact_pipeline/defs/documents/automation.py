"""When documents sync: the `exact_sync` job, run every hour by a schedule and on billing's
changes by a sensor. Both ask the document engine, and touch only partitions from
`connection_date` on (read per tick from the mapping tables); older days are history that a
user pushes deliberately with a backfill.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import dagster as dg

from exact_pipeline.defs.partitions import (
    AT_LOAD,
    DAILY,
    TIMEZONE,
    ZONE,
    automated_keys,
    local_day,
    previous_day,
)
from exact_pipeline.defs.resources import BillingDatabase, ExactOnline, MappingTables, StateDatabase
from exact_pipeline.defs.steps import SYNC_GROUP, connected
from exact_pipeline.mapping import Mappings
from exact_pipeline.sync.documents.engine import SyncEngine

RUNNING = dg.DefaultScheduleStatus.RUNNING
TRIGGER_TAG = "exact_pipeline/trigger"
RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"
# The cursor earlier versions wrote while billing held no finalized document yet.
EMPTY_BILLING = "empty"
# The ticks shortly after midnight also sync yesterday, for documents finalized late at night.
YESTERDAY_UNTIL_HOUR = 2
DOCUMENTS_KEY = dg.AssetKey("exact_documents")

exact_sync = dg.define_asset_job(
    "exact_sync",
    selection=dg.AssetSelection.groups(SYNC_GROUP),
    partitions_def=DAILY,
    description="Sync the partition's customers and documents into Exact Online.",
)


@dg.schedule(
    job=exact_sync,
    cron_schedule="5 * * * *",
    execution_timezone=TIMEZONE,
    default_status=RUNNING,
    description="Every hour: today's partition (and yesterday's shortly after midnight).",
)
def hourly_sync(
    context: dg.ScheduleEvaluationContext, mapping_tables: MappingTables
) -> list[dg.RunRequest]:
    now = context.scheduled_execution_time.astimezone(ZONE)
    today = now.date().isoformat()
    keys = [previous_day(today), today] if now.hour < YESTERDAY_UNTIL_HOUR else [today]
    return [
        dg.RunRequest(
            partition_key=key,
            run_key=f"hourly:{key}:{now.isoformat(timespec='minutes')}",
            tags={TRIGGER_TAG: "hourly"},
        )
        for key in automated_keys(mapping_tables.tables, keys)
    ]


@dg.sensor(
    job=exact_sync,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Runs the partitions of new or changed finalized invoices and credit notes.",
)
def billing_changes(
    context: dg.SensorEvaluationContext,
    billing_database: BillingDatabase,
    state_database: StateDatabase,
    exact_online: ExactOnline,
    mapping_tables: MappingTables,
) -> dg.SensorResult | dg.SkipReason:
    existing = DAILY.get_partition_keys(datetime.now(ZONE))
    tables = mapping_tables.tables
    systems = (billing_database, state_database, exact_online, mapping_tables)
    with connected(SyncEngine, *systems) as engine:
        if context.cursor is None:
            # First tick: start at the head, so history is not replayed day by day; the
            # automated days not synced yet are caught up in ONE range run.
            catch_up = catch_up_request(context.instance, tables, existing)
            return dg.SensorResult(
                run_requests=[catch_up] if catch_up else [],
                cursor=str(engine.start_of_billing_changes()),
                skip_reason=None if catch_up else "initialised at the head of billing changes",
            )
        # A cursor written while billing was empty (earlier versions) reads all changes.
        batch = engine.billing_changes(None if context.cursor == EMPTY_BILLING else context.cursor)
    if not batch.changes:
        # The cursor still moves: its floor follows the clock, its overlap forgets.
        return dg.SensorResult(
            skip_reason="no new or changed finalized documents", cursor=str(batch.cursor)
        )
    days = {local_day(change.issued_at, AT_LOAD).isoformat() for change in batch.changes}
    # A document dated after today waits for its day (the hourly schedule picks it up).
    keys = [key for key in automated_keys(tables, sorted(days)) if key in existing]
    return dg.SensorResult(
        # The run key carries the batch's highest change: a later change on an already-run
        # day must start a new run, not be swallowed by the day's earlier key.
        run_requests=[
            dg.RunRequest(
                partition_key=key,
                run_key=f"{key}:{batch.mark}",
                tags={TRIGGER_TAG: "billing_change"},
            )
            for key in keys
        ],
        cursor=str(batch.cursor),
    )


def catch_up_request(
    instance: dg.DagsterInstance, tables: Mappings, existing: Sequence[str]
) -> dg.RunRequest | None:
    done = instance.get_materialized_partitions(DOCUMENTS_KEY)
    missing = [key for key in automated_keys(tables, list(existing)) if key not in done]
    if not missing:
        return None
    return dg.RunRequest(
        run_key=f"catch_up:{missing[0]}...{missing[-1]}",
        tags={RANGE_START: missing[0], RANGE_END: missing[-1], TRIGGER_TAG: "catch_up"},
    )
