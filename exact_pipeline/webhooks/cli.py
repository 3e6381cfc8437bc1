"""`exact-pipeline webhooks …`: receive Exact's webhooks, and subscribe the mapped divisions."""

from __future__ import annotations

import click

from exact_pipeline.exact.errors import ExactError
from exact_pipeline.mapping import load_mappings
from exact_pipeline.settings import env_settings
from exact_pipeline.state.exact import exact_from_settings
from exact_pipeline.sync.core.errors import for_people
from exact_pipeline.webhooks.server import WEBHOOK_PATH, webhook_app
from exact_pipeline.webhooks.subscriptions import subscribe_payments


@click.group()
def webhooks() -> None:
    """Exact's webhooks: payments pushed by Exact instead of polled (exact_to_billing)."""


@webhooks.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8891, show_default=True, type=int)
def serve(host: str, port: int) -> None:
    """Receive Exact's deliveries on POST /exact/webhooks (put a public HTTPS URL in front of
    it: EXACT_WEBHOOK_URL), verify them with EXACT_WEBHOOK_SECRET and store them."""
    import uvicorn

    settings = env_settings()
    try:
        app = webhook_app(settings.state_url, settings.exact_webhook_secret.get_secret_value())
    except ValueError as missing:
        raise click.ClickException(str(missing)) from None
    click.echo(f"Exact webhooks on http://{host}:{port}{WEBHOOK_PATH}")
    uvicorn.run(app, host=host, port=port, log_level="info")


@webhooks.command()
@click.option(
    "--url", help="The callback URL Exact posts to (default EXACT_WEBHOOK_URL): public HTTPS."
)
def subscribe(url: str | None) -> None:
    """Subscribe every mapped division to the topics that carry payments (idempotent: run it
    again after a change of URL, it replaces the old subscription)."""
    settings = env_settings()
    callback = url or settings.exact_webhook_url
    if not callback:
        raise click.ClickException("Set EXACT_WEBHOOK_URL (or pass --url).")
    mappings = load_mappings(settings.exact_mappings_dir)
    try:
        with exact_from_settings(settings) as exact:
            done = subscribe_payments(exact, mappings, callback)
    except ExactError as exc:
        raise click.ClickException(for_people(exc)) from None
    if not done:
        click.echo("payment_sync is not exact_to_billing: no subscription needed.")
    for division, changes in done.items():
        click.echo(
            f"division {division}: created {changes.created or '-'}, kept {changes.kept or '-'}, "
            f"replaced {changes.deleted or '-'} → {callback}"
        )
