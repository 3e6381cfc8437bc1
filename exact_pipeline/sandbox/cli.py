"""`exact-pipeline sandbox`: serve the local Exact Online stand-in."""

import click


@click.command()
@click.option("--port", type=int, default=8890, show_default=True)
@click.option("--state", "state_file", type=click.Path(), default=None)
def sandbox(port: int, state_file: str | None) -> None:
    """Serve the Exact Online sandbox over HTTP."""
    raise click.ClickException("not built yet")
