"""`exact-pipeline billing …`: create the billing database (`billing seed`, which fills it with
the demo company, is the demo's: `exact_pipeline.demo.cli`)."""

from __future__ import annotations

import click

DATABASE_URL = click.option(
    "--database-url",
    envvar="BILLING_DATABASE_URL",
    required=True,
    help="Postgres URL of the billing database [env: BILLING_DATABASE_URL]",
)


@click.group()
def billing() -> None:
    """The billing database (source side)."""


@billing.command()
@DATABASE_URL
def init(database_url: str) -> None:
    """Create the billing tables (safe to run on an existing schema)."""
    from exact_pipeline.billing.database import apply_schema

    apply_schema(database_url)
    click.echo("billing schema applied")
