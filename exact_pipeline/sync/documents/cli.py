"""`exact-pipeline documents …`: the documents given up on (dead letters, dead_letters.py), with
their history, and putting them back.

`retry` only puts them back (staged, attempts reset, history kept): it needs the state
database alone, no Exact connection. The next run of their day posts them: the
`resume_backfills` sensor's (within minutes) for earlier days, the hourly run for today. The
`retry_dead_letters` job in the Dagster UI puts them back and pushes them at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click
import psycopg

from exact_pipeline.sync.documents import dead_letters, ledger

STATE_URL = click.option(
    "--state-url",
    envvar=["STATE_DATABASE_URL", "BILLING_DATABASE_URL"],
    required=True,
    help="Postgres URL of the state database [env: STATE_DATABASE_URL, else BILLING_DATABASE_URL]",
)
MAPPINGS = click.option(
    "--mappings",
    envvar="EXACT_MAPPINGS_DIR",
    default="mappings",
    show_default=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="The mapping tables (for their timezone) [env: EXACT_MAPPINGS_DIR]",
)


@click.group()
def documents() -> None:
    """Invoices and credit notes in the sync ledger: those given up on, and their retry."""


@contextmanager
def _state(url: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(url, autocommit=True) as conn:
        ledger.ensure_schema(conn)
        dead_letters.ensure_schema(conn)
        yield conn


def _zone(mappings: Path) -> ZoneInfo:
    from exact_pipeline.mapping import load_mappings

    return load_mappings(mappings).settings.zone


@documents.command("dead-letters")
@STATE_URL
@MAPPINGS
@click.argument("numbers", nargs=-1)
def list_dead_letters(state_url: str, mappings: Path, numbers: tuple[str, ...]) -> None:
    """The documents given up on (all, or those NUMBERS), each with its history: every
    attempt, when, and what Exact answered."""
    zone = _zone(mappings)
    with _state(state_url) as conn:
        selection = dead_letters.Selection(documents=numbers) if numbers else None
        rows = dead_letters.dead_letters(conn, selection)
        histories = dead_letters.history(conn, [row.billing_id for row in rows])
    if not rows:
        click.echo("No document is given up on.")
    for row in rows:
        click.echo(f"{row.number}  {row.customer_name}  issued {row.partition_date}")
        click.echo(f"  {row.last_error}")
        for attempt in histories[row.billing_id]:
            shown = attempt.as_dict(zone)
            doing = f" while {shown['doing']}" if shown["doing"] else ""
            status = f" (HTTP {shown['status']})" if shown["status"] else ""
            failure = shown["event"] in (dead_letters.REFUSED_EVENT, dead_letters.FAILED_EVENT)
            counted = " [not counted]" if failure and not shown["counts"] else ""
            click.echo(f"  {shown['at']}  {shown['event']}{counted}{doing}{status}:")
            click.echo(f"      {shown['answer']}")


@documents.command()
@STATE_URL
@click.option("--all", "everything", is_flag=True, help="Every document given up on.")
@click.option(
    "--from", "issued_from", type=click.DateTime(["%Y-%m-%d"]), help="Issued on or after."
)
@click.option("--to", "issued_to", type=click.DateTime(["%Y-%m-%d"]), help="Issued on or before.")
@click.argument("numbers", nargs=-1)
def retry(
    state_url: str,
    everything: bool,
    issued_from: datetime | None,
    issued_to: datetime | None,
    numbers: tuple[str, ...],
) -> None:
    """Put documents given up on back (--all, or the billing document NUMBERS): staged, their
    attempts reset, their history kept. The next run of their day posts them (earlier days:
    the resume_backfills sensor's, within minutes; today: the hourly run); the
    retry_dead_letters job in the Dagster UI also pushes them at once."""
    try:
        selection = dead_letters.Selection(
            all=everything,
            documents=numbers,
            issued_from=_day(issued_from),
            issued_to=_day(issued_to),
        )
    except ValueError as wrong:
        raise click.UsageError(str(wrong)) from None
    with _state(state_url) as conn:
        put = dead_letters.put_back(conn, selection, "exact-pipeline documents retry", _now())
    for row in put.rows:
        click.echo(f"put back: {row.number} (issued {row.partition_date})")
    if put.not_found:
        click.echo(f"not given up on (nothing to put back): {', '.join(put.not_found)}")
    if not put.rows and not put.not_found:
        click.echo("No document is given up on.")
    if put.not_found and not put.rows:
        raise SystemExit(1)


def _day(moment: datetime | None) -> date | None:
    return moment.date() if moment else None


def _now() -> datetime:
    return datetime.now(UTC)
