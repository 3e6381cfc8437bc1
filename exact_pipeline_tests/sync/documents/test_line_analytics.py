"""Service periods (billing's `invoice_lines.period_start`/`period_end`) and cost centres/units
(products.csv's `cost_center`/`cost_unit`) arrive on Exact's lines in both push modes; tables
and billing databases without them keep working; a code Exact lacks or has ended is a mapping
error and blocks its documents before any write."""

from __future__ import annotations

from datetime import date, timedelta
from uuid import UUID

import pytest

from exact_pipeline.exact import ExactClient, ExactConfig, endpoints
from exact_pipeline.mapping import load_mappings
from exact_pipeline.state.exact import open_exact
from exact_pipeline.sync.documents import ledger
from exact_pipeline_tests.exact.conftest import FAST_RETRY, NL, TOKEN_KEY, SandboxAdmin
from exact_pipeline_tests.mapping.variants import without_analytic_columns
from exact_pipeline_tests.sync.builder import DAY, Billing, day_window
from exact_pipeline_tests.sync.conftest import EngineFactory, MappingFolder

# prod_business carries SAAS/CLOUD in the demo's products.csv, prod_seat nothing.
BUSINESS = ("prod_business", "1", 29900, "tax_nl_21")
SEAT = ("prod_seat", "2", 1200, "tax_nl_21")
NOVEMBER = (date(2026, 11, 1), date(2026, 11, 30))
LINES = {
    "sales_entry": ("salesentry/SalesEntries", "salesentry/SalesEntryLines", "EntryID"),
    "sales_invoice": ("salesinvoice/SalesInvoices", "salesinvoice/SalesInvoiceLines", "InvoiceID"),
}
PERIOD_FIELDS = {"sales_entry": ("From", "To"), "sales_invoice": ("StartTime", "EndTime")}


def posts(admin: SandboxAdmin) -> int:
    return sum(n for k, n in admin.requests()["by_endpoint"].items() if k.startswith("POST"))


def set_period(billing: Billing, line_id: str, start: date, end: date) -> None:
    billing.execute(
        "UPDATE invoice_lines SET period_start = %s, period_end = %s WHERE id = %s",
        start,
        end,
        line_id,
    )


def stored_lines(admin: SandboxAdmin, mode: str, number: str) -> list[dict]:
    headers, lines, key = LINES[mode]
    (header,) = [r for r in admin.store(NL, headers) if r["YourRef"] == number]
    found = [r for r in admin.store(NL, lines) if r[key] == header[key]]
    return sorted(found, key=lambda r: r["LineNumber"])


@pytest.mark.parametrize("mode", LINES)
def test_service_periods_and_cost_centres_arrive_on_the_lines(
    mode: str,
    billing: Billing,
    mapping_folder: MappingFolder,
    make_engine: EngineFactory,
    admin: SandboxAdmin,
) -> None:
    mapping_folder.setting("invoice_push_mode", mode)
    customer = billing.customer("cus_known_01", "Bakkerij De Gouden Korenaar B.V.")
    invoice = billing.document("INV-8101", customer, [BUSINESS, SEAT])
    set_period(billing, invoice.lines[0].id, *NOVEMBER)
    engine = make_engine()

    preview = engine.stage(day_window()).lines["INV-8101"]
    assert (preview[0]["period"], preview[0]["cost_center"], preview[0]["cost_unit"]) == (
        "2026-11-01 – 2026-11-30",
        "SAAS",
        "CLOUD",
    )
    assert not {"period", "cost_center", "cost_unit"} & set(preview[1])

    report = engine.push_documents(day_window())
    assert report.counts["pushed"] == 1, report.rows
    business, seat = stored_lines(admin, mode, "INV-8101")
    start, end = PERIOD_FIELDS[mode]
    assert (business[start], business[end]) == ("2026-11-01T00:00:00", "2026-11-30T00:00:00")
    assert (business["CostCenter"], business["CostUnit"]) == ("SAAS", "CLOUD")
    assert business["CostCenterDescription"] == "Software subscriptions"
    assert all(seat.get(field) is None for field in (start, end, "CostCenter", "CostUnit"))


def test_a_products_csv_without_the_new_columns_keeps_working(
    billing: Billing,
    mapping_folder: MappingFolder,
    make_engine: EngineFactory,
    admin: SandboxAdmin,
) -> None:
    with_empty_columns = mapping_folder.replace(
        "products.csv", "prod_business,SUB-BUSINESS,,SAAS,CLOUD", "prod_business,SUB-BUSINESS,,,"
    ).replace(
        "products.csv",
        "prod_consulting,SRV-CONSULT,8020,SERVICES,",
        "prod_consulting,SRV-CONSULT,8020,,",
    )
    fingerprint = with_empty_columns.load().fingerprint()
    products = mapping_folder.folder / "products.csv"
    products.write_text(without_analytic_columns(products.read_text()))
    header = products.read_text().splitlines()[0]
    assert header == "product_id,item_code,gl_account"
    # Columns that are absent and columns left empty mean the same: the data version holds.
    assert load_mappings(mapping_folder.folder).fingerprint() == fingerprint

    customer = billing.customer("cus_known_01", "Bakkerij De Gouden Korenaar B.V.")
    billing.document("INV-8201", customer, [BUSINESS])
    admin.clear_requests()
    report = make_engine().push_documents(day_window())

    assert report.counts["pushed"] == 1, report.rows
    (line,) = stored_lines(admin, "sales_invoice", "INV-8201")
    assert line.get("CostCenter") is None and line.get("CostUnit") is None
    # A division whose products name no cost centre never reads them.
    reads = admin.requests()["by_endpoint"]
    assert not {"GET hrm/Costcenters", "GET hrm/Costunits"} & set(reads)


