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
@click.option(
    "--exact-limits",
    is_flag=True,
    help="Give the sandbox Exact's real API limits (60 calls a minute, 5,000 a day) instead of "
    "the demo's generous ones.",
)
def demo(root: Path, dagster_port: int, sandbox_port: int, exact_limits: bool) -> None:
    """Start Postgres, the Exact sandbox and Dagster with demo data; Ctrl-C stops them all."""
    from exact_pipeline.demo.launcher import run_demo

    run_demo(root.resolve(), dagster_port, sandbox_port, exact_limits)
