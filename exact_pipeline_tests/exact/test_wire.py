"""The OData wire format and entity models, without a server."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from exact_pipeline.exact import endpoints, odata
from exact_pipeline.exact.models import SalesEntry, VATCode


def test_exact_dates_are_naive_local_wall_clock_times() -> None:
    # Exact's epoch values are CET/CEST wall-clock times written as if UTC.
    assert odata.parse_date("/Date(1351209600000)/") == datetime(2012, 10, 26, 0, 0)
    assert odata.parse_date("/Date(1782900000000)/") == datetime(2026, 7, 1, 10, 0)
    assert odata.parse_date("not a date") == "not a date"


def test_amounts_stay_decimal_both_ways() -> None:
    body = odata.decode(b'{"d": {"AmountFC": 5900.01, "Quantity": 0.1}}')
    assert body["d"]["AmountFC"] == Decimal("5900.01")
    payload = {"AmountFC": Decimal("5900.01"), "Lines": [{"VATAmountFC": Decimal("-0.10")}]}
    encoded = odata.encode(payload)
    assert b'"AmountFC":5900.01' in encoded
    assert b'"VATAmountFC":-0.10' in encoded
    assert json.loads(encoded, parse_float=Decimal)["AmountFC"] == Decimal("5900.01")


def test_dates_and_guids_are_written_without_offset() -> None:
    guid = UUID("3734121e-2b3c-4d5e-8f90-123456789abc")
    encoded = json.loads(
        odata.encode({"EntryDate": date(2026, 1, 31), "At": datetime(2026, 1, 31, 9), "G": guid})
    )
    assert encoded == {
        "EntryDate": "2026-01-31T00:00:00",
        "At": "2026-01-31T09:00:00",
        "G": str(guid),
    }


def test_bytes_are_written_as_base64() -> None:
    assert json.loads(odata.encode({"Attachment": b"%PDF-1.4"})) == {"Attachment": "JVBERi0xLjQ="}


def test_filter_literals() -> None:
    assert odata.eq("YourRef", "O'Brien") == "YourRef eq 'O''Brien'"
    assert odata.eq("EntryNumber", 42) == "EntryNumber eq 42"
    assert odata.eq("IsSales", True) == "IsSales eq true"
    guid = UUID("3734121e-2b3c-4d5e-8f90-123456789abc")
    assert odata.literal(guid) == f"guid'{guid}'"
    assert odata.literal(date(2026, 1, 31)) == "datetime'2026-01-31T00:00:00'"


def test_pages_and_error_bodies() -> None:
    page = odata.page_of({"d": {"results": [{"a": 1}], "__next": "https://x/next"}})
    assert page.rows == [{"a": 1}] and page.next_url == "https://x/next"
    assert odata.page_of({"d": {"a": 1}}).rows == [{"a": 1}]
    assert odata.page_of({"d": {"results": []}}).next_url is None
    error = {"error": {"code": "", "message": {"lang": "", "value": "Verplicht: Dagboek"}}}
    assert odata.error_message(error) == "Verplicht: Dagboek"
    assert odata.error_message({"error": "invalid_grant"}) is None


def test_models_trim_codes_parse_dates_and_lines() -> None:
    entry = SalesEntry.model_validate(
        {
            "__metadata": {"uri": "x", "type": "Exact.Web.Api.Models.SalesEntry"},
            "EntryDate": "/Date(1782864000000)/",
            "Journal": "70 ",
            "AmountFC": Decimal("121.00"),
            "SalesEntryLines": {"results": [{"GLAccountCode": "  8000", "AmountFC": 100}]},
        }
    )
    assert entry.EntryDate == datetime(2026, 7, 1)
    assert entry.Journal == "70"
    assert entry.AmountFC == Decimal("121.00")
    assert entry.SalesEntryLines is not None
    assert entry.SalesEntryLines[0].GLAccountCode == "8000"
    deferred = SalesEntry.model_validate({"SalesEntryLines": {"__deferred": {"uri": "x"}}})
    assert deferred.SalesEntryLines is None
    assert VATCode.model_validate({"Code": "2  "}).Code == "2"


def test_select_comes_from_the_model() -> None:
    select = endpoints.SALES_ENTRIES.select().split(",")
    assert "EntryID" in select and "YourRef" in select and "SalesEntryLines" not in select
    expanded = endpoints.SALES_ENTRIES.select(expand=True).split(",")
    assert "SalesEntryLines/AmountFC" in expanded
    assert endpoints.SALES_ENTRIES.lines == "SalesEntryLines"
    assert endpoints.ACCOUNTS.lines is None
