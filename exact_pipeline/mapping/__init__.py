"""Declarative mapping tables (README, "Mapping tables"): load, validate, resolve a line's codes."""

from exact_pipeline.mapping.billing_check import (
    BillingMismatch,
    check_against_billing,
    entity_timezone_cause,
)
from exact_pipeline.mapping.errors import MappingError, Problem, UnmappedEntityError
from exact_pipeline.mapping.load import load_mappings
from exact_pipeline.mapping.mappings import Blocked, Cause, LineCodes, Mappings
from exact_pipeline.mapping.tables import (
    CustomerLink,
    EntityMapping,
    ProductMapping,
    SyncSettings,
    TaxCodeMapping,
)

__all__ = [
    "BillingMismatch",
    "Blocked",
    "Cause",
    "CustomerLink",
    "EntityMapping",
    "LineCodes",
    "MappingError",
    "Mappings",
    "Problem",
    "ProductMapping",
    "SyncSettings",
    "TaxCodeMapping",
    "UnmappedEntityError",
    "check_against_billing",
    "entity_timezone_cause",
    "load_mappings",
]
