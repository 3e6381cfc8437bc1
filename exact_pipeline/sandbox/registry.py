"""The declared entity sets, indexed: endpoints by URL path, references between sets."""

from __future__ import annotations

from dataclasses import dataclass

from exact_pipeline.sandbox import reference
from exact_pipeline.sandbox.entities import ENTITY_SETS
from exact_pipeline.sandbox.schema import Endpoint, EntitySet, Field, Kind, sync_fields


@dataclass(frozen=True)
class Referrer:
    set: EntitySet
    field: Field


class Registry:
    def __init__(self, entity_sets: tuple[EntitySet, ...] = ENTITY_SETS) -> None:
        self.sets = {s.path: s for s in entity_sets}
        self.endpoints: dict[str, Endpoint] = {}
        for entity_set in entity_sets:
            lines_set = self.sets[entity_set.lines.set_path] if entity_set.lines else None
            header = {f.name: f for f in entity_set.all_fields}
            if entity_set.methods:
                self._add(Endpoint(entity_set.path, Kind.SINGLE, entity_set, header, lines_set))
            if entity_set.bulk:
                self._add(Endpoint(entity_set.bulk, Kind.BULK, entity_set, header, lines_set))
            if entity_set.sync:
                fields = sync_fields(entity_set, lines_set)
                if entity_set.sync in reference.entities():  # documented on its own
                    fields = {f.name: f for f in reference.documented(entity_set.sync).fields}
                self._add(Endpoint(entity_set.sync, Kind.SYNC, entity_set, fields, lines_set))
        self.line_sets = {s.lines.set_path for s in entity_sets if s.lines}
        self.parents = {s.lines.set_path: s for s in entity_sets if s.lines}

    def _add(self, endpoint: Endpoint) -> None:
        self.endpoints[endpoint.path.lower()] = endpoint

    def endpoint(self, path: str) -> Endpoint | None:
        """Exact's paths are case-insensitive."""
        return self.endpoints.get(path.lower())

    def match(self, rest: str) -> tuple[Endpoint, str] | None:
        """Split `crm/Accounts(guid'…')/…` into the endpoint and what follows its path."""
        lowered = rest.lower()
        best = None
        for path, endpoint in self.endpoints.items():
            follows = lowered[len(path) : len(path) + 1]
            longer = best is None or len(path) > len(best[0].path)
            if lowered.startswith(path) and follows in ("", "(", "/") and longer:
                best = (endpoint, rest[len(path) :])
        return best

    def referrers(self, target: str) -> list[Referrer]:
        """Fields of any set that reference records of `target`."""
        return [
            Referrer(s, f)
            for s in self.sets.values()
            for f in s.fields
            if f.ref is not None and f.ref.target == target
        ]

    def string_fields(self) -> dict[str, Field]:
        """Every `Set.Field` whose length the config may limit."""
        return {
            f"{s.name}.{f.name}": f
            for s in self.sets.values()
            for f in s.fields
            if f.edm.name == "STRING" and not f.read_only
        }
