"""`totals_match_exact` reads nothing already seen: Exact's answer to the POST verifies each
document, a later run of the day reads nothing back, and the read after the document's day
catches what a bookkeeper changed in Exact (and fills the invoice numbers still unknown)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from exact_pipeline.exact import ExactClient
from exact_pipeline.exact.endpoints import SALES_ENTRIES, SALES_INVOICES
from exact_pipeline_tests.exact.conftest import NL, SandboxAdmin
from exact_pipeline_tests.sync.builder import AMSTERDAM, DAY, Billing, day_window
from exact_pipeline_tests.sync.conftest import EngineFactory, MappingFolder

TEAM = ("prod_team", "1", 9900, "tax_nl_21")
SEATS = ("prod_seat", "3", 1200, "tax_nl_21")
ENDPOINTS = {"sales_entry": SALES_ENTRIES, "sales_invoice": SALES_INVOICES}
ON_THE_DAY = datetime.combine(DAY, datetime.min.time(), AMSTERDAM) + timedelta(hours=15)
NEXT_DAY = ON_THE_DAY + timedelta(hours=12)


def reads(admin: SandboxAdmin, mode: str) -> int:
    return admin.requests()["by_endpoint"].get(f"GET {ENDPOINTS[mode].path}", 0)


@pytest.mark.parametrize("mode", ENDPOINTS)
def test_runs_of_the_day_read_nothing_back_and_the_read_after_it_catches_a_hand_deletion(
    mode: str,
    billing: Billing,
    mapping_folder: MappingFolder,
    make_engine: EngineFactory,
    admin: SandboxAdmin,
    exact: ExactClient,
) -> None:
    mapping_folder.setting("invoice_push_mode", mode)
    customer = billing.customer("cus_known_01", "Bakkerij De Gouden Korenaar B.V.")
    billing.document("INV-1", customer, [TEAM])
    billing.document("INV-2", customer, [SEATS])
    billing.document("INV-3", customer, [TEAM, SEATS])
    admin.clear_requests()
    engine = make_engine(now=lambda: ON_THE_DAY)
    assert engine.push_documents(day_window()).counts["pushed"] == 3

    assert engine.totals_differences(day_window()) == []
    assert make_engine(now=lambda: ON_THE_DAY).totals_differences(day_window()) == []
    assert reads(admin, mode) == 0  # verified from Exact's answers to the POSTs

    row = next(r for r in engine.ledger_rows(day_window()) if r.number == "INV-2")
    assert row.entry_id is not None
    if mode == "sales_entry":
        exact.delete(NL, SALES_ENTRIES, row.entry_id)  # a bookkeeper removes it by hand
    else:  # a booked invoice cannot be deleted: its amounts are what a bookkeeper can't fake
        admin.clear_requests()
        assert make_engine(now=lambda: NEXT_DAY).totals_differences(day_window()) == []
        assert reads(admin, mode) == 1  # all three, in one GET, once the day is over
        return
    admin.clear_requests()
    assert make_engine(now=lambda: ON_THE_DAY).totals_differences(day_window()) == []
    assert reads(admin, mode) == 0  # still the day of posting: trusted

    after = make_engine(now=lambda: NEXT_DAY)
    (difference,) = after.totals_differences(day_window())
    assert difference["number"] == "INV-2" and difference["exact_total"] == ""
    assert "no longer holds it" in difference["explanation"]
    assert reads(admin, mode) == 1  # the three documents, in one GET
    admin.clear_requests()
    assert len(after.totals_differences(day_window())) == 1  # remembered: still red
    assert reads(admin, mode) == 0


def test_invoice_numbers_wait_for_a_full_read_or_the_read_after_the_day(
    billing: Billing,
    mapping_folder: MappingFolder,
    make_engine: EngineFactory,
    admin: SandboxAdmin,
) -> None:
    mapping_folder.setting("invoice_push_mode", "sales_invoice")
    customer = billing.customer("cus_known_01", "Bakkerij De Gouden Korenaar B.V.")
    billing.document("INV-1", customer, [TEAM])
    billing.document("INV-2", customer, [SEATS])
    admin.clear_requests()
    engine = make_engine(now=lambda: ON_THE_DAY)
    engine.push_documents(day_window())
    engine.totals_differences(day_window())
    assert reads(admin, "sales_invoice") == 0
    assert [r.entry_number for r in engine.ledger_rows(day_window())] == [None, None]

    make_engine(now=lambda: NEXT_DAY).totals_differences(day_window())

    numbers = {i["YourRef"]: i["InvoiceNumber"] for i in admin.store(NL, SALES_INVOICES.path)}
    rows = engine.ledger_rows(day_window())
    assert {r.number: r.entry_number for r in rows} == numbers
    assert all(numbers.values()) and reads(admin, "sales_invoice") == 1
