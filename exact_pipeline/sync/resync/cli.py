"""`exact-pipeline resync --from DATE --to DATE [--scope …] [--dry-run]`: the `resync_range`
job's work from a terminal (engine.py), with the settings of the environment (`.env`): what
billing has and Exact lacks over the range is pushed again, and what differs is listed."""

from __future__ import annotations

from datetime import datetime

import click

from exact_pipeline.exact.errors import ExactError
from exact_pipeline.mapping import load_mappings
from exact_pipeline.settings import env_settings
from exact_pipeline.state.exact import exact_from_settings
from exact_pipeline.sync.core.errors import for_people
from exact_pipeline.sync.resync.engine import SCOPES, Resync

DAY = click.DateTime(["%Y-%m-%d"])


@click.command()
@click.option("--from", "first", type=DAY, required=True, help="First day (YYYY-MM-DD).")
@click.option("--to", "last", type=DAY, required=True, help="Last day, included (YYYY-MM-DD).")
@click.option(
    "--scope",
    "scopes",
    type=click.Choice(SCOPES),
    multiple=True,
    help="documents, customers or payments (repeat for several); default: all.",
)
@click.option("--dry-run", is_flag=True, help="Only list what differs: no reset, no push.")
def resync(first: datetime, last: datetime, scopes: tuple[str, ...], dry_run: bool) -> None:
    """Find what billing has and Exact lacks from --from to --to (entries deleted in Exact,
    documents that never arrived, customers whose account is gone, receipts gone), push it
    again (nothing Exact holds is posted twice) and list what differs."""
    settings = env_settings()
    mappings = load_mappings(settings.exact_mappings_dir)
    try:
        with (
            exact_from_settings(settings) as exact,
            Resync(
                billing_url=settings.billing_database_url,
                state_url=settings.state_url,
                mappings=mappings,
                exact=exact,
            ) as engine,
        ):
            report = engine.run(first.date(), last.date(), scopes or SCOPES, dry_run=dry_run)
    except ValueError as wrong:
        raise click.UsageError(str(wrong)) from None
    except ExactError as exc:
        raise click.ClickException(for_people(exc)) from None
    for line in report.text_lines():
        click.echo(line)
    click.echo(report.sentence())
