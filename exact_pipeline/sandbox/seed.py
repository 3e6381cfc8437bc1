"""The seeded state a sandbox starts from and returns to: a `World` it is handed.

The sandbox knows no company of its own: whoever starts it (the `sandbox` command serves the
demo company's world, `exact_pipeline.demo.sandbox_world`) says which user signs in, which
divisions exist and which master records each holds. IDs are deterministic (uuid5 of division,
set and code), so a reset or re-seed gives every master record the same GUID again.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from exact_pipeline.sandbox.schema import Record
from exact_pipeline.sandbox.store import GLOBAL, Store

NAMESPACE = uuid.UUID("5d1c6f3e-7a51-4c1e-9a57-3b1f0c2e8e10")

# Exact's built-in document types: (ID, description, creatable, type category).
DOCUMENT_TYPES = (
    (10, "Verkoopfactuur", True, 10),
    (20, "Inkoopfactuur", True, 20),
    (55, "Overig", True, 90),
)


@dataclass(frozen=True)
class User:
    user_id: str
    user_name: str
    full_name: str
    email: str
    language: str
    divisions: tuple[int, ...]  # the divisions this Exact user may open


@dataclass(frozen=True)
class Division:
    code: int
    description: str
    country: str
    currency: str


@dataclass(frozen=True)
class World:
    """The Exact side of one company: its signed-in user, divisions and master records."""

    user: User
    divisions: tuple[Division, ...]
    master_data: Mapping[int, Mapping[str, Sequence[Record]]]  # division → entity set → records


def seeded_id(division: int, path: str, code: str) -> str:
    """The GUID a seeded record gets, so tests and the demo can name it."""
    return str(uuid.uuid5(NAMESPACE, f"{division}:{path}:{code}"))


def seed(store: Store, world: World, now: datetime) -> None:
    """Upsert the world's divisions and master data; records added since are kept."""
    for division in world.divisions:
        division_record = {
            "Code": division.code,
            "Description": division.description,
            "Country": division.country,
            "Currency": division.currency,
            "Hid": division.code,  # system/Divisions spells it Hid, hrm/Divisions HID
            "HID": division.code,
            "DivisionMoveDate": None,
        }
        _upsert(store, GLOBAL, "system/Divisions", "Code", division_record, now)
        store.table(division.code, "crm/Accounts")  # the division exists even when empty
        for path, records in world.master_data.get(division.code, {}).items():
            for record in records:
                _upsert(store, division.code, path, "ID", record, now)


def _upsert(
    store: Store, division: int, path: str, key: str, record: Record, now: datetime
) -> None:
    existing = store.get(division, path, record[key])
    if existing is not None and all(existing.get(k) == v for k, v in record.items()):
        return
    store.insert(division, path, key, dict(record), now)
