"""One division's reference data, kept in a `MasterDataStore` between runs and read from Exact
only when it has to be: a run where every code is known reads nothing.

When Exact is asked (each kind at most once a run, a full read after an incremental one still
allowed):
- a kind never read is read in full, on first use;
- a code looked up and not found refreshes its kind before it counts as missing: the sync kinds
  (items, GL accounts, accounts) incrementally (`Timestamp gt` the kind's watermark: one call
  when nothing changed), the small ones (VAT codes, journals, payment conditions, cost centres
  and cost units: no sync endpoint) in full. `find(code, full=True)` (the mapping check) reads
  a sync kind in full too, which also drops records deleted longer ago than `sync/Deleted`
  remembers (about 2 months);
- `refresh_stale()`, when Exact refused a write for a master-data reason (`refuses_master_data`):
  every document kind again (cost centres and units if the run used them), plus `sync/Deleted`
  since its own watermark (records deleted in Exact are dropped). A code that is present but
  stale costs nothing until Exact says so.

Big sets are read through their sync endpoints (1000 rows a page, `Timestamp gt N` the only
filter); small ones through their plain endpoints, usually in one page. Codes are the keys
(trimmed, as the mapping tables write them): `items["SUB-TEAM"]`, `vat_codes["1"]`,
`gl_accounts["8000"]`, `journals["70"]`, `payment_conditions["30"]`; lines reference GL
accounts and items by ID: `gl_accounts["8000"].ID`. Records are stored by ID (so a tombstone,
which names only the ID, finds its record), as their model dumps them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Generic, TypeVar

from exact_pipeline.exact import codes, endpoints
from exact_pipeline.exact.endpoints import Endpoint
from exact_pipeline.exact.masterstore import (
    MasterDataStore,
    Reader,
    Record,
)
from exact_pipeline.exact.models import (
    Account,
    CostCenter,
    CostUnit,
    ExactModel,
    GLAccount,
    Item,
    Journal,
    PaymentCondition,
    VATCode,
)
from exact_pipeline.exact.periods import JournalPeriods

C = TypeVar("C", bound=ExactModel)

# Exact's texts when a write names master data it does not (or no longer) have, in both of its
# languages (exact-online-api.md §3: "Ongeldige referentie: Journals", "Ongeldig:
# Grootboekrekeningtype"; the journal texts of financial/Journals).
MASTER_DATA_REFUSALS = (
    "ongeldige referentie",
    "invalid reference",
    "grootboekrekeningtype",
    "g/l account type",
    "ongeldig dagboek",
    "invalid journal",
)


def refuses_master_data(message: str | None) -> bool:
    """Whether Exact's refusal says a referenced code is unknown or unfit."""
    text = (message or "").lower()
    return any(refusal in text for refusal in MASTER_DATA_REFUSALS)


@dataclass(frozen=True)
class Kind(Generic[C]):
    """A kind of master data: where it is read, and its `sync/Deleted` EntityType (sync kinds)."""

    name: str  # the store's name for it
    endpoint: Endpoint[C]
    deleted_type: int | None = None

    @property
    def syncs(self) -> bool:
        return self.endpoint.is_sync


ITEMS = Kind("items", endpoints.SYNC_ITEMS, codes.ITEM_DELETED)
GL_ACCOUNTS = Kind("gl_accounts", endpoints.SYNC_GL_ACCOUNTS, codes.GL_ACCOUNT_DELETED)
ACCOUNTS = Kind("accounts", endpoints.SYNC_ACCOUNTS, codes.ACCOUNT_DELETED)
VAT_CODES = Kind("vat_codes", endpoints.VAT_CODES)
JOURNALS = Kind("journals", endpoints.JOURNALS)
PAYMENT_CONDITIONS = Kind("payment_conditions", endpoints.PAYMENT_CONDITIONS)
# Analytics on lines: read only by a division whose products name them (small sets, plain
# endpoints, read in full on a miss like the VAT codes).
COST_CENTERS = Kind("cost_centers", endpoints.COST_CENTERS)
COST_UNITS = Kind("cost_units", endpoints.COST_UNITS)
ANALYTIC_KINDS: tuple[Kind[Any], ...] = (COST_CENTERS, COST_UNITS)
DOCUMENT_KINDS: tuple[Kind[Any], ...] = (
    ITEMS,
    GL_ACCOUNTS,
    VAT_CODES,
    JOURNALS,
    PAYMENT_CONDITIONS,
)
KINDS: tuple[Kind[Any], ...] = (*DOCUMENT_KINDS, ACCOUNTS)


