"""What third-party clients use and the sandbox once lacked: hrm/Divisions, ReceivablesList,
sales-entry lines on their own, InvoiceNumber on POST, $orderby, HTTP Basic at the token
endpoint."""

from __future__ import annotations

import base64
from decimal import Decimal

from exact_pipeline_tests.sandbox.helpers import BE, CLIENT_ID, CLIENT_SECRET, NL, ExactClient


def test_hrm_and_system_divisions_list_the_granted_divisions(exact: ExactClient) -> None:
    hrm = exact.rows("hrm/Divisions")
    assert {row["Code"] for row in hrm} == {NL, BE}
    assert {row["HID"] for row in hrm} == {NL, BE}
    system = exact.rows("system/Divisions")
    assert {row["Hid"] for row in system} == {NL, BE} and "HID" not in system[0]
    assert exact.put(f"hrm/Divisions({NL})", {}).status_code == 405
    assert exact.delete(f"system/Divisions({NL})").status_code == 405  # not simulated


def test_receivables_list_shows_open_items(exact: ExactClient) -> None:
    entry = exact.sales_entry("10001", [("8000", Decimal(100))], YourRef="INV-1")
    (row,) = exact.rows("read/financial/ReceivablesList")
    assert row["Amount"] == 121 and row["YourRef"] == "INV-1"
    assert row["AccountId"] == entry["Customer"] and row["AccountCode"].strip() == "10001"
    assert row["InvoiceNumber"] == entry["InvoiceNumber"] and row["JournalCode"] == "70"
    one = exact.get(f"read/financial/ReceivablesList({row['HID']}L)").json()["d"]
    assert one["HID"] == row["HID"]
    assert exact.delete(f"salesentry/SalesEntries(guid'{entry['EntryID']}')").status_code == 204
    assert exact.rows("read/financial/ReceivablesList") == []


def test_invoice_number_is_accepted_on_post(exact: ExactClient) -> None:
    entry = exact.sales_entry("10001", [("8000", Decimal(5))], InvoiceNumber=4711)
    assert entry["InvoiceNumber"] == 4711 and entry["EntryNumber"] == 26700001
    (item,) = exact.store("cashflow/Receivables")
    assert item["InvoiceNumber"] == 4711 and item["EntryNumber"] == 26700001


def _amounts(exact: ExactClient, entry_id: str) -> tuple[Decimal, Decimal]:
    header = exact.get(f"salesentry/SalesEntries(guid'{entry_id}')").json()["d"]
    (item,) = [
        r for r in exact.store("cashflow/Receivables") if r["TransactionEntryID"] == entry_id
    ]
    assert Decimal(item["AmountDC"]) == Decimal(str(header["AmountDC"]))  # booked again
    return Decimal(str(header["AmountFC"])), Decimal(str(header["VATAmountFC"]))


def test_sales_entry_lines_are_posted_changed_and_deleted_on_their_own(
    exact: ExactClient,
) -> None:
    entry = exact.sales_entry("10001", [("8000", Decimal(100))])
    entry_id = entry["EntryID"]
    gl = exact.gl("8010")["ID"]
    missing = exact.post("salesentry/SalesEntryLines", {"GLAccount": gl, "AmountFC": 10})
    assert missing.status_code == 500
    assert missing.json()["error"]["message"]["value"] == "Verplicht: EntryID"
    line = exact.created(
        "salesentry/SalesEntryLines",
        {"EntryID": entry_id, "GLAccount": gl, "AmountFC": 10, "VATCode": "1"},
    )
    assert line["LineNumber"] == 2 and line["VATAmountFC"] == 2.1
    assert _amounts(exact, entry_id) == (Decimal("133.1"), Decimal("23.1"))
    key = f"salesentry/SalesEntryLines(guid'{line['ID']}')"
    assert exact.put(key, {"AmountFC": 20}).status_code == 204
    assert _amounts(exact, entry_id) == (Decimal("145.2"), Decimal("25.2"))
    moved = exact.put(key, {"EntryID": exact.sales_entry("10002", [("8000", 1)])["EntryID"]})
    assert moved.status_code == 500  # a line stays on its entry
    assert exact.delete(key).status_code == 204
    assert _amounts(exact, entry_id) == (Decimal(121), Decimal(21))


def test_deleting_the_last_line_deletes_the_entry(exact: ExactClient) -> None:
    entry = exact.sales_entry("10001", [("8000", Decimal(100))])
    (line,) = entry["SalesEntryLines"]["results"]
    assert exact.delete(f"salesentry/SalesEntryLines(guid'{line['ID']}')").status_code == 204
    assert exact.get(f"salesentry/SalesEntries(guid'{entry['EntryID']}')").status_code == 404
    assert exact.store("cashflow/Receivables") == []
    assert exact.store("financialtransaction/TransactionLines") == []


def test_orderby_one_field_ascending_or_descending(exact: ExactClient) -> None:
    codes = [row["Code"] for row in exact.rows("vat/VATCodes", **{"$orderby": "Code desc"})]
    assert codes == sorted(codes, reverse=True) and len(codes) > 1
    ascending = exact.rows("vat/VATCodes", **{"$orderby": "Code asc", "$select": "Code"})
    assert [row["Code"] for row in ascending] == sorted(codes)
    assert exact.get("vat/VATCodes", **{"$orderby": "Nope"}).status_code == 400
    assert exact.get("vat/VATCodes", **{"$orderby": "Code,Description"}).status_code == 400


def test_orderby_pages_continue_after_the_sort_value(exact: ExactClient) -> None:
    for name in ("Zeta", "Alpha", "Mid"):
        exact.created("crm/Accounts", {"Name": name, "Status": "S"})
    query = {"$filter": "Status eq 'S'", "$orderby": "Name desc", "$select": "ID,Name"}
    names = [row["Name"] for row in exact.rows("crm/Accounts", **query)]
    assert names == ["Zeta", "Mid", "Alpha"]
    first = exact.rows("crm/Accounts", **query)[0]
    after = exact.rows("crm/Accounts", **query, **{"$skiptoken": f"'Zeta',guid'{first['ID']}'"})
    assert [row["Name"] for row in after] == ["Mid", "Alpha"]


def test_token_endpoint_takes_client_credentials_by_http_basic(exact: ExactClient) -> None:
    def basic(secret: str) -> dict[str, str]:
        pair = base64.b64encode(f"{CLIENT_ID}:{secret}".encode()).decode()
        return {"Authorization": f"Basic {pair}"}

    def token(headers: dict[str, str], **form: str) -> tuple[int, dict]:
        data = {"grant_type": "refresh_token", "refresh_token": exact.tokens["refresh_token"]}
        reply = exact.http.post("/api/oauth2/token", data=data | form, headers=headers)
        return reply.status_code, reply.json()

    assert token(basic("wrong"))[0] == 401
    both = token(basic(CLIENT_SECRET), client_secret=CLIENT_SECRET)
    assert both == (400, both[1]) and both[1]["error"] == "invalid_request"
    exact.advance(571)  # past the refresh guard
    status, body = token(basic(CLIENT_SECRET))
    assert status == 200 and body["refresh_token"] != exact.tokens["refresh_token"]
