"""The OData wire format: d/results/__next paging, query options, $filter, dates, metadata,
Prefer, Accept, errors and field limits."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

from exact_pipeline_tests.sandbox.helpers import NL, SEEDED_ITEMS, ExactClient, json_date


def _accounts(exact: ExactClient, count: int) -> list[str]:
    exact.configure(minutely_limit=1000)
    return [exact.created("crm/Accounts", {"Name": f"Paging {i:03}"})["ID"] for i in range(count)]


def test_pages_of_60_follow_next_links_with_skiptoken(exact: ExactClient) -> None:
    created = set(_accounts(exact, 70))
    url = f"/api/v1/{NL}/crm/Accounts"
    params = {"$filter": "substringof('Paging', Name) eq true", "$select": "ID,Name"}
    first = exact.http.get(url, params=params, headers=exact.auth).json()["d"]
    assert len(first["results"]) == 60
    next_url = first["__next"]
    assert next_url.startswith(str(exact.http.base_url)) and "$skiptoken=guid'" in next_url
    assert parse_qs(urlsplit(next_url).query)["$select"] == ["ID,Name"]
    second = exact.http.get(next_url, headers=exact.auth).json()["d"]
    assert "__next" not in second and len(second["results"]) == 10
    seen = [r["ID"] for r in first["results"] + second["results"]]
    assert set(seen) == created and len(seen) == len(set(seen))
    assert seen == sorted(seen)  # key order, as Exact pages


def test_top_limits_and_carries_over_pages(exact: ExactClient) -> None:
    _accounts(exact, 65)
    params = {"$filter": "substringof('Paging', Name) eq true", "$top": "62", "$select": "ID"}
    first = exact.get("crm/Accounts", **params).json()["d"]
    assert len(first["results"]) == 60
    assert parse_qs(urlsplit(first["__next"]).query)["$top"] == ["2"]
    second = exact.http.get(first["__next"], headers=exact.auth).json()["d"]
    assert len(second["results"]) == 2 and "__next" not in second
    one = exact.get("crm/Accounts", **params | {"$top": "1"}).json()["d"]
    assert len(one["results"]) == 1 and "__next" not in one


def test_inlinecount_and_count(exact: ExactClient) -> None:
    body = exact.get(
        "logistics/Items",
        **{"$filter": "IsSalesItem eq true", "$inlinecount": "allpages", "$top": "2"},
    ).json()["d"]
    assert body["__count"] == str(SEEDED_ITEMS) and len(body["results"]) == 2
    count = exact.http.get(
        f"/api/v1/{NL}/logistics/Items/$count",
        params={"$filter": "substringof('SUB-', Code) eq true"},
        headers={"Authorization": exact.auth["Authorization"]},
    )
    assert count.status_code == 200 and count.text == "7"


def _codes(exact: ExactClient, filter_: str) -> list[str]:
    # IsSalesItem satisfies the endpoint's mandatory filter; every seeded item is one
    expression = f"IsSalesItem eq true and ({filter_})"
    rows = exact.rows("logistics/Items", **{"$filter": expression, "$select": "Code"})
    return sorted(r["Code"] for r in rows)


def test_filter_operators_functions_and_literals(exact: ExactClient) -> None:
    assert _codes(exact, "Code eq 'SUB-TEAM'") == ["SUB-TEAM"]
    # property names are case-sensitive
    assert exact.get("logistics/Items", **{"$filter": "code eq 'x'"}).status_code == 400
    assert exact.get("logistics/Items", **{"$filter": "IsSalesItem"}).status_code == 200
    assert _codes(exact, "Code eq 'sub-team  '") == ["SUB-TEAM"]  # CI, trailing blanks ignored
    assert _codes(exact, "StandardSalesPrice ge 1200 and StandardSalesPrice lt 2000") == [
        "SRV-TRAINING",
        "SUB-ENTERPRISE",
    ]
    assert _codes(exact, "StandardSalesPrice gt 2000 or Code eq 'HW-BOOK'") == [
        "HW-BOOK",
        "SRV-MIGRATE",
    ]
    assert _codes(
        exact, "(Code eq 'HW-BOOK' or Code eq 'HW-TOKEN') and not (Code ne 'HW-BOOK')"
    ) == ["HW-BOOK"]
    assert _codes(exact, "substringof('gateway', Description) eq true") == ["HW-GATEWAY"]
    assert _codes(exact, "startswith(Code, 'USE-') and StandardSalesPrice le 0.07") == [
        "USE-BANDWIDTH",
        "USE-SMS",
    ]
    assert len(_codes(exact, "IsSalesItem eq true and Code ne 'HW-BOOK'")) == SEEDED_ITEMS - 1
    item = exact.item("SUB-TEAM")
    assert _codes(exact, f"ID eq guid'{item['ID']}'") == ["SUB-TEAM"]
    assert _codes(exact, "Created gt datetime'2000-01-01T00:00:00'") != []
    assert _codes(exact, "Created lt datetime'2000-01-01T00:00:00'") == []
    assert _codes(exact, "length(Code) eq 7L and startswith(Code, 'HW')") == ["HW-BOOK"]


def test_padded_codes_need_trim_or_padding(exact: ExactClient) -> None:
    assert exact.rows("crm/Accounts", **{"$filter": "Code eq '10001'"}) == []
    padded = exact.rows("crm/Accounts", **{"$filter": f"Code eq '{'10001':>18}'"})
    trimmed = exact.rows("crm/Accounts", **{"$filter": "trim(Code) eq '10001'"})
    assert padded == trimmed and len(padded) == 1
    assert padded[0]["Code"] == "10001".rjust(18)
    vat = exact.rows("vat/VATCodes", **{"$filter": "Code eq '1'"})
    assert [v["Code"] for v in vat] == ["1  "]


def test_filter_errors_are_exact_shaped_400s(exact: ExactClient) -> None:
    cases = {
        "Code eq 5": "Operator 'eq' incompatible with operand types "
        "'System.String' and 'System.Int32'",
        "Nope eq 'x'": "No property 'Nope' exists in type 'Exact.Web.Api.Models.Item'",
        "Code": "Expression of type 'System.Boolean' expected at position 0.",
        "Code eq 'x' and": "Expression expected",
        "ID eq 'abc'": "incompatible with operand types 'System.Guid' and 'System.String'",
    }
    for expression, message in cases.items():
        reply = exact.get("logistics/Items", **{"$filter": expression})
        assert reply.status_code == 400, expression
        assert message in reply.json()["error"]["message"]["value"], expression


def test_mandatory_filters_select_and_unknown_options(exact: ExactClient) -> None:
    for path in ("crm/Accounts", "logistics/Items", "bulk/CRM/Accounts"):
        reply = exact.get(path, **{"$select": "ID"})
        assert reply.status_code == 400
        assert reply.json()["error"]["message"]["value"].startswith(
            "This endpoint has mandatory filtering applied. A GET request for this endpoint "
            "must have a $filter parameter with one of the following fields in the url:"
        )
    # filtering on a field that is not in the list does not satisfy the rule
    assert exact.get("crm/Accounts", **{"$filter": "City eq 'x'"}).status_code == 400
    bulk = exact.get("bulk/Logistics/Items", **{"$filter": "IsSalesItem eq true"})
    assert bulk.status_code == 400
    assert "Please add a $select or a $top=1 statement" in bulk.json()["error"]["message"]["value"]
    top1 = exact.get("bulk/Logistics/Items", **{"$filter": "IsSalesItem eq true", "$top": "1"})
    assert top1.status_code == 200
    assert exact.get("vat/VATCodes", **{"$skip": "1"}).status_code == 400
    assert exact.get("vat/VATCodes", **{"$bogus": "1"}).status_code == 400
    assert exact.get("vat/VATCodes", **{"$select": "Nope"}).status_code == 400


def test_bulk_pages_hold_1000(exact: ExactClient) -> None:
    exact.configure(minutely_limit=2000, daily_limit=5000)
    for i in range(3):
        exact.created("crm/Accounts", {"Name": f"Bulk {i}"})
    rows = exact.rows("bulk/CRM/Accounts", **{"$filter": "Blocked eq false", "$select": "ID,Name"})
    assert len(rows) == 6  # 3 seeded NL accounts + 3 new; all on one page
    assert set(rows[0]) == {"__metadata", "ID", "Name"}
    assert rows[0]["__metadata"]["type"] == "Exact.Web.Api.Models.Bulk.Account"


def test_select_expand_metadata_and_key_lookup(exact: ExactClient) -> None:
    entry = exact.sales_entry("10001", [("8000", Decimal("100.00")), ("8010", Decimal("50.00"))])
    key = f"salesentry/SalesEntries(guid'{entry['EntryID']}')"
    one = exact.get(key).json()["d"]
    assert one["__metadata"] == {
        "uri": f"{exact.http.base_url}/api/v1/{NL}/{key}",
        "type": "Exact.Web.Api.Models.SalesEntry",
    }
    assert one["SalesEntryLines"] == {
        "__deferred": {"uri": one["__metadata"]["uri"] + "/SalesEntryLines"}
    }
    expanded = exact.get(
        key, **{"$expand": "SalesEntryLines", "$select": "EntryNumber,SalesEntryLines/AmountFC"}
    ).json()["d"]
    assert set(expanded) == {"__metadata", "EntryNumber", "SalesEntryLines"}
    assert [set(line) for line in expanded["SalesEntryLines"]["results"]] == [
        {"__metadata", "AmountFC"}
    ] * 2
    nav = exact.rows(f"{key}/SalesEntryLines")
    assert [line["AmountFC"] for line in nav] == [100.0, 50.0]
    missing = exact.get("salesentry/SalesEntries(guid'00000000-0000-0000-0000-000000000001')")
    assert missing.status_code == 404
    assert exact.get("salesentry/SalesEntries(12)").status_code == 400
    unknown = exact.get("nothing/Here")
    assert unknown.status_code == 404
    assert "Resource not found for the segment" in unknown.json()["error"]["message"]["value"]


def test_dates_are_exact_local_epoch_ms_and_iso_input_is_accepted(exact: ExactClient) -> None:
    naive = exact.sales_entry("10001", [("8000", Decimal(10))], EntryDate="2026-11-20T00:00:00")
    assert naive["EntryDate"] == json_date(datetime(2026, 11, 20))
    # 23:00 UTC on the 19th is midnight of the 20th in Amsterdam: the same local date
    zulu = exact.sales_entry("10001", [("8000", Decimal(10))], EntryDate="2026-11-19T23:00:00Z")
    assert zulu["EntryDate"] == naive["EntryDate"]
    ms = exact.sales_entry("10001", [("8000", Decimal(10))], EntryDate=naive["EntryDate"])
    assert ms["EntryDate"] == naive["EntryDate"]
    bad = exact.post("salesentry/SalesEntries", {"EntryDate": "yesterday"})
    assert bad.status_code == 400
    assert "'System.DateTime'" in bad.json()["error"]["message"]["value"]


def test_prefer_return_representation(exact: ExactClient) -> None:
    body = {"Name": "Prefer BV", "Email": "a@b.example"}
    minimal = exact.post("crm/Accounts", body, representation=False)
    assert minimal.status_code == 201
    d = minimal.json()["d"]
    assert d["ID"] and d["Name"] is None and d["Code"] is None
    assert minimal.headers["location"] == d["__metadata"]["uri"]
    full = exact.post("crm/Accounts", body | {"Name": "Prefer 2 BV"}).json()["d"]
    assert full["Name"] == "Prefer 2 BV" and full["Code"].strip().isdigit()


def test_without_accept_json_the_answer_is_atom_xml(exact: ExactClient) -> None:
    auth = {"Authorization": exact.auth["Authorization"]}
    atom = exact.http.get(f"/api/v1/{NL}/vat/VATCodes", headers=auth)
    assert atom.status_code == 200
    assert atom.headers["content-type"].startswith("application/atom+xml")
    assert "<m:properties>" in atom.text and '<d:Percentage m:type="Edm.Double">0.21' in atom.text
    as_json = exact.http.get(f"/api/v1/{NL}/vat/VATCodes", params={"$format": "json"}, headers=auth)
    assert as_json.json()["d"]["results"]
    error = exact.http.get(f"/api/v1/{NL}/nothing/Here", headers=auth)
    assert error.status_code == 404 and error.headers["content-type"].startswith("application/xml")


def test_put_and_delete_answer_204(exact: ExactClient) -> None:
    account = exact.created("crm/Accounts", {"Name": "Editable BV"})
    key = f"crm/Accounts(guid'{account['ID']}')"
    reply = exact.put(key, {"City": "Utrecht"})
    assert reply.status_code == 204 and reply.content == b""
    assert exact.get(key).json()["d"]["City"] == "Utrecht"
    assert exact.delete(key).status_code == 204
    assert exact.get(key).status_code == 404


def test_request_stream_errors_are_400(exact: ExactClient) -> None:
    unknown = exact.post("crm/Accounts", {"Name": "X", "Colour": "red"})
    assert unknown.status_code == 400
    assert "The property name 'Colour'" in unknown.json()["error"]["message"]["value"]
    bad_guid = exact.post("salesentry/SalesEntries", {"Customer": "not-a-guid"})
    assert bad_guid.status_code == 400
    message = bad_guid.json()["error"]["message"]["value"]
    assert message.startswith("Error processing request stream.") and "'System.Guid'" in message
    not_json = exact.http.post(
        f"/api/v1/{NL}/crm/Accounts",
        content=b"{",
        headers=exact.auth | {"Content-Type": "application/json"},
    )
    assert not_json.status_code == 400
    # GET-only fields are accepted and ignored (picqer sends IsSales='true')
    accepted = exact.post("crm/Accounts", {"Name": "Picqer BV", "IsSales": "true"})
    assert accepted.status_code == 201


def test_field_length_limits_are_configurable(exact: ExactClient) -> None:
    too_long = exact.post("crm/Accounts", {"Name": "N" * 51})
    assert too_long.status_code == 500
    assert too_long.json()["error"]["message"]["value"] == (
        "Naam: De waarde is te lang (maximaal 50 tekens)"
    )
    config = exact.configure(field_limits={"Accounts.Name": 60, "SalesEntries.YourRef": 5})
    assert config["field_limits"]["Accounts.Name"] == 60
    assert config["field_limits"]["SalesEntryLines.Description"] == 60
    assert exact.post("crm/Accounts", {"Name": "N" * 51}).status_code == 201
    entry = exact.post(
        "salesentry/SalesEntries",
        {
            "Customer": exact.account("10001")["ID"],
            "Journal": "70",
            "YourRef": "INV-2026-0001",
            "SalesEntryLines": [{"GLAccount": exact.gl("8000")["ID"], "AmountFC": 1}],
        },
    )
    assert entry.status_code == 500
    assert "maximaal 5 tekens" in entry.json()["error"]["message"]["value"]
    unknown = exact.http.post("/_sandbox/config", json={"field_limits": {"Nope.Name": 3}})
    assert unknown.status_code == 400


def test_headers_of_a_json_answer(exact: ExactClient) -> None:
    reply = exact.get("vat/VATCodes")
    assert reply.headers["content-type"] == "application/json; charset=utf-8"
    assert reply.json()["d"]["results"][0]["Percentage"] == 0.21
