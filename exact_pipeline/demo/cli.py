"""`exact-pipeline demo`: the whole product on one machine."""

from pathlib import Path

import click

demo_dir = click.option(
    "--dir",
    "root",
    type=click.Path(path_type=Path),
    default=Path(".demo"),
    show_default=True,
    help="Where the demo keeps its Postgres data and state.",
)


@click.command()
@demo_dir
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


@click.command("demo-payments")
@demo_dir
@click.option("--count", default=20, show_default=True)
@click.option("--seed", default=0, show_default=True)
def demo_payments(root: Path, count: int, seed: int) -> None:
    """Register customer payments in the demo's Exact (through the Exact API, as a bookkeeper
    would), for trying `payment_sync: exact_to_billing`."""
    from exact_pipeline.demo.payments import register_demo_payments
    from exact_pipeline.mapping import load_mappings
    from exact_pipeline.settings import EnvSettings
    from exact_pipeline.state.exact import exact_from_settings

    env_file = root / "demo.env"
    if not env_file.exists():
        raise click.ClickException(f"{env_file} not found: start the demo first (make demo)")
    settings = EnvSettings(_env_file=env_file)  # type: ignore[call-arg]
    with exact_from_settings(settings) as exact:
        paid = register_demo_payments(
            exact, load_mappings(settings.exact_mappings_dir), count, seed
        )
    for payment in paid:
        click.echo("  ".join(f"{key}={value}" for key, value in payment.items()))
    click.echo(f"{len(paid)} payment(s) registered in Exact")
