"""When the mapping tables change: a sensor validates them again and, in the same run, re-runs
the automated days holding blocked or failed documents (`apply_mapping_fix`), so a fix goes
through in one run."""

from __future__ import annotations

from datetime import datetime

import dagster as dg

from exact_pipeline.defs.documents.automation import RANGE_END, RANGE_START, TRIGGER_TAG
from exact_pipeline.defs.mappings.assets import validate_mappings
from exact_pipeline.defs.partitions import DAILY, ZONE, automated_keys
from exact_pipeline.defs.resources import BillingDatabase, ExactOnline, MappingTables, StateDatabase
from exact_pipeline.defs.steps import SYNC_GROUP, connected
from exact_pipeline.sync.documents.engine import SyncEngine

# The tables validated first (so the synced days record the new tables as their input, and
# are no longer stale), then the days waiting for a fix. Its partitions are the assets' own
# (`partitions_def` on a job is deprecated).
apply_mapping_fix = dg.define_asset_job(
    "apply_mapping_fix",
    selection=dg.AssetSelection.assets("mapping_tables") | dg.AssetSelection.groups(SYNC_GROUP),
    description="Validate the mapping tables, then re-run the days holding blocked or "
    "failed documents.",
)


def mapping_cursor(cursor: str | None) -> tuple[str | None, int]:
    """(fingerprint last seen, number of changes seen) from the mapping sensor's cursor; a
    cursor written before the count holds the fingerprint alone."""
    if not cursor:
        return None, 0
    fingerprint, _, count = cursor.partition(":")
    return fingerprint, int(count or 0)


@dg.sensor(
    jobs=[validate_mappings, apply_mapping_fix],
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="When the mapping tables change: re-validates them and, in the same run, "
    "re-runs the automated days holding blocked or failed documents, so a fix goes through "
    "in one run.",
)
def mapping_changes(
    context: dg.SensorEvaluationContext,
    billing_database: BillingDatabase,
    state_database: StateDatabase,
    exact_online: ExactOnline,
    mapping_tables: MappingTables,
) -> dg.SensorResult | dg.SkipReason:
    tables = mapping_tables.tables
    fingerprint = tables.fingerprint()
    seen, changes = mapping_cursor(context.cursor)
    if fingerprint == seen:
        return dg.SkipReason("mapping tables unchanged")
    # A count of the changes seen: an edit undone and made again is a new change, and a
    # run key is never reused (Dagster would drop the request).
    run_key = f"mappings:{fingerprint}:{changes + 1}"
    systems = (billing_database, state_database, exact_online, mapping_tables)
    with connected(SyncEngine, *systems) as engine:
        waiting = [day.isoformat() for day in engine.days_waiting_for_a_fix()]
    existing = set(DAILY.get_partition_keys(datetime.now(ZONE)))
    days = [day for day in automated_keys(tables, waiting) if day in existing]
    return dg.SensorResult(
        run_requests=[fix_request(run_key, days)], cursor=f"{fingerprint}:{changes + 1}"
    )


def fix_request(run_key: str, days: list[str]) -> dg.RunRequest:
    """Validation alone, or validation then every waiting day in ONE run: one process and
    one pass over Exact's master data instead of a run per day. The range also holds the
    days between (idempotent: their synced documents cost no call)."""
    tags = {TRIGGER_TAG: "mapping_change"}
    if not days:
        return dg.RunRequest(job_name=validate_mappings.name, run_key=run_key, tags=tags)
    if len(days) == 1:
        return dg.RunRequest(
            job_name=apply_mapping_fix.name, run_key=run_key, partition_key=days[0], tags=tags
        )
    return dg.RunRequest(
        job_name=apply_mapping_fix.name,
        run_key=run_key,
        tags={**tags, RANGE_START: days[0], RANGE_END: days[-1]},
    )
