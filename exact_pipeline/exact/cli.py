"""`exact-pipeline auth …`: connect to an Exact Online division."""

import click


@click.group()
def auth() -> None:
    """Connect to Exact Online (OAuth2)."""
