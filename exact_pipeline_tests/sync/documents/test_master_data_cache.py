"""Master data across runs: the second run reads none; an item deleted in Exact after it was
cached blocks its document with the mapping reason (Exact's refusal refreshes the cache); the
mapping check reads a kind in full before it calls a code missing."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from exact_pipeline.exact import ExactClient, ExactConfig, LookupKey
from exact_pipeline.exact.endpoints import ITEMS
from exact_pipeline.state.exact import open_exact
from exact_pipeline.sync.documents import ledger
from exact_pipeline_tests.exact.conftest import BE, FAST_RETRY, NL, TOKEN_KEY, SandboxAdmin
from exact_pipeline_tests.exact.test_master_data_cache import MASTER_DATA_PATHS, reads
from exact_pipeline_tests.sync.builder import Billing, day_window
from exact_pipeline_tests.sync.conftest import EngineFactory, MappingFolder

Run = Callable[[], ExactClient]


@pytest.fixture
def next_run(exact: ExactClient, config: ExactConfig, state_url: str) -> Run:
    """A new client on the same state database (the next run); closed by its `with`."""
    return lambda: open_exact(config, state_url, TOKEN_KEY, retry=FAST_RETRY)


def test_the_second_run_reads_no_master_data(
    billing: Billing, make_engine: EngineFactory, next_run: Run, admin: SandboxAdmin
) -> None:
    customer = billing.customer("cus_known_01", "Bakkerij De Gouden Korenaar B.V.")
    billing.document("INV-8101", customer, [("prod_team", "1", 9900, "tax_nl_21")])
    admin.clear_requests()
    assert make_engine().push_documents(day_window()).counts["pushed"] == 1
    first = reads(admin)
    assert first["sync/Logistics/Items"] + first["sync/Financial/GLAccounts"] >= 1, first

    billing.document("INV-8102", customer, [("prod_seat", "2", 1200, "tax_nl_21")])
    admin.clear_requests()
    with next_run() as second:
        assert make_engine(exact=second).push_documents(day_window()).counts["pushed"] == 1
    assert sum(reads(admin).values()) == 0, reads(admin)

    admin.clear_requests()
    with next_run() as idle:  # nothing new to push
        make_engine(exact=idle).push_documents(day_window())
    assert sum(reads(admin).values()) == 0, reads(admin)


def test_an_item_deleted_in_exact_blocks_its_document_with_the_mapping_reason(
    billing: Billing,
    mapping_folder: MappingFolder,
    make_engine: EngineFactory,
    exact: ExactClient,
    next_run: Run,
    admin: SandboxAdmin,
) -> None:
    mapping_folder.setting("invoice_push_mode", "sales_invoice")
    customer = billing.customer("cus_known_01", "Bakkerij De Gouden Korenaar B.V.")
    billing.document("INV-8201", customer, [("prod_team", "1", 9900, "tax_nl_21")])
    assert make_engine().push_documents(day_window()).counts["pushed"] == 1
    storage = exact.master_data(NL).items["USE-STORAGE"]  # cached by the first run
    assert storage.ID is not None
    exact.delete(NL, ITEMS, storage.ID)  # Exact leaves a tombstone in sync/Deleted

    billing.document("INV-8202", customer, [("prod_storage", "10", 250, "tax_nl_21")])
    admin.clear_requests()
    with next_run() as second:
        engine = make_engine(exact=second)
        report = engine.push_documents(day_window())
        (row,) = engine.blocked(day_window())
    assert report.counts["blocked"] == 1, report.rows
    assert row.number == "INV-8202" and row.block_kind == ledger.MASTER_DATA
    assert "item USE-STORAGE does not exist in Exact division 310001" in (row.last_error or "")
    assert admin.count("GET sync/Deleted") == 1
    assert "INV-8202" not in {r["YourRef"] for r in admin.store(NL, "salesinvoice/SalesInvoices")}

    admin.clear_requests()
    with next_run() as third:  # still blocked: its kind read again (a miss), nothing posted
        report = make_engine(exact=third).push_documents(day_window())
    assert report.counts["blocked"] == 1, report.rows
    assert reads(admin)["sync/Logistics/Items"] == 1
    assert not any(key.startswith("POST") for key in admin.requests()["by_endpoint"])


def test_the_mapping_check_reads_a_kind_in_full_before_calling_a_code_missing(
    billing: Billing,
    mapping_folder: MappingFolder,
    make_engine: EngineFactory,
    exact: ExactClient,
    next_run: Run,
    admin: SandboxAdmin,
) -> None:
    assert make_engine().validate_mappings().ok  # fills the cache of both divisions
    added = {"Code": "SUB-CACHED", "Description": "Added after the cache"}
    exact.create(NL, ITEMS, added, idempotency=LookupKey.field("Code", "SUB-CACHED"))
    mapping_folder.append("products.csv", "prod_cached,SUB-CACHED,")

    admin.clear_requests()
    with next_run() as second:
        validation = make_engine(exact=second).validate_mappings()
    problems = "\n".join(validation.problems)
    assert f"item SUB-CACHED does not exist in Exact division {BE}" in problems
    assert f"item SUB-CACHED does not exist in Exact division {NL}" not in problems
    counts = reads(admin)
    assert counts["sync/Logistics/Items"] == 2  # in full, once per division
    assert sum(counts[path] for path in MASTER_DATA_PATHS if "Items" not in path) == 0

    admin.clear_requests()
    with next_run() as third:  # what the full read found is stored
        assert third.master_data(NL).items["SUB-CACHED"].ID is not None
    assert admin.requests()["total"] == 0
