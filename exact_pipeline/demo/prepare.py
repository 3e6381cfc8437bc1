"""Bring the demo to a usable state on first start; later starts keep what is there."""

from __future__ import annotations

from collections.abc import Callable

import click
import httpx
import psycopg

from exact_pipeline.demo import catalog
from exact_pipeline.demo.sandbox_process import consent_code
from exact_pipeline.settings import EnvSettings
from exact_pipeline.state.exact import exact_from_settings

# The demo sandbox is generous so a first start syncs its weeks in a few minutes; the tests and
# `exact-pipeline demo --exact-limits` use Exact's own 60 a minute and 5,000 a day.
DEMO_LIMITS = {"minutely_limit": 600, "daily_limit": 50_000}
EXACT_LIMITS = {"minutely_limit": 60, "daily_limit": 5_000}


def has_invoices(conn: psycopg.Connection) -> bool:
    exists = conn.execute("SELECT to_regclass('public.invoices') IS NOT NULL").fetchone()
    if not (exists and exists[0]):
        return False
    return bool(conn.execute("SELECT EXISTS (SELECT 1 FROM invoices)").fetchone()[0])  # type: ignore[index]


Say = Callable[[str], None]


def prepare_billing(url: str, say: Say = click.echo) -> None:
    with psycopg.connect(url) as conn:
        if has_invoices(conn):
            say("billing database already holds demo data: keeping it")
            return
    from exact_pipeline.demo.seed import seed_billing

    say("seeding the demo billing database (a company, 12 months, a PDF per document) …")
    say(f"seeded: {seed_billing(url)}")


def prepare_sandbox(sandbox_url: str, exact_limits: bool, say: Say = click.echo) -> None:
    limits = EXACT_LIMITS if exact_limits else DEMO_LIMITS
    httpx.post(f"{sandbox_url}/_sandbox/config", json=limits, timeout=10).raise_for_status()
    say(
        f"sandbox limits: {limits['minutely_limit']} calls a minute, "
        f"{limits['daily_limit']:,} a day per division"
    )


def connect_to_sandbox(settings: EnvSettings, sandbox_url: str, say: Say = click.echo) -> None:
    """Consent for the demo divisions, as `exact-pipeline auth login` would after a click on the
    sandbox's approval page; skipped while a live connection is stored."""
    with exact_from_settings(settings) as exact:
        stored = exact.tokens.load()
        if stored and not stored.is_dead:
            say(f"connected to Exact as {stored.user_name} (kept)")
            return
        code = consent_code(
            sandbox_url,
            settings.exact_client_id,
            settings.exact_redirect_uri,
            [entity.division for entity in catalog.ENTITIES],
        )
        connection = exact.connect(code)
    granted = ", ".join(str(d.code) for d in connection.divisions)
    say(f"connected to the sandbox as {connection.user_name}: divisions {granted}")
