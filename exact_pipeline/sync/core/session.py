"""What every sync (documents, payments) holds for one run: billing's URL, a connection to the
state database with the ledger's tables in place, the mapping tables and the Exact client."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Self

import psycopg

from exact_pipeline.exact import ExactClient
from exact_pipeline.mapping import Mappings


def utc_now() -> datetime:
    return datetime.now(UTC)


class SyncSession:
    # The state tables this sync works with, created if missing (each domain names its own).
    schemas: tuple[Callable[[psycopg.Connection], None], ...] = ()

    def __init__(
        self,
        *,
        billing_url: str,
        state_url: str,
        mappings: Mappings,
        exact: ExactClient,
        now: Callable[[], datetime] = utc_now,
    ) -> None:
        self.billing_url = billing_url
        self.state_url = state_url
        self.mappings = mappings
        self.exact = exact
        self._now = now
        self._state = psycopg.connect(state_url, autocommit=True)
        for ensure_schema in self.schemas:
            ensure_schema(self._state)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._state.close()
