"""A line's service period and cost centre/unit: stored and served as sent, named by code, and
an unknown code refused as Exact refuses any other reference ("Invalid reference: Cost unit",
picqer/exact-php-client#325)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from exact_pipeline.demo import catalog
from exact_pipeline_tests.sandbox.helpers import NL, ExactClient, json_date


def test_seeded_cost_centres_and_units_come_from_the_catalogue(exact: ExactClient) -> None:
    centres = {r["Code"]: r for r in exact.rows("hrm/Costcenters")}
    assert set(centres) == {a.code for a in catalog.COST_CENTERS}
    ended = next(a for a in catalog.COST_CENTERS if a.end_date)
    assert centres[ended.code]["EndDate"] == json_date(datetime(2025, 12, 31))
    units = {r["Code"] for r in exact.rows("hrm/Costunits")}
    assert units == {a.code for a in catalog.COST_UNITS}


def test_sales_entry_lines_keep_period_and_analytics(exact: ExactClient) -> None:
    entry = exact.sales_entry(
        "10001",
        [("8000", Decimal(10))],
        SalesEntryLines=[
            {
                "GLAccount": exact.gl("8000")["ID"],
                "AmountFC": 10,
                "VATCode": "1",
                "CostCenter": "SAAS",
                "CostUnit": "CLOUD",
                "From": "2026-11-01T00:00:00",
                "To": "2026-11-30T00:00:00",
            }
        ],
    )
    (line,) = exact.rows(
        "salesentry/SalesEntryLines", **{"$filter": f"EntryID eq guid'{entry['EntryID']}'"}
    )
    assert (line["CostCenter"], line["CostUnit"]) == ("SAAS", "CLOUD")
    assert line["CostCenterDescription"] == "Software subscriptions"
    assert line["CostUnitDescription"] == "Cloud platform"
    assert (line["From"], line["To"]) == (
        json_date(datetime(2026, 11, 1)),
        json_date(datetime(2026, 11, 30)),
    )


def test_sales_invoice_lines_keep_period_and_analytics(exact: ExactClient) -> None:
    invoice = exact.created(
        "salesinvoice/SalesInvoices",
        {
            "OrderedBy": exact.account("10001")["ID"],
            "Journal": "70",
            "SalesInvoiceLines": [
                {
                    "Item": exact.item("SUB-TEAM")["ID"],
                    "CostCenter": "SAAS",
                    "StartTime": "2026-11-01T00:00:00",
                    "EndTime": "2026-11-30T00:00:00",
                }
            ],
        },
    )
    (line,) = [
        r
        for r in exact.store("salesinvoice/SalesInvoiceLines")
        if r["InvoiceID"] == invoice["InvoiceID"]
    ]
    assert (line["CostCenter"], line.get("CostUnit")) == ("SAAS", None)
    assert (line["StartTime"], line["EndTime"]) == ("2026-11-01T00:00:00", "2026-11-30T00:00:00")


def test_an_unknown_cost_centre_or_unit_is_refused(exact: ExactClient) -> None:
    account, item, revenue = (
        exact.account("10001")["ID"],
        exact.item("SUB-TEAM")["ID"],
        exact.gl("8000")["ID"],
    )
    line = {"GLAccount": revenue, "AmountFC": 10, "VATCode": "1"}
    for code, target in (
        ({"CostCenter": "NOPE"}, "Costcenters"),
        ({"CostUnit": "NOPE"}, "Costunits"),
    ):
        entry = exact.post(
            "salesentry/SalesEntries",
            {"Customer": account, "Journal": "70", "SalesEntryLines": [line | code]},
        )
        assert entry.status_code == 500, entry.text
        assert entry.json()["error"]["message"]["value"] == f"Ongeldige referentie: {target}"
        invoice = exact.post(
            "salesinvoice/SalesInvoices",
            {"OrderedBy": account, "SalesInvoiceLines": [{"Item": item} | code]},
        )
        assert invoice.status_code == 500, invoice.text
        assert invoice.json()["error"]["message"]["value"] == f"Ongeldige referentie: {target}"
    assert exact.store("salesentry/SalesEntries", NL) == []