class CodeTable(Mapping[str, C]):
    """One kind's records by code. Looking up a code that is not there (`[]`, `get`, `in`,
    `find`) refreshes the kind first (see the module docstring); iterating reads the cache."""

    def __init__(self, master: MasterData, kind: Kind[C]) -> None:
        self._master = master
        self._kind = kind

    def find(self, code: str, *, full: bool = False) -> C | None:
        found = self._master.by_code(self._kind).get(code)
        if found is None and code and self._master.refresh(self._kind, full=full):
            found = self._master.by_code(self._kind).get(code)
        return found

    def __getitem__(self, code: str) -> C:
        found = self.find(code)
        if found is None:
            raise KeyError(code)
        return found

    def __iter__(self) -> Iterator[str]:
        return iter(self._master.by_code(self._kind))

    def __len__(self) -> int:
        return len(self._master.by_code(self._kind))


class MasterData:
    """A division's master data for one run (one per client and division)."""

    def __init__(self, reader: Reader, store: MasterDataStore, division: int) -> None:
        self._reader = reader
        self._store = store
        self.division = division
        self._by_id: dict[str, dict[str, Any]] = {}  # kind → ID → record, once loaded
        self._by_code: dict[str, dict[str, Any]] = {}  # kind → code → record (derived)
        self._watermarks: dict[str, int | None] = {}
        self._refreshed: dict[str, bool] = {}  # kind → read from Exact this run (True: in full)
        self._deletions_read = False

    @cached_property
    def items(self) -> CodeTable[Item]:
        return CodeTable(self, ITEMS)

    @cached_property
    def vat_codes(self) -> CodeTable[VATCode]:
        return CodeTable(self, VAT_CODES)

    @cached_property
    def gl_accounts(self) -> CodeTable[GLAccount]:
        return CodeTable(self, GL_ACCOUNTS)

    @cached_property
    def journals(self) -> CodeTable[Journal]:
        return CodeTable(self, JOURNALS)

    @cached_property
    def payment_conditions(self) -> CodeTable[PaymentCondition]:
        return CodeTable(self, PAYMENT_CONDITIONS)

    @cached_property
    def cost_centers(self) -> CodeTable[CostCenter]:
        return CodeTable(self, COST_CENTERS)

    @cached_property
    def cost_units(self) -> CodeTable[CostUnit]:
        return CodeTable(self, COST_UNITS)

    @cached_property
    def periods(self) -> JournalPeriods:
        """The journals' open and closed periods (periods.py), kept in the same store."""
        return JournalPeriods(self._reader, self._store, self.division)

    @cached_property
    def accounts_by_code(self) -> CodeTable[Account]:
        return CodeTable(self, ACCOUNTS)

    @property
    def accounts(self) -> list[Account]:
        """Every account, for matching customers (refresh with `refresh(ACCOUNTS)`)."""
        return list(self._records(ACCOUNTS).values())

    def add_account(self, account: Account) -> None:
        """An account the pipeline created: cached at once, for this run and the next."""
        assert account.ID is not None
        key = str(account.ID)
        self._records(ACCOUNTS)[key] = account
        self._by_code.pop(ACCOUNTS.name, None)
        self._store.add(self.division, ACCOUNTS.name, key, _dump(account))

    def by_code(self, kind: Kind[C]) -> dict[str, C]:
        if kind.name not in self._by_code:
            records = self._records(kind).values()
            self._by_code[kind.name] = {r.Code: r for r in records if getattr(r, "Code", None)}
        return self._by_code[kind.name]

    # --- reading Exact ---------------------------------------------------------------------

    def refresh(self, kind: Kind[Any], *, full: bool = False) -> bool:
        """Read `kind` from Exact again, unless it was this run (a full read after an
        incremental one is still made): a sync kind incrementally unless `full`, any other in
        full. Returns whether the cache changed."""
        if not self._may_refresh(kind, full):
            return False
        before = dict(self._records(kind))  # a kind never read is read in full here
        if self._may_refresh(kind, full):
            self._read(kind, full=full)
        return self._records(kind) != before

    def refresh_stale(self) -> bool:
        """After Exact refused a write for a master-data reason: the document kinds again
        (each at most once a run), and the records deleted in Exact since the last look
        dropped. The analytic kinds only when this run uses them: a division that names no cost
        centre never reads them. Returns whether the cache changed."""
        used = [kind for kind in ANALYTIC_KINDS if kind.name in self._by_id]
        changed = [self.refresh(kind) for kind in (*DOCUMENT_KINDS, *used)]
        return self._drop_deleted() or any(changed)

    def _may_refresh(self, kind: Kind[Any], full: bool) -> bool:
        done = self._refreshed.get(kind.name)
        return done is None or (full and not done)

    def _records(self, kind: Kind[C]) -> dict[str, C]:
        if kind.name not in self._by_id:
            cached = self._store.load(self.division, kind.name)
            if cached is None:
                self._read(kind, full=True)
            else:
                model = kind.endpoint.model
                self._by_id[kind.name] = {
                    key: model.model_validate(record) for key, record in cached.records.items()
                }
                self._watermarks[kind.name] = cached.watermark
        return self._by_id[kind.name]

    def _read(self, kind: Kind[C], *, full: bool) -> None:
        """A full read replaces the kind (in the store too); an incremental one (sync kinds)
        applies page after page, so what was read stays read when a later page fails."""
        self._by_code.pop(kind.name, None)
        if full or not kind.syncs:
            read = self._read_all(kind)
            self._store.replace(self.division, kind.name, _dumped(read))
            self._by_id[kind.name] = {key: record for key, (_, record) in read.items()}
            stamps = [stamp for stamp, _ in read.values() if stamp is not None]
            self._watermarks[kind.name] = max(stamps, default=None)
            self._refreshed[kind.name] = True
            return
        self._refreshed[kind.name] = False
        table = self._by_id[kind.name]
        since = self._watermarks.get(kind.name) or _FIRST
        for page in self._reader.sync_pages(self.division, kind.endpoint, since):
            if not page:
                continue
            rows = {_key(record): (stamp, record) for stamp, record in page}
            top = max(stamp for stamp, _ in page)
            self._store.upsert(self.division, kind.name, _dumped(rows), top)
            table.update({key: record for key, (_, record) in rows.items()})
            self._watermarks[kind.name] = top
            self._by_code.pop(kind.name, None)

    def _read_all(self, kind: Kind[C]) -> dict[str, tuple[int | None, C]]:
        if not kind.syncs:
            return {_key(r): (None, r) for r in self._reader.list(self.division, kind.endpoint)}
        pages = self._reader.sync_pages(self.division, kind.endpoint, _FIRST)
        return {_key(record): (stamp, record) for page in pages for stamp, record in page}

    def _drop_deleted(self) -> bool:
        """Apply `sync/Deleted` (its own watermark per division), once a run."""
        if self._deletions_read:
            return False
        self._deletions_read = True
        kinds = {kind.deleted_type: kind for kind in KINDS if kind.deleted_type is not None}
        since = self._store.deletions_read(self.division) or _FIRST
        dropped = False
        for page in self._reader.sync_pages(self.division, endpoints.SYNC_DELETED, since):
            if not page:
                continue
            gone = [
                (kinds[d.EntityType], str(d.EntityKey))
                for _, d in page
                if d.EntityType in kinds and d.EntityKey is not None
            ]
            self._store.remove(self.division, [key for _, key in gone], max(s for s, _ in page))
            for kind, key in gone:
                if self._by_id.get(kind.name, {}).pop(key, None) is not None:
                    self._by_code.pop(kind.name, None)
                    dropped = True
        return dropped


_FIRST = 1  # Exact's documented start of a sync: `Timestamp gt 1`


def _key(record: ExactModel) -> str:
    key = getattr(record, "ID", None)
    assert key is not None, f"{type(record).__name__} without an ID"
    return str(key)


def _dump(record: ExactModel) -> Record:
    return record.model_dump(mode="json", exclude_none=True)


def _dumped(
    records: Mapping[str, tuple[int | None, ExactModel]],
) -> dict[str, tuple[int | None, Record]]:
    return {key: (stamp, _dump(record)) for key, (stamp, record) in records.items()}
