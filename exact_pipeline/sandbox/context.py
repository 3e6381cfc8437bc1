"""What a request's business rules work with: the division's data, the clock, the config."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from exact_pipeline.sandbox import messages
from exact_pipeline.sandbox.config import SandboxConfig
from exact_pipeline.sandbox.errors import ExactError
from exact_pipeline.sandbox.schema import EntitySet, Field, Record
from exact_pipeline.sandbox.store import Store


class EntitySets(Protocol):
    """What the rules need of the registry. The registry imports the entity table, whose rules
    import this module: a protocol keeps every arrow pointing one way."""

    @property
    def sets(self) -> Mapping[str, EntitySet]: ...

    @property
    def parents(self) -> Mapping[str, EntitySet]: ...  # a line set's path → its header set


@dataclass
class Ctx:
    store: Store
    registry: EntitySets
    config: SandboxConfig
    division: int
    now: datetime  # Exact-local, naive
    base_url: str  # scheme://host:port of the request, for URLs in records
    outbox: list[dict[str, Any]] = field(default_factory=list)  # e-mails "sent" by Exact
    client_id: str | None = None  # the app behind the request's token (webhooks are per app)

    @property
    def today(self) -> datetime:
        return datetime.combine(self.now.date(), datetime.min.time())

    def text(self, key: str, **values: object) -> str:
        return messages.text(self.config.language, key, **values)

    def label(self, field_name: str) -> str:
        return messages.label(field_name, self.config.language)

    def fail(self, *texts: str) -> ExactError:
        """A business-rule violation: Exact answers these with 500."""
        return ExactError(500, "\n".join(dict.fromkeys(texts)))

    def max_length(self, entity_set: EntitySet, f: Field) -> int | None:
        name = f"{entity_set.name}.{f.name}"
        if name in self.config.field_limits:
            return self.config.field_limits[name]
        return f.max_length

    def rows(self, path: str) -> list[Record]:
        return self.store.rows(self.division, path)

    def get(self, path: str, key: Any) -> Record | None:
        return self.store.get(self.division, path, key)

    def find(self, path: str, field_name: str, value: Any, *, trim: bool = False) -> Record | None:
        return self.store.find(self.division, path, field_name, value, trim=trim)

    def insert(self, path: str, record: Record) -> Record:
        """Store a record the rules derived (receivables, transaction lines …)."""
        key = self.registry.sets[path].key
        record.setdefault(key, str(uuid.uuid4()))
        return self.store.insert(self.division, path, key, record, self.now)

    def touch(self, record: Record) -> None:
        self.store.touch(record, self.now)

    def remove(self, path: str, record: Record) -> None:
        """Delete a record; sets that sync/Deleted reports leave a tombstone there."""
        entity_set = self.registry.sets[path]
        self.store.delete(self.division, path, record[entity_set.key])
        if entity_set.deleted_type is not None:
            self.insert(
                "sync/Deleted",
                {
                    "EntityKey": record[entity_set.key],
                    "EntityType": entity_set.deleted_type,
                    "DeletedDate": self.now,
                },
            )
