"""`exact-pipeline sandbox`: serve the local Exact Online stand-in."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.option("--port", type=int, default=8890, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option(
    "--state",
    "state_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="JSON file the state is kept in (loaded at start, rewritten after each change).",
)
def sandbox(port: int, host: str, state_file: Path | None) -> None:
    """Serve the Exact Online sandbox over HTTP (admin API under /_sandbox/), seeded with the
    demo company's Exact side."""
    # The command is the one place that picks the world the sandbox serves.
    from exact_pipeline.demo.sandbox_world import DEMO_WORLD
    from exact_pipeline.sandbox.server import serve

    click.echo(f"Exact Online sandbox on http://{host}:{port}/ (admin API: /_sandbox/)")
    serve(host, port, DEMO_WORLD, state_file)
