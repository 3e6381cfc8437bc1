"""Records as Exact sends them: `__metadata`, `/Date(ms)/` dates, deferred or expanded lines,
in verbose JSON (`{"d":…}`) or, for clients that do not ask for JSON, Atom XML."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from exact_pipeline.sandbox.clock import to_json_date
from exact_pipeline.sandbox.schema import Edm, Field


@dataclass
class Entry:
    """One record projected for output: its URI, type, selected values and navigations."""

    uri: str
    type_name: str
    values: list[tuple[Field, Any]]
    expanded: dict[str, list[Entry]] = field(default_factory=dict)
    deferred: dict[str, str] = field(default_factory=dict)  # navigation → URI


def json_value(edm: Edm, value: Any) -> Any:
    if value is None:
        return None
    if edm is Edm.DATETIME:
        assert isinstance(value, datetime)
        return to_json_date(value)
    if edm is Edm.DOUBLE:
        # Edm.Double on the wire, as Exact sends it; repr round-trips cents exactly. Integral
        # values are written without a fraction (3600, not 3600.0), as .NET formats a double.
        number = Decimal(value)
        return int(number) if number == number.to_integral_value() else float(number)
    if edm is Edm.BINARY:
        return None  # file content is fetched through the attachment's Url
    return value


def entry_json(entry: Entry) -> dict[str, Any]:
    out: dict[str, Any] = {"__metadata": {"uri": entry.uri, "type": entry.type_name}}
    for f, value in entry.values:
        out[f.name] = json_value(f.edm, value)
    for nav, uri in entry.deferred.items():
        out[nav] = {"__deferred": {"uri": uri}}
    for nav, children in entry.expanded.items():
        out[nav] = {"results": [entry_json(child) for child in children]}
    return out


def collection_json(entries: list[Entry], next_url: str | None, count: int | None) -> dict:
    body: dict[str, Any] = {"results": [entry_json(e) for e in entries]}
    if count is not None:
        body["__count"] = str(count)  # verbose JSON writes the count as a string
    if next_url is not None:
        body["__next"] = next_url
    return {"d": body}
