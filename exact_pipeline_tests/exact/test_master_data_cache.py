"""The master-data cache: read from Exact once, then from the state database; a missing code
refreshes its kind (incrementally, once a run); a stale cache is corrected from `sync/Deleted`
after Exact refuses a write. The in-memory store keeps the same promises as Postgres's."""

from __future__ import annotations

from collections.abc import Callable
from uuid import uuid4

import pytest

from exact_pipeline.exact import ExactClient, ExactConfig, LookupKey, masterdata
from exact_pipeline.exact.endpoints import ACCOUNTS, ITEMS, SYNC_DELETED, SYNC_ITEMS
from exact_pipeline.exact.masterdata import MasterData, refuses_master_data
from exact_pipeline.exact.masterstore import DELETIONS, MasterDataStore
from exact_pipeline.exact.memory import MemoryMasterData
from exact_pipeline.exact.models import Item
from exact_pipeline.state.exact import open_exact
from exact_pipeline_tests.exact.conftest import FAST_RETRY, NL, TOKEN_KEY, SandboxAdmin

MASTER_DATA_PATHS = (
    "sync/Logistics/Items",
    "vat/VATCodes",
    "sync/Financial/GLAccounts",
    "financial/Journals",
    "cashflow/PaymentConditions",
    "sync/CRM/Accounts",
    "sync/Deleted",
)
Run = Callable[[], ExactClient]


@pytest.fixture
def next_run(connected: None, config: ExactConfig, state_url: str) -> Run:
    """A new client on the same state database: what the next run sees."""
    return lambda: open_exact(config, state_url, TOKEN_KEY, retry=FAST_RETRY)


def reads(admin: SandboxAdmin) -> dict[str, int]:
    by_endpoint = admin.requests()["by_endpoint"]
    return {path: by_endpoint.get(f"GET {path}", 0) for path in MASTER_DATA_PATHS}


def look_everything_up(client: ExactClient) -> None:
    md = client.master_data(NL)
    assert md.items["SUB-TEAM"].ID is not None
    assert md.vat_codes["1"].Percentage is not None
    assert md.gl_accounts["8000"].Type == 110
    assert md.journals["70"].Type == 20
    assert "30" in md.payment_conditions
    assert md.accounts_by_code["10001"].Name == "Bakkerij De Gouden Korenaar B.V."
    assert len(md.accounts) >= 3


def cached_items(md: MasterData) -> set[str]:
    """The item codes cached (`in` would refresh the kind on a miss)."""
    return set(md.by_code(masterdata.ITEMS))


def create_item(client: ExactClient, code: str) -> Item:
    return client.create(
        NL,
        ITEMS,
        {"Code": code, "Description": f"Test {code}"},
        idempotency=LookupKey.field("Code", code),
    )


def test_the_second_run_reads_no_master_data(
    client: ExactClient, next_run: Run, admin: SandboxAdmin
) -> None:
    admin.clear_requests()
    look_everything_up(client)
    first = reads(admin)
    assert all(first[path] == 1 for path in MASTER_DATA_PATHS[:-1]), first
    assert first["sync/Deleted"] == 0

    admin.clear_requests()
    with next_run() as second:
        look_everything_up(second)
    assert admin.requests()["total"] == 0


def test_an_item_added_in_exact_is_found_on_a_miss_with_one_call(
    client: ExactClient, next_run: Run, admin: SandboxAdmin
) -> None:
    look_everything_up(client)
    created = create_item(client, "CACHE-NEW")
    admin.clear_requests()
    with next_run() as second:
        md = second.master_data(NL)
        assert md.items["CACHE-NEW"].ID == created.ID
        assert md.items["SUB-TEAM"].ID is not None  # the rest is still there
        assert "NO-SUCH-ITEM" not in md.items  # refreshed once a run: no second call
        assert md.items.get("NO-SUCH-ITEM-EITHER") is None
    assert admin.count(f"GET {SYNC_ITEMS.path}") == 1
    assert admin.requests()["total"] == 1
    admin.clear_requests()
    with next_run() as third:  # stored: the next run finds it without asking
        assert third.master_data(NL).items["CACHE-NEW"].ID == created.ID
    assert admin.requests()["total"] == 0


