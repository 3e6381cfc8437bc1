"""Where a division's master data is kept between runs (`MasterDataStore`) and how it is read
from Exact (`Reader`): the protocols masterdata.py and periods.py share, so neither needs the
other's module."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from exact_pipeline.exact.endpoints import Endpoint, M

Record = dict[str, Any]  # a record as its model dumps it (JSON types)
SyncPage = list[tuple[int, M]]  # one page of a sync endpoint: each record with its Timestamp
DELETIONS = "deleted"  # the store's name for the watermark of `sync/Deleted`


@dataclass(frozen=True)
class Cached:
    records: dict[str, Record]  # by ID
    watermark: int | None  # the highest Timestamp read (sync kinds)


class MasterDataStore(Protocol):
    """Where a division's master data is kept between runs (by kind, each record by ID)."""

    def load(self, division: int, kind: str) -> Cached | None:
        """The kind's records, or None when it was never read."""
        ...

    def upsert(
        self, division: int, kind: str, records: Mapping[str, tuple[int | None, Record]], top: int
    ) -> None:
        """Add or update `records` (ID → (Timestamp, record); a record never replaces a newer
        one) and move the kind's watermark forward to `top` (never back)."""
        ...

    def replace(
        self, division: int, kind: str, records: Mapping[str, tuple[int | None, Record]]
    ) -> None:
        """The kind's whole content, read in full: records not in `records` are dropped; the
        watermark becomes their highest Timestamp (None for a kind without one)."""
        ...

    def add(self, division: int, kind: str, key: str, record: Record) -> None:
        """One record created by the pipeline (its Timestamp comes with the next sync)."""
        ...

    def remove(self, division: int, keys: Collection[str], top: int) -> None:
        """Drop the records deleted in Exact (any kind) and move the division's deletions
        watermark (`DELETIONS`) forward to `top`."""
        ...

    def deletions_read(self, division: int) -> int | None:
        """The highest `sync/Deleted` Timestamp applied, None before the first read."""
        ...


class Reader(Protocol):
    """How master data is read (`ExactClient`, passed in, so this module needs no client)."""

    def list(
        self, division: int, endpoint: Endpoint[M], *, filter: str | None = None
    ) -> Iterator[M]: ...

    def sync_pages(
        self, division: int, endpoint: Endpoint[M], since: int
    ) -> Iterator[SyncPage[M]]: ...
