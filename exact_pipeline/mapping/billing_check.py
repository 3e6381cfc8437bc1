"""The mapping tables compared with the ids the billing database actually has.

An invoicing entity without settings is an error: none of its documents can sync. Everything
else is a warning: rows naming ids billing does not have (a typo, or data not created yet) and
billing products or tax rates without a row (only the documents using them are blocked).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

from exact_pipeline.mapping.mappings import Cause, Mappings


@dataclass(frozen=True)
class BillingMismatch:
    severity: Literal["error", "warning"]
    message: str

    def __str__(self) -> str:
        return f"{self.severity}: {self.message}"


def check_against_billing(
    mappings: Mappings,
    entity_ids: Iterable[str],
    tax_rate_ids: Iterable[str],
    product_ids: Iterable[str],
) -> list[BillingMismatch]:
    """Every mismatch between the tables and billing's ids, errors first, each group sorted."""
    entities, taxes, products = set(entity_ids), set(tax_rate_ids), set(product_ids)
    mapped_entities = set(mappings.settings.entities)
    return [
        *_unmapped("error", entities - mapped_entities, mappings.unmapped_entity),
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
