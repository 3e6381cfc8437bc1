"""A backfill larger than a day's budget continues by itself: after each daily reset the
`resume_backfills` sensor starts ONE range run (quota.py: a backfill, so it keeps the live
reserve) over the days runs left documents staged on, until none is left.

It looks at the ledger (documents still staged on days before today that a run has pushed:
`exact_documents` materialized, so a staging-only preview is never pushed behind a person's
back) and at each division's budget as Exact last reported it. It requests nothing while a
backfill run is queued or running, nor while every division concerned is still at its live
reserve (its daily reset not passed on Exact's clock, asked from `current/Me`, a free call).
The run key names each division's budget day, so a budget day starts at most one resume run
per division. The tick's message (or log) and the run's `exact_pipeline/backlog` tag say how
many documents are left and how many days to go.
"""

from __future__ import annotations

from datetime import datetime

import dagster as dg

from exact_pipeline.defs.documents.automation import (
    DOCUMENTS_KEY,
    RANGE_END,
    RANGE_START,
    TRIGGER_TAG,
    exact_sync,
)
from exact_pipeline.defs.partitions import DAILY, ZONE
from exact_pipeline.defs.quota import RESUME, is_backfill, progress
from exact_pipeline.defs.resources import BillingDatabase, ExactOnline, MappingTables, StateDatabase
from exact_pipeline.defs.steps import connected
from exact_pipeline.exact import Budget
from exact_pipeline.sync.documents.backlog import Backlog
from exact_pipeline.sync.documents.engine import SyncEngine

BACKLOG_TAG = "exact_pipeline/backlog"
IN_PROGRESS = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]


@dg.sensor(
    job=exact_sync,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Continues backfills stopped by Exact's daily budget (or the live reserve) "
    "after each daily reset, in one range run, until no document is left; says how many "
    "documents are left and how many days to go.",
)
def resume_backfills(
    context: dg.SensorEvaluationContext,
    billing_database: BillingDatabase,
    state_database: StateDatabase,
    exact_online: ExactOnline,
    mapping_tables: MappingTables,
) -> dg.SensorResult | dg.SkipReason:
    running = backfill_in_progress(context.instance)
    if running is not None:
        return dg.SkipReason(f"a backfill run is in progress ({running}); it goes on from there")
    tables = mapping_tables.tables
    percent = tables.settings.live_reserve_percent
    now = datetime.now(ZONE)
    existing = set(DAILY.get_partition_keys(now))
    pushed = context.instance.get_materialized_partitions(DOCUMENTS_KEY)
    systems = (billing_database, state_database, exact_online, mapping_tables)
    with connected(SyncEngine, *systems) as engine:
        backlog = Backlog(
            [
                (division, day, count)
                for division, day, count in engine.backlog(now.date()).rows
                if day.isoformat() in existing and day.isoformat() in pushed
            ]
        )
        if not backlog.rows:
            return dg.SkipReason("no backfill left")
        said = progress(backlog, engine.exact, tables)
        divisions = sorted(backlog.by_division())
        budgets = {d: engine.exact.budget(d) for d in divisions}
        ready = [d for d in divisions if engine.exact.calls_left(d, keep_percent=percent) != 0]
    if not ready:
        return dg.SkipReason(f"{said}; at the live reserve, resumes after {_resets(budgets)}")
    days = [day.isoformat() for day in backlog.days(set(ready))]
    context.log.info(f"resuming: {said}")
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                run_key=f"resume:{days[0]}...{days[-1]}:"
                + ",".join(f"{d}@{_budget_day(budgets[d])}" for d in ready),
                tags={
                    RANGE_START: days[0],
                    RANGE_END: days[-1],
                    TRIGGER_TAG: RESUME,
                    BACKLOG_TAG: said,
                },
            )
        ]
    )


def backfill_in_progress(instance: dg.DagsterInstance) -> str | None:
    """The id of a backfill run queued or running, if any."""
    runs = instance.get_runs(filters=dg.RunsFilter(statuses=IN_PROGRESS))
    return next((run.run_id for run in runs if is_backfill(run.tags)), None)


def _budget_day(budget: Budget | None) -> str:
    """The budget day a run key stands for: the instant its budget resets (or `unseen`)."""
    if budget is None or budget.daily_reset is None:
        return "unseen"
    return str(int(budget.daily_reset))


def _resets(budgets: dict[int, Budget | None]) -> str:
    """The earliest daily reset among `budgets`, in the partitions' timezone."""
    resets = [b.daily_reset for b in budgets.values() if b is not None and b.daily_reset]
    if not resets:
        return "the next daily reset"
    reset = datetime.fromtimestamp(min(resets), ZONE)
    return f"{reset:%Y-%m-%d %H:%M} ({reset:%Z})"
