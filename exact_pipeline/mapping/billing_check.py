"""The mapping tables compared with the ids the billing database actually has.

An invoicing entity without settings is an error: none of its documents can sync; so is one
whose timezone (billing's `invoicing_entities.timezone`, which dates its documents) is not an
IANA name: its documents are blocked, the other entities' still sync. Everything else is a
warning: rows naming ids billing does not have (a typo, or data not created yet) and
billing products or tax rates without a row (only the documents using them are blocked).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from exact_pipeline.mapping.mappings import Cause, Mappings
from exact_pipeline.mapping.shapes import is_timezone


@dataclass(frozen=True)
class BillingMismatch:
    severity: Literal["error", "warning"]
    message: str

    def __str__(self) -> str:
        return f"{self.severity}: {self.message}"


def entity_timezone_cause(entity_id: str, timezone: str) -> Cause | None:
    """Why an invoicing entity's documents cannot be dated, or None when its timezone is fine."""
    if is_timezone(timezone):
        return None
    return Cause(
        reason=f"invoicing entity {entity_id} has timezone {timezone!r} in billing, which is "
        "not an IANA timezone name, so its documents' dates in Exact cannot be known",
        fix=f"set invoicing_entities.timezone of {entity_id} in billing to an IANA name such "
        "as Europe/Amsterdam",
    )


def check_against_billing(
    mappings: Mappings,
    entity_ids: Iterable[str],
    tax_rate_ids: Iterable[str],
    product_ids: Iterable[str],
    entity_timezones: Mapping[str, str] | None = None,
) -> list[BillingMismatch]:
    """Every mismatch between the tables and billing's ids, errors first, each group sorted.
    `entity_timezones`: billing's timezone of each invoicing entity, checked when given."""
    entities, taxes, products = set(entity_ids), set(tax_rate_ids), set(product_ids)
    mapped_entities = set(mappings.settings.entities)
    zones = entity_timezones or {}
    return [
        *_unmapped("error", entities - mapped_entities, mappings.unmapped_entity),
        *(
            BillingMismatch("error", str(cause))
            for entity_id in sorted(zones)
            if (cause := entity_timezone_cause(entity_id, zones[entity_id]))
        ),
        *_unmapped("warning", taxes - set(mappings.tax_codes), mappings.unmapped_tax_rate),
        *_unmapped("warning", products - set(mappings.products), mappings.unmapped_product),
        *_unknown("settings.yaml", "invoicing entity", mapped_entities - entities),
        *_unknown("tax_codes.csv", "tax rate", set(mappings.tax_codes) - taxes),
        *_unknown("products.csv", "product", set(mappings.products) - products),
    ]


def _unmapped(
    severity: Literal["error", "warning"], ids: set[str], cause: Callable[[str], Cause]
) -> list[BillingMismatch]:
    return [BillingMismatch(severity, str(cause(id_))) for id_ in sorted(ids)]


def _unknown(file: str, noun: str, ids: set[str]) -> list[BillingMismatch]:
    return [
        BillingMismatch(
            "warning",
            f"{file} maps {noun} {id_}, which the billing database does not have "
            f"(a typo, or not created yet)",
        )
        for id_ in sorted(ids)
    ]
