"""`exact-pipeline mappings …`: check a mapping folder before the pipeline uses it."""

from __future__ import annotations

from pathlib import Path

import click

from exact_pipeline.mapping.errors import MappingError
from exact_pipeline.mapping.load import load_mappings
from exact_pipeline.mapping.mappings import Mappings


@click.group()
def mappings() -> None:
    """The declarative mapping tables (settings.yaml, products.csv, tax_codes.csv, …)."""


@mappings.command()
@click.option(
    "--dir",
    "folder",
    type=click.Path(path_type=Path, file_okay=False),
    envvar="EXACT_MAPPINGS_DIR",
    default="mappings",
    show_default=True,
    help="The mapping folder (env EXACT_MAPPINGS_DIR).",
)
def check(folder: Path) -> None:
    """Validate every file of the folder; list all problems, or summarise what it maps."""
    try:
        loaded = load_mappings(folder)
    except MappingError as invalid:
        click.echo(str(invalid), err=True)
        raise SystemExit(1) from None
    click.echo(summary(loaded))


def summary(loaded: Mappings) -> str:
    settings = loaded.settings
    entities = ", ".join(
        f"{entity_id} → division {entity.division}"
        for entity_id, entity in settings.entities.items()
    )
    return "\n".join(
        [
            f"{loaded.folder} is valid (fingerprint {loaded.fingerprint()})",
            f"  entities: {entities}",
            f"  {len(loaded.products)} products, {len(loaded.tax_codes)} tax codes, "
            f"{len(loaded.customer_links)} customer links",
            f"  sync from {settings.connection_date} (history from {settings.history_start}, "
            f"{settings.timezone}); invoices as {settings.invoice_push_mode}, "
            f"customers {settings.customer_sync}, payments {settings.payment_sync}",
        ]
    )
