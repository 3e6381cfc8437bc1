"""`exact-pipeline demo`: the whole product on one machine."""

from pathlib import Path

import click


@click.command()
@click.option(
    "--dir",
    "root",
    type=click.Path(path_type=Path),
    default=Path(".demo"),
    show_default=True,
    help="Where the demo keeps its Postgres data and state.",
)
@click.option("--dagster-port", type=int, default=3000, show_default=True)
@click.option("--sandbox-port", type=int, default=8890, show_default=True)
def demo(root: Path, dagster_port: int, sandbox_port: int) -> None:
    """Start Postgres, the Exact sandbox and Dagster with demo data; Ctrl-C stops them all."""
    from exact_pipeline.demo.launcher import run_demo

    run_demo(root.resolve(), dagster_port, sandbox_port)
