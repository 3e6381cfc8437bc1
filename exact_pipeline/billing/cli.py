"""`exact-pipeline billing …`: create and fill the billing database."""

import click


@click.group()
def billing() -> None:
    """The billing database (source side)."""
