"""`exact-pipeline billing …`: create and fill the billing database."""

from __future__ import annotations

from datetime import datetime

import click

_DATABASE_URL = click.option(
    "--database-url",
    envvar="BILLING_DATABASE_URL",
    required=True,
    help="Postgres URL of the billing database [env: BILLING_DATABASE_URL]",
)


@click.group()
def billing() -> None:
    """The billing database (source side)."""


@billing.command()
@_DATABASE_URL
def init(database_url: str) -> None:
    """Create the billing tables (safe to run on an existing schema)."""
    from exact_pipeline.billing.database import apply_schema

    apply_schema(database_url)
    click.echo("billing schema applied")


@billing.command("seed")
@_DATABASE_URL
@click.option("--seed", default=42, show_default=True, help="Random seed.")
@click.option("--customers", default=200, show_default=True, help="Number of customers.")
@click.option("--months", default=12, show_default=True, help="Months of history up to today.")
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="The day the data ends (default: today).",
)
@click.option("--reset", is_flag=True, help="Drop and recreate the billing tables first.")
def seed_command(
    database_url: str,
    seed: int,
    customers: int,
    months: int,
    today: datetime | None,
    reset: bool,
) -> None:
    """Fill the billing database with the demo company's data (deterministic per seed)."""
    from exact_pipeline.demo.seed import SeedError, seed_billing

    try:
        report = seed_billing(
            database_url,
            seed=seed,
            customers=customers,
            months=months,
            today=today.date() if today else None,
            reset=reset,
        )
    except SeedError as error:
        raise click.ClickException(str(error)) from error
    click.echo(report)
