"""Bring the demo's billing database to a usable state on first start (later starts keep it)."""

from __future__ import annotations

import click
import psycopg


def billing_is_seeded(url: str) -> bool:
    with psycopg.connect(url) as conn:
        exists = conn.execute("SELECT to_regclass('public.invoices') IS NOT NULL").fetchone()
        return bool(exists and exists[0]) and bool(
            conn.execute("SELECT EXISTS (SELECT 1 FROM invoices)").fetchone()[0]  # type: ignore[index]
        )


def prepare_billing(url: str) -> None:
    if billing_is_seeded(url):
        click.echo("billing database already holds demo data: keeping it")
        return
    from exact_pipeline.billing.seed import seed_billing

    click.echo("seeding the demo billing database …")
    counts = seed_billing(url)
    click.echo(f"seeded: {counts}")
