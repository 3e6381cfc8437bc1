"""Keeping the Exact connection alive: a refresh token unused for 30 days dies, and with it the
connection until someone logs in again. A daily call that refreshes when due restarts the clock
even on days without any document."""

import dagster as dg

from exact_pipeline.defs.partitions import TIMEZONE
from exact_pipeline.defs.resources import ExactOnline, StateDatabase
from exact_pipeline.defs.steps import dead_connection_fails


@dg.op(
    description="Call Exact (current/Me, outside the API budget); the client refreshes the "
    "token chain when due and stores the new pair."
)
def touch_exact_connection(
    context: dg.OpExecutionContext, state_database: StateDatabase, exact_online: ExactOnline
) -> None:
    with dead_connection_fails(), exact_online.client(state_database) as exact:
        me = exact.me()
        connection = exact.tokens.load()
    assert connection is not None
    context.log.info(
        f"connected as {me.FullName}; refresh token valid until "
        f"{connection.refresh_expires_at:%Y-%m-%d %H:%M} UTC"
    )


@dg.job(description="Keep the Exact token chain alive (daily).")
def keep_exact_connection_alive() -> None:
    touch_exact_connection()


keep_alive_schedule = dg.ScheduleDefinition(
    job=keep_exact_connection_alive,
    cron_schedule="17 3 * * *",
    execution_timezone=TIMEZONE,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Daily: one call to Exact so the refresh token never lapses unused.",
)
