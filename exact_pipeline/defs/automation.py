"""When syncs run: an hourly schedule, a sensor on billing changes, a sensor on mapping changes.

Automation only ever touches partitions from `connection_date` on; older days are history that a
user pushes deliberately with a backfill.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import dagster as dg
import psycopg

from exact_pipeline.billing.read import changes_since, start_of_changes
from exact_pipeline.defs.partitions import automated_keys, local_day, previous_day
from exact_pipeline.defs.resources import ExactSync
from exact_pipeline.mapping import Mappings
from exact_pipeline.sync import ledger

RUNNING = dg.DefaultScheduleStatus.RUNNING
TRIGGER_TAG = "exact_pipeline/trigger"
RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"
# The cursor earlier versions wrote while billing held no finalized document yet.
EMPTY_BILLING = "empty"
# The ticks shortly after midnight also sync yesterday, for documents finalized late at night.
YESTERDAY_UNTIL_HOUR = 2


def build_jobs(
    partitions: dg.PartitionsDefinition,
) -> tuple[dg.UnresolvedAssetJobDefinition, dg.UnresolvedAssetJobDefinition]:
    sync = dg.define_asset_job(
        "exact_sync",
        selection=dg.AssetSelection.groups("exact_sync"),
        partitions_def=partitions,
        description="Sync the partition's customers and documents into Exact Online.",
    )
    validate = dg.define_asset_job(
        "validate_mappings",
        selection=dg.AssetSelection.assets("mapping_tables"),
        description="Validate the mapping tables against Exact's master data.",
    )
    return sync, validate


def build_fix_job() -> dg.UnresolvedAssetJobDefinition:
    """What a mapping edit starts: the tables validated first (so the synced days record the
    new tables as their input, and are no longer stale), then the days waiting for a fix. Its
    partitions are the assets' own (`partitions_def` on a job is deprecated)."""
    return dg.define_asset_job(
        "apply_mapping_fix",
        selection=dg.AssetSelection.assets("mapping_tables")
        | dg.AssetSelection.groups("exact_sync"),
        description="Validate the mapping tables, then re-run the days holding blocked or "
        "failed documents.",
    )


def build_import_job() -> dg.UnresolvedAssetJobDefinition:
    return dg.define_asset_job(
        "import_payments",
        selection=dg.AssetSelection.assets("payments_from_exact"),
        description="Bring payments registered in Exact into billing (payment_sync "
        "exact_to_billing).",
    )


def mapping_cursor(cursor: str | None) -> tuple[str | None, int]:
    """(fingerprint last seen, number of changes seen) from the mapping sensor's cursor; a
    cursor written before the count holds the fingerprint alone."""
    if not cursor:
        return None, 0
    fingerprint, _, count = cursor.partition(":")
    return fingerprint, int(count or 0)


