"""Reading: paging, bulk and sync endpoints, typed models, the master-data cache."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from exact_pipeline.exact import ExactClient, ExactConfig, LookupKey, eq
from exact_pipeline.exact.endpoints import (
    ACCOUNTS,
    BULK_ACCOUNTS,
    GL_ACCOUNTS,
    JOURNALS,
    PAYMENT_CONDITIONS,
    SALES_ENTRIES,
    SYNC_ACCOUNTS,
    SYNC_GL_ACCOUNTS,
    SYNC_ITEMS,
    VAT_CODES,
)
from exact_pipeline.state.exact import open_exact
from exact_pipeline_tests.exact.conftest import BE, FAST_RETRY, NL, TOKEN_KEY, SandboxAdmin


def add_vat_codes(client: ExactClient, count: int) -> None:
    for n in range(count):
        code = f"Z{n:02d}"
        client.create(
            BE,
            VAT_CODES,
            {"Code": code, "Description": f"Test {code}", "Percentage": Decimal("0.21")},
            idempotency=LookupKey.field("Code", code),
        )


def test_collections_are_paged_through_next_links(client: ExactClient, admin: SandboxAdmin) -> None:
    admin.configure(minutely_limit=1000)
    add_vat_codes(client, 61)
    admin.clear_requests()
    codes = [v.Code for v in client.list(BE, VAT_CODES)]
    assert len(codes) == len(set(codes)) >= 61 + 3
    assert admin.count(f"GET {VAT_CODES.path}") == 2  # 60 a page
    admin.clear_requests()
    assert len(list(client.list(BE, VAT_CODES, top=5))) == 5
    assert admin.count(f"GET {VAT_CODES.path}") == 1


def test_master_data_is_read_once_per_kind_and_keyed_by_trimmed_code(
    client: ExactClient, admin: SandboxAdmin
) -> None:
    admin.clear_requests()
    for _ in range(2):
        md = client.master_data(NL)
        assert md.items["SUB-TEAM"].ID is not None
        assert md.vat_codes["1"].Percentage == Decimal("0.21")
        assert md.gl_accounts["8000"].Type == 110
        assert md.journals["70"].Type == 20
        assert "30" in md.payment_conditions
    counts = admin.requests()["by_endpoint"]
    for endpoint in (SYNC_ITEMS, VAT_CODES, SYNC_GL_ACCOUNTS, JOURNALS, PAYMENT_CONDITIONS):
        assert counts.get(f"GET {endpoint.path}") == 1, endpoint.path
    assert admin.requests()["total"] == 5
    assert client.master_data(NL) is client.master_data(NL)
    assert client.master_data(BE) is not client.master_data(NL)


def test_accounts_read_in_one_pass_with_trimmed_codes(
    client: ExactClient, admin: SandboxAdmin
) -> None:
    accounts = {a.Code: a for a in client.master_data(NL).accounts}
    assert accounts["10001"].Name == "Bakkerij De Gouden Korenaar B.V."
    raw = [r for r in admin.store(NL, ACCOUNTS.path) if r["Name"].startswith("Bakkerij")]
    assert raw[0]["Code"] != "10001" and raw[0]["Code"].strip() == "10001"  # padded at Exact
    found = client.first(NL, ACCOUNTS, LookupKey.account_code("10001").filter)
    assert found is not None and found.ID == accounts["10001"].ID
    assert admin.count(f"GET {SYNC_ACCOUNTS.path}") == 1
    by_vat = list(client.list(NL, BULK_ACCOUNTS, filter=eq("VATNumber", "NL001234567B02")))
    assert [a.Code for a in by_vat] == ["10002"]


def test_sync_reads_only_changes_and_remembers_where_it_was(
    client: ExactClient, config: ExactConfig, state_url: str
) -> None:
    first = list(client.sync(NL, SYNC_ACCOUNTS))
    assert {a.Code for a in first} >= {"10001", "10002", "10003"}
    assert list(client.sync(NL, SYNC_ACCOUNTS)) == []
    client.create(
        NL,
        ACCOUNTS,
        {"Code": "77001", "Name": "Sync Test B.V."},
        idempotency=LookupKey.account_code("77001"),
    )
    # A new client (the next run) resumes from the stored Timestamp.
    with open_exact(config, state_url, TOKEN_KEY, retry=FAST_RETRY) as next_run:
        changed = list(next_run.sync(NL, SYNC_ACCOUNTS))
        assert [a.Code for a in changed] == ["77001"]
        assert next_run.sync_cursor(NL, SYNC_ACCOUNTS) is not None
        next_run.reset_sync(NL, SYNC_ACCOUNTS)
        assert len(list(next_run.sync(NL, SYNC_ACCOUNTS))) == len(first) + 1


def test_a_record_reads_back_typed_with_its_lines(client: ExactClient) -> None:
    md = client.master_data(NL)
    customer = client.first(NL, ACCOUNTS, LookupKey.account_code("10002").filter)
    assert customer is not None
    created = client.create(
        NL,
        SALES_ENTRIES,
        {
            "Journal": "70",
            "Customer": customer.ID,
            "YourRef": "READ-1",
            "EntryDate": date(2026, 11, 20),
            "SalesEntryLines": [
                {"GLAccount": md.gl_accounts["8010"].ID, "AmountFC": Decimal("12.34")},
                {"GLAccount": md.gl_accounts["8020"].ID, "AmountFC": Decimal("0.66")},
            ],
        },
        idempotency=LookupKey.field("YourRef", "READ-1"),
    )
    assert created.EntryID is not None
    entry = client.get(NL, SALES_ENTRIES, created.EntryID)
    assert entry.EntryDate == datetime(2026, 11, 20)
    assert entry.Journal == "70" and entry.YourRef == "READ-1"
    assert entry.SalesEntryLines is not None
    assert sorted(line.AmountFC for line in entry.SalesEntryLines) == [
        Decimal("0.66"),
        Decimal("12.34"),
    ]
    assert {line.GLAccountCode for line in entry.SalesEntryLines} == {"8010", "8020"}
    listed = list(client.list(NL, SALES_ENTRIES, filter="YourRef eq 'READ-1'", expand=True))
    assert listed == [entry]


def test_divisions_and_me(client: ExactClient) -> None:
    me = client.me()
    assert me.CurrentDivision in (NL, BE) and me.FullName
    codes = {d.Code for d in client.divisions()}
    assert {NL, BE} <= codes
    assert all(isinstance(gl.Code, str) for gl in client.list(NL, GL_ACCOUNTS))
