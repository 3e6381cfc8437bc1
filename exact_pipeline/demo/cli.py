"""`exact-pipeline demo`: the whole product on one machine."""

import click


@click.command()
def demo() -> None:
    """Start Postgres, the sandbox and Dagster with demo data."""