def build_automation(
    mappings: Mappings,
    partitions: dg.TimeWindowPartitionsDefinition,
    sync_job: dg.UnresolvedAssetJobDefinition,
    validate_job: dg.UnresolvedAssetJobDefinition,
    import_job: dg.UnresolvedAssetJobDefinition,
) -> tuple[list[dg.ScheduleDefinition], list[dg.SensorDefinition]]:
    zone = mappings.settings.zone
    documents_key = dg.AssetKey("exact_documents")

    @dg.schedule(
        job=sync_job,
        cron_schedule="5 * * * *",
        execution_timezone=mappings.settings.timezone,
        default_status=RUNNING,
        description="Every hour: today's partition (and yesterday's shortly after midnight).",
    )
    def hourly_sync(context: dg.ScheduleEvaluationContext) -> list[dg.RunRequest]:
        now = context.scheduled_execution_time.astimezone(zone)
        today = now.date().isoformat()
        keys = [previous_day(today), today] if now.hour < YESTERDAY_UNTIL_HOUR else [today]
        return [
            dg.RunRequest(
                partition_key=key,
                run_key=f"hourly:{key}:{now.isoformat(timespec='minutes')}",
                tags={TRIGGER_TAG: "hourly"},
            )
            for key in automated_keys(mappings, keys)
        ]

    @dg.sensor(
        job=sync_job,
        minimum_interval_seconds=30,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Runs the partitions of new or changed finalized invoices and credit notes.",
    )
    def billing_changes(
        context: dg.SensorEvaluationContext, exact_sync: ExactSync
    ) -> dg.SensorResult | dg.SkipReason:
        existing = partitions.get_partition_keys(datetime.now(zone))
        with psycopg.connect(exact_sync.billing_database_url) as conn:
            if context.cursor is None:
                # First tick: start at the head, so history is not replayed day by day; the
                # automated days not synced yet are caught up in ONE range run.
                catch_up = catch_up_request(context.instance, existing)
                return dg.SensorResult(
                    run_requests=[catch_up] if catch_up else [],
                    cursor=str(start_of_changes(conn)),
                    skip_reason=None if catch_up else "initialised at the head of billing changes",
                )
            # A cursor written while billing was empty (earlier versions) reads all changes.
            since = None if context.cursor == EMPTY_BILLING else context.cursor
            batch = changes_since(conn, since)
        if not batch.changes:
            # The cursor still moves: its floor follows the clock, its overlap forgets.
            return dg.SensorResult(
                skip_reason="no new or changed finalized documents", cursor=str(batch.cursor)
            )
        days = {local_day(change.issued_at, mappings).isoformat() for change in batch.changes}
        # A document dated after today waits for its day (the hourly schedule picks it up).
        keys = [key for key in automated_keys(mappings, sorted(days)) if key in existing]
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
        instance: dg.DagsterInstance, existing: Sequence[str]
    ) -> dg.RunRequest | None:
        done = instance.get_materialized_partitions(documents_key)
        missing = [key for key in automated_keys(mappings, list(existing)) if key not in done]
        if not missing:
            return None
        return dg.RunRequest(
            run_key=f"catch_up:{missing[0]}...{missing[-1]}",
            tags={RANGE_START: missing[0], RANGE_END: missing[-1], TRIGGER_TAG: "catch_up"},
        )

    fix_job = build_fix_job()

    @dg.sensor(
        jobs=[validate_job, fix_job],
        minimum_interval_seconds=30,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="When the mapping tables change: re-validates them and, in the same run, "
        "re-runs the automated days holding blocked or failed documents, so a fix goes through "
        "in one run.",
    )
    def mapping_changes(
        context: dg.SensorEvaluationContext, exact_sync: ExactSync
    ) -> dg.SensorResult | dg.SkipReason:
        fingerprint = exact_sync.mappings().fingerprint()
        seen, changes = mapping_cursor(context.cursor)
        if fingerprint == seen:
            return dg.SkipReason("mapping tables unchanged")
        # A count of the changes seen: an edit undone and made again is a new change, and a
        # run key is never reused (Dagster would drop the request).
        run_key = f"mappings:{fingerprint}:{changes + 1}"
        with psycopg.connect(exact_sync.settings().state_url, autocommit=True) as state:
            ledger.ensure_schema(state)
            waiting = [day.isoformat() for day in ledger.days_waiting_for_a_fix(state)]
        existing = set(partitions.get_partition_keys(datetime.now(zone)))
        days = [day for day in automated_keys(mappings, waiting) if day in existing]
        return dg.SensorResult(
            run_requests=[fix_request(run_key, days)], cursor=f"{fingerprint}:{changes + 1}"
        )

    def fix_request(run_key: str, days: list[str]) -> dg.RunRequest:
        """Validation alone, or validation then every waiting day in ONE run: one process and
        one pass over Exact's master data instead of a run per day. The range also holds the
        days between (idempotent: their synced documents cost no call)."""
        tags = {TRIGGER_TAG: "mapping_change"}
        if not days:
            return dg.RunRequest(job_name=validate_job.name, run_key=run_key, tags=tags)
        if len(days) == 1:
            return dg.RunRequest(
                job_name=fix_job.name, run_key=run_key, partition_key=days[0], tags=tags
            )
        return dg.RunRequest(
            job_name=fix_job.name,
            run_key=run_key,
            tags={**tags, RANGE_START: days[0], RANGE_END: days[-1]},
        )

    hourly_import = dg.ScheduleDefinition(
        name="hourly_payment_import",
        job=import_job,
        cron_schedule="35 * * * *",
        execution_timezone=mappings.settings.timezone,
        default_status=RUNNING,
        description="Every hour: payments registered in Exact into billing "
        "(does nothing unless payment_sync is exact_to_billing).",
    )
    return [hourly_sync, hourly_import], [billing_changes, mapping_changes]
