"""Keeping the Exact connection alive: a refresh token unused for 30 days dies, and with it the
connection until someone logs in again. A daily call that refreshes when due restarts the clock
even on days without any document."""

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg

from exact_pipeline.defs.resources import ExactSync
from exact_pipeline.exact.client import ExactClient
from exact_pipeline.exact.errors import ReauthorizationRequired


@contextmanager
def dead_connection_fails() -> Iterator[None]:
    """A dead token chain fails the step with what to do, and is not retried: nothing can work
    until someone runs `exact-pipeline auth login`."""
    try:
        yield
    except ReauthorizationRequired as exc:
        raise dg.Failure(description=str(exc), allow_retries=False) from exc


@dg.op(
    description="Call Exact (current/Me, outside the API budget); the client refreshes the "
    "token chain when due and stores the new pair."
)
def touch_exact_connection(context: dg.OpExecutionContext, exact_sync: ExactSync) -> None:
    with dead_connection_fails(), ExactClient.from_settings(exact_sync.settings()) as exact:
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


def keep_alive_schedule(timezone: str) -> dg.ScheduleDefinition:
    return dg.ScheduleDefinition(
        job=keep_exact_connection_alive,
        cron_schedule="17 3 * * *",
        execution_timezone=timezone,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="Daily: one call to Exact so the refresh token never lapses unused.",
    )
