"""sync/ endpoints: Timestamp rowversion, `Timestamp gt N` only, 1000 per page, flattening."""

from __future__ import annotations

from decimal import Decimal

from exact_pipeline_tests.sandbox.helpers import NL, SEEDED_ITEMS, ExactClient


def _sync(exact: ExactClient, path: str, after: int = 1, select: str = "Timestamp") -> list[dict]:
    return exact.rows(path, **{"$filter": f"Timestamp gt {after}", "$select": select})


def test_only_timestamp_gt_is_accepted(exact: ExactClient) -> None:
    def message(**params: str) -> str:
        reply = exact.get("sync/CRM/Accounts", **params)
        assert reply.status_code == 400
        return reply.json()["error"]["message"]["value"]

    assert "mandatory filtering" in message(**{"$select": "ID"})
    assert message(**{"$filter": "Timestamp gt 1 and Name eq 'x'", "$select": "ID"}) == (
        "Filtering on these fields is not supported: Name"
    )
    assert message(**{"$filter": "Timestamp ge 1", "$select": "ID"}) == (
        "This $filter parameter is not supported for this resource"
    )
    assert "$select" in message(**{"$filter": "Timestamp gt 1"})


def test_changes_come_after_the_last_timestamp_in_order(exact: ExactClient) -> None:
    seeded = _sync(exact, "sync/CRM/Accounts", select="ID,Code,Timestamp")
    assert len(seeded) == 3
    assert [r["Timestamp"] for r in seeded] == sorted(r["Timestamp"] for r in seeded)
    last = seeded[-1]["Timestamp"]
    assert _sync(exact, "sync/CRM/Accounts", last) == []
    created = exact.created("crm/Accounts", {"Name": "Sync BV"})
    exact.put(f"crm/Accounts(guid'{seeded[0]['ID']}')", {"City": "Delft"})
    changed = _sync(exact, "sync/CRM/Accounts", last, "ID,City")
    assert [r["ID"] for r in changed] == [created["ID"], seeded[0]["ID"]]
    assert changed[1]["City"] == "Delft"


def test_sync_pages_hold_1000_and_page_by_timestamp(exact: ExactClient) -> None:
    exact.configure(minutely_limit=5000)
    entry_lines = [("8000", Decimal(1))] * 300
    for _ in range(4):
        exact.sales_entry("10001", entry_lines)
    first = exact.get(
        "sync/Financial/TransactionLines",
        **{"$filter": "Timestamp gt 1", "$select": "ID,Timestamp"},
    ).json()["d"]
    assert len(first["results"]) == 1000
    assert "$skiptoken=" in first["__next"]
    second = exact.http.get(first["__next"], headers=exact.auth).json()["d"]
    stamps = [r["Timestamp"] for r in first["results"] + second["results"]]
    # per entry: the debtor line, 300 revenue lines and one VAT line
    assert len(stamps) == 4 * 302 and stamps == sorted(stamps) and len(set(stamps)) == len(stamps)
    assert "__next" not in second


def test_transaction_lines_of_a_sales_entry(exact: ExactClient) -> None:
    entry = exact.sales_entry("10001", [("8000", Decimal("100.00")), ("8010", Decimal("50.00"))])
    lines = _sync(
        exact,
        "sync/Financial/TransactionLines",
        select="EntryID,LineNumber,Type,GLAccountCode,AmountDC,Account,InvoiceNumber",
    )
    assert {line["EntryID"] for line in lines} == {entry["EntryID"]}
    summary = [(line["LineNumber"], line["GLAccountCode"], line["AmountDC"]) for line in lines]
    assert summary == [
        (0, "1300", 181.5),
        (1, "8000", -100.0),
        (2, "8010", -50.0),
        (3, "1500", -31.5),
    ]
    assert lines[0]["Account"] == entry["Customer"] and {line["Type"] for line in lines} == {20}
    bank = exact.created(
        "financialtransaction/BankEntries",
        {
            "JournalCode": "20",
            "BankEntryLines": [
                {
                    "Account": entry["Customer"],
                    "OurRef": entry["EntryNumber"],
                    "AmountFC": 181.5,
                    "GLAccount": exact.gl("1300")["ID"],
                }
            ],
        },
    )
    last = max(line["Timestamp"] for line in exact.store("financialtransaction/TransactionLines"))
    assert last > 0
    cash = exact.rows(
        "financialtransaction/TransactionLines",
        **{"$filter": f"EntryID eq guid'{bank['EntryID']}'"},
    )
    cash.sort(key=lambda c: c["LineNumber"])
    assert [(c["LineNumber"], c["GLAccountCode"], c["AmountDC"], c["Type"]) for c in cash] == [
        (0, "1100", 181.5, 40),
        (1, "1300", -181.5, 40),
    ]


def test_sales_invoice_sync_is_flattened(exact: ExactClient) -> None:
    team, seat = exact.item("SUB-TEAM")["ID"], exact.item("SUB-SEAT")["ID"]
    invoice = exact.created(
        "salesinvoice/SalesInvoices",
        {
            "OrderedBy": exact.account("10001")["ID"],
            "SalesInvoiceLines": [{"Item": team}, {"Item": seat}],
        },
    )
    rows = _sync(
        exact,
        "sync/SalesInvoice/SalesInvoices",
        select="InvoiceID,LineNumber,AmountFC,Item,Status,Timestamp",
    )
    assert [(r["InvoiceID"], r["LineNumber"]) for r in rows] == [
        (invoice["InvoiceID"], 0),
        (invoice["InvoiceID"], 1),
        (invoice["InvoiceID"], 2),
    ]
    assert rows[0]["AmountFC"] == 134.31 and rows[0]["Item"] is None
    assert [r["Item"] for r in rows[1:]] == [team, seat]
    exact.created("salesinvoice/PrintedSalesInvoices", {"InvoiceID": invoice["InvoiceID"]})
    after = _sync(
        exact,
        "sync/SalesInvoice/SalesInvoices",
        rows[-1]["Timestamp"],
        "InvoiceID,LineNumber,Status",
    )
    assert [(r["LineNumber"], r["Status"]) for r in after] == [(0, 50)]


def test_other_sync_endpoints_answer(exact: ExactClient) -> None:
    for path in (
        "sync/Logistics/Items",
        "sync/Financial/GLAccounts",
        "sync/Documents/Documents",
        "sync/Documents/DocumentAttachments",
        "sync/Deleted",
    ):
        assert (
            exact.get(path, NL, **{"$filter": "Timestamp gt 1", "$select": "Timestamp"}).status_code
            == 200
        )
    assert len(_sync(exact, "sync/Logistics/Items")) == SEEDED_ITEMS