def test_an_item_deleted_in_exact_is_dropped_when_exact_says_the_cache_is_stale(
    client: ExactClient, next_run: Run, admin: SandboxAdmin
) -> None:
    created = create_item(client, "CACHE-GONE")
    look_everything_up(client)
    assert client.master_data(NL).items["CACHE-GONE"].ID == created.ID
    assert created.ID is not None
    client.delete(NL, ITEMS, created.ID)  # Exact leaves a tombstone in sync/Deleted
    with next_run() as second:
        md = second.master_data(NL)
        assert "CACHE-GONE" in cached_items(md)  # cached: nothing tells the run it is gone
        admin.clear_requests()
        assert md.refresh_stale()
        assert "CACHE-GONE" not in cached_items(md)
        assert admin.count(f"GET {SYNC_DELETED.path}") == 1
        assert admin.count(f"GET {SYNC_ITEMS.path}") == 1  # incremental: one page
        assert not md.refresh_stale()  # once a run
    admin.clear_requests()
    with next_run() as third:
        assert "CACHE-GONE" not in cached_items(third.master_data(NL))
        assert third.master_data(NL).items["SUB-TEAM"].ID is not None
    assert admin.requests()["total"] == 0


def test_a_full_refresh_replaces_what_was_cached(
    client: ExactClient, next_run: Run, admin: SandboxAdmin
) -> None:
    created = create_item(client, "CACHE-FULL")
    look_everything_up(client)
    assert created.ID is not None
    client.delete(NL, ITEMS, created.ID)
    create_item(client, "CACHE-LATER")
    with next_run() as second:
        md = second.master_data(NL)
        assert md.items.find("CACHE-LATER") is not None  # incremental: the tombstone unread
        assert "CACHE-FULL" in cached_items(md)
        admin.clear_requests()
        assert md.items.find("CACHE-MISSING", full=True) is None  # full after incremental
        assert "CACHE-FULL" not in cached_items(md)
        assert md.items.find("CACHE-MISSING-TOO", full=True) is None  # once a run
        assert admin.count(f"GET {SYNC_ITEMS.path}") == 1
        assert admin.count(f"GET {SYNC_DELETED.path}") == 0


def test_an_account_the_pipeline_created_is_cached_for_the_next_run(
    client: ExactClient, next_run: Run, admin: SandboxAdmin
) -> None:
    look_everything_up(client)
    account = client.create(
        NL,
        ACCOUNTS,
        {"Code": "77011", "Name": "Cache Test B.V."},
        idempotency=LookupKey.account_code("77011"),
    )
    client.master_data(NL).add_account(account)
    admin.clear_requests()
    with next_run() as second:
        assert second.master_data(NL).accounts_by_code["77011"].ID == account.ID
    assert admin.requests()["total"] == 0


def test_exact_refusals_that_name_master_data() -> None:
    assert refuses_master_data("Ongeldige referentie: Item")
    assert refuses_master_data("Mandatory: Journal\nInvalid reference: Journals")
    assert refuses_master_data("Ongeldig: Grootboekrekeningtype")
    assert not refuses_master_data("Verkoopordernummer: Bestaat reeds")
    assert not refuses_master_data(None)


# --- the in-memory store ----------------------------------------------------------------------


def test_memory_store_keeps_the_store_promises() -> None:
    store: MasterDataStore = MemoryMasterData()
    a, b = str(uuid4()), str(uuid4())
    assert store.load(NL, "items") is None
    store.replace(NL, "items", {a: (5, {"Code": "A"}), b: (7, {"Code": "B"})})
    cached = store.load(NL, "items")
    assert cached is not None and cached.watermark == 7 and set(cached.records) == {a, b}

    store.upsert(NL, "items", {a: (9, {"Code": "A2"})}, 9)
    store.upsert(NL, "items", {a: (6, {"Code": "A-old"})}, 6)  # a replayed page: older
    cached = store.load(NL, "items")
    assert cached is not None and cached.records[a] == {"Code": "A2"} and cached.watermark == 9

    store.replace(NL, "vat_codes", {})  # read, and empty: known, not "never read"
    assert store.load(NL, "vat_codes") is not None

    assert store.deletions_read(NL) is None
    store.remove(NL, [b], 12)
    store.remove(NL, [], 10)  # never back
    cached = store.load(NL, "items")
    assert cached is not None and set(cached.records) == {a}
    assert store.deletions_read(NL) == 12
    assert store.load(NL, DELETIONS) is not None

    store.replace(NL, "items", {b: (3, {"Code": "B"})})  # a full read: the rest is dropped
    cached = store.load(NL, "items")
    assert cached is not None and set(cached.records) == {b} and cached.watermark == 3
