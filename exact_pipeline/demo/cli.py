"""The demo's commands: `exact-pipeline demo` (the whole product on one machine),
`demo-payments`, `sandbox` (the sandbox serving the demo company's Exact side) and
`billing seed` (the demo company's billing data)."""

from datetime import datetime
from pathlib import Path

import click

from exact_pipeline.billing.cli import DATABASE_URL

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


@click.command("seed")
@DATABASE_URL
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
