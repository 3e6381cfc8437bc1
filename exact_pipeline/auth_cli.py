"""`exact-pipeline auth …`: connect to an Exact Online division."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import click
from tabulate import tabulate

from exact_pipeline.exact.errors import ExactError
from exact_pipeline.exact.login import login as run_login
from exact_pipeline.exact.ratelimit import Budget
from exact_pipeline.exact.tokens import StoredConnection
from exact_pipeline.settings import env_settings
from exact_pipeline.state.exact import exact_from_settings
from exact_pipeline.sync.core.errors import for_people


@click.group()
def auth() -> None:
    """Connect to Exact Online (OAuth2)."""


@auth.command()
@click.option(
    "--code",
    help="The code from Exact's redirect (or the whole redirect URL), instead of catching "
    "the redirect on EXACT_REDIRECT_URI's port.",
)
@click.option("--timeout", default=300.0, show_default=True, help="Seconds to wait for it.")
def login(code: str | None, timeout: float) -> None:
    """Authorize this pipeline in Exact Online and store the tokens (encrypted)."""
    settings = env_settings()
    try:
        with exact_from_settings(settings) as client:
            connection = run_login(client, code=code, timeout=timeout, echo=click.echo)
    except ExactError as exc:
        raise click.ClickException(for_people(exc)) from None
    click.echo(f"Connected as {_user(connection)}.")
    click.echo(_divisions_table(connection, {}))


@auth.command()
def status() -> None:
    """Who is connected, to which divisions, token expiry, and the API budget left."""
    settings = env_settings()
    try:
        with exact_from_settings(settings) as client:
            connection = client.tokens.load()
            if connection is None:
                raise click.ClickException("Not connected: run `exact-pipeline auth login`.")
            budgets = {d.code: client.budget(d.code) for d in connection.divisions}
    except ExactError as exc:
        raise click.ClickException(for_people(exc)) from None
    click.echo(f"Exact Online: {settings.exact_base_url}")
    click.echo(f"Connected as {_user(connection)} since {_when(connection.connected_at)}")
    if connection.is_dead:
        click.echo(f"DISCONNECTED: {connection.dead_reason}. Run `exact-pipeline auth login`.")
    else:
        click.echo(f"Access token expires  {_when(connection.access_expires_at)}")
        click.echo(f"Refresh token expires {_when(connection.refresh_expires_at)}")
    click.echo(f"Refreshes so far: {connection.refresh_count}")
    click.echo(_divisions_table(connection, budgets))


def _user(connection: StoredConnection) -> str:
    name = connection.user_name or connection.user_id or "unknown user"
    return f"{name} <{connection.user_email}>" if connection.user_email else name


def _when(moment: datetime) -> str:
    seconds = moment.timestamp() - time.time()
    relative = f"in {_span(seconds)}" if seconds >= 0 else f"{_span(-seconds)} ago"
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC ({relative})"


def _span(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86400:.0f} days"


def _divisions_table(connection: StoredConnection, budgets: dict[int, Budget | None]) -> str:
    rows = [
        [d.code, d.description, _budget_text(budgets.get(d.code))] for d in connection.divisions
    ]
    return tabulate(rows, headers=["division", "name", "API calls left today"])


def _budget_text(budget: Budget | None) -> str:
    if budget is None or budget.daily_remaining is None:
        return "not seen yet"
    if budget.daily_reset is not None and budget.daily_reset <= time.time():
        return f"{budget.daily_limit} (reset since last seen)"
    reset = (
        f", resets {datetime.fromtimestamp(budget.daily_reset, UTC):%Y-%m-%d %H:%M} UTC"
        if budget.daily_reset
        else ""
    )
    return f"{budget.daily_remaining} of {budget.daily_limit}{reset}"
