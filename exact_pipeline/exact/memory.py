"""`Stores` kept in this process's memory: for one process that need not remember anything
between runs (a script, a test). Several processes sharing one Exact app need shared stores
(the pipeline's are in Postgres), or they would refresh the token chain behind each other's
backs."""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta

from exact_pipeline.exact.clock import utc
from exact_pipeline.exact.masterstore import DELETIONS, Cached, Record
from exact_pipeline.exact.oauth import TokenGrant
from exact_pipeline.exact.ratelimit import Budget
from exact_pipeline.exact.stores import Stores
from exact_pipeline.exact.tokens import GrantedDivision, StoredConnection

FORGET_REFUSALS_AFTER = timedelta(days=1)


class MemoryTokens:
    def __init__(self) -> None:
        self._connection: StoredConnection | None = None
        self._lock = threading.RLock()

    def load(self) -> StoredConnection | None:
        return self._connection

    @contextmanager
    def locked(self) -> Iterator[StoredConnection | None]:
        with self._lock:
            yield self._connection

    def connect(self, grant: TokenGrant) -> None:
        self._connection = StoredConnection(
            access_token=grant.access_token,
            refresh_token=grant.refresh_token,
            access_expires_at=utc(grant.access_expires_at),
            refreshed_at=utc(grant.issued_at),
            refresh_count=0,
            connected_at=utc(grant.issued_at),
            user_id=None,
            user_name=None,
            user_email=None,
            current_division=None,
            divisions=(),
            dead_reason=None,
        )

    def save_refresh(self, grant: TokenGrant) -> None:
        current = self._current()
        self._connection = replace(
            current,
            access_token=grant.access_token,
            refresh_token=grant.refresh_token,
            access_expires_at=utc(grant.access_expires_at),
            refreshed_at=utc(grant.issued_at),
            refresh_count=current.refresh_count + 1,
        )

    def pin_issue_time(self, grant: TokenGrant) -> None:
        self._connection = replace(
            self._current(),
            access_expires_at=utc(grant.access_expires_at),
            refreshed_at=utc(grant.issued_at),
        )

    def mark_dead(self, reason: str) -> None:
        if self._connection is not None:
            self._connection = replace(self._connection, dead_reason=reason)

    def set_identity(
        self,
        *,
        user_id: str | None,
        user_name: str | None,
        user_email: str | None,
        current_division: int | None,
        divisions: list[GrantedDivision],
    ) -> None:
        self._connection = replace(
            self._current(),
            user_id=user_id,
            user_name=user_name,
            user_email=user_email,
            current_division=current_division,
            divisions=tuple(divisions),
        )

    def _current(self) -> StoredConnection:
        assert self._connection is not None, "no stored connection"
        return self._connection


class MemoryBudgets:
    def __init__(self) -> None:
        self._budgets: dict[int, Budget] = {}

    def save(self, division: int, budget: Budget, *, observed_at: float) -> None:
        self._budgets[division] = budget

    def load(self) -> dict[int, Budget]:
        return dict(self._budgets)


class MemoryCursors:
    def __init__(self) -> None:
        self._timestamps: dict[tuple[int, str], int] = {}

    def get(self, division: int, endpoint: str) -> int | None:
        return self._timestamps.get((division, endpoint))

    def advance(self, division: int, endpoint: str, timestamp: int) -> None:
        key = (division, endpoint)
        self._timestamps[key] = max(timestamp, self._timestamps.get(key, timestamp))

    def reset(self, division: int, endpoint: str) -> None:
        self._timestamps.pop((division, endpoint), None)


class MemoryErrorLog:
    def __init__(self) -> None:
        self._refusals: dict[tuple[int, str], list[datetime]] = {}

    def since(self, division: int, endpoint: str, start: datetime) -> list[datetime]:
        return sorted(at for at in self._refusals.get((division, endpoint), []) if at > start)

    def add(self, division: int, endpoint: str, status: int, at: datetime) -> None:
        kept = [
            t
            for t in self._refusals.get((division, endpoint), [])
            if t >= at - FORGET_REFUSALS_AFTER
        ]
        self._refusals[(division, endpoint)] = [*kept, at]


class MemoryMasterData:
    """`masterstore.MasterDataStore` in dicts: (division, kind) → ID → (Timestamp, record)."""

    def __init__(self) -> None:
        self._records: dict[tuple[int, str], dict[str, tuple[int | None, Record]]] = {}
        self._watermarks: dict[tuple[int, str], int | None] = {}

    def load(self, division: int, kind: str) -> Cached | None:
        if (division, kind) not in self._watermarks:
            return None
        records = self._records.get((division, kind), {})
        return Cached(
            {key: record for key, (_, record) in records.items()},
            self._watermarks[(division, kind)],
        )

    def upsert(
        self, division: int, kind: str, records: Mapping[str, tuple[int | None, Record]], top: int
    ) -> None:
        held = self._records.setdefault((division, kind), {})
        for key, (stamp, record) in records.items():
            known = held.get(key, (None, None))[0]
            if stamp is None or known is None or stamp >= known:
                held[key] = (stamp, record)
        self._advance(division, kind, top)

    def replace(
        self, division: int, kind: str, records: Mapping[str, tuple[int | None, Record]]
    ) -> None:
        self._records[(division, kind)] = dict(records)
        stamps = [stamp for stamp, _ in records.values() if stamp is not None]
        self._watermarks[(division, kind)] = max(stamps, default=None)

    def add(self, division: int, kind: str, key: str, record: Record) -> None:
        self._records.setdefault((division, kind), {})[key] = (None, record)

    def remove(self, division: int, keys: Collection[str], top: int) -> None:
        for (held_division, _), records in self._records.items():
            if held_division == division:
                for key in keys:
                    records.pop(key, None)
        self._advance(division, DELETIONS, top)

    def deletions_read(self, division: int) -> int | None:
        return self._watermarks.get((division, DELETIONS))

    def _advance(self, division: int, kind: str, top: int) -> None:
        self._watermarks[(division, kind)] = max(top, self._watermarks.get((division, kind)) or top)


def memory_stores() -> Stores:
    return Stores(
        MemoryTokens(), MemoryBudgets(), MemoryCursors(), MemoryErrorLog(), MemoryMasterData()
    )