def test_a_billing_database_without_the_period_columns_keeps_working(
    billing: Billing, make_engine: EngineFactory, admin: SandboxAdmin
) -> None:
    customer = billing.customer("cus_known_01", "Bakkerij De Gouden Korenaar B.V.")
    billing.document("INV-8301", customer, [SEAT])
    next_day = day_window(DAY + timedelta(days=1))
    billing.document("INV-8302", customer, [SEAT], issued=next_day.start + timedelta(hours=9))
    first = make_engine().push_documents(day_window())
    assert first.counts["pushed"] == 1

    # The billing schema of before the columns existed.
    billing.execute("ALTER TABLE invoice_lines DROP COLUMN period_start, DROP COLUMN period_end")
    engine = make_engine()
    admin.clear_requests()
    again = engine.push_documents(day_window())
    later = engine.push_documents(next_day)

    # The document posted with the columns present is unchanged without them (same hash).
    assert again.counts["already_synced"] == 1 and posts(admin) == 4
    assert later.counts["pushed"] == 1, later.rows
    assert [r.state for r in engine.ledger_rows(next_day)] == [ledger.SYNCED]
    (line,) = stored_lines(admin, "sales_invoice", "INV-8302")
    assert line.get("StartTime") is None and line.get("EndTime") is None


def test_an_unknown_or_ended_cost_centre_is_a_mapping_error_and_blocks(
    billing: Billing,
    mapping_folder: MappingFolder,
    make_engine: EngineFactory,
    admin: SandboxAdmin,
) -> None:
    mapping_folder.replace(
        "products.csv",
        "prod_business,SUB-BUSINESS,,SAAS,CLOUD",
        "prod_business,SUB-BUSINESS,,NOPE,",
    ).replace(
        "products.csv",
        "prod_consulting,SRV-CONSULT,8020,SERVICES,",
        "prod_consulting,SRV-CONSULT,8020,HOSTING,GONE",
    )
    engine = make_engine()

    problems = "\n".join(engine.validate_mappings().problems)
    for division in (310001, 320001):
        assert (
            "products.csv, row of product prod_business, column cost_center: cost centre NOPE "
            f"does not exist in Exact division {division}; fix: correct the code, use an active "
            "cost centre of that division, or leave the column empty"
        ) in problems
        assert (
            "products.csv, row of product prod_consulting, column cost_center: cost centre "
            f"HOSTING ended on 2025-12-31 in Exact division {division}"
        ) in problems
        assert (
            "products.csv, row of product prod_consulting, column cost_unit: cost unit GONE "
            f"does not exist in Exact division {division}"
        ) in problems

    customer = billing.customer("cus_known_01", "Bakkerij De Gouden Korenaar B.V.")
    billing.document("INV-8401", customer, [BUSINESS])
    admin.clear_requests()
    report = engine.push_documents(day_window())

    assert report.counts["blocked"] == 1 and posts(admin) == 0
    (row,) = engine.blocked(day_window())
    assert row.block_kind == ledger.MASTER_DATA
    assert (
        "cost centre NOPE does not exist in Exact division 310001: create it in Exact, or "
        "correct the code (products.csv, product prod_business, column cost_center)"
    ) in (row.last_error or "")


def test_a_cost_centre_deleted_in_exact_after_it_was_cached_blocks_on_the_refusal(
    billing: Billing,
    make_engine: EngineFactory,
    admin: SandboxAdmin,
    exact: ExactClient,
    config: ExactConfig,
    state_url: str,
) -> None:
    customer = billing.customer("cus_known_01", "Bakkerij De Gouden Korenaar B.V.")
    billing.document("INV-8501", customer, [BUSINESS])
    next_day = day_window(DAY + timedelta(days=1))
    consulting = ("prod_consulting", "2", 13500, "tax_nl_21")  # cost centre SERVICES
    billing.document("INV-8502", customer, [consulting], issued=next_day.start + timedelta(hours=9))
    # The cost centres are read (and kept) for INV-8501: SERVICES among them.
    assert make_engine().push_documents(day_window()).counts["pushed"] == 1
    (services,) = [r for r in admin.store(NL, "hrm/Costcenters") if r["Code"] == "SERVICES"]
    exact.delete(NL, endpoints.COST_CENTERS, UUID(services["ID"]))  # a bookkeeper removes it

    # The next run trusts its cache, is refused by Exact, reads the cost centres again and
    # blocks the document with the fix instead of retrying it every hour.
    with open_exact(config, state_url, TOKEN_KEY, retry=FAST_RETRY) as next_run:
        engine = make_engine(exact=next_run)
        report = engine.push_documents(next_day)
        assert report.counts["blocked"] == 1, report.rows
        (row,) = engine.blocked(next_day)
    assert "cost centre SERVICES does not exist in Exact division 310001" in (row.last_error or "")
    assert admin.count("GET hrm/Costcenters") == 2  # first use, then once on the refusal
