"""Data the pipeline does not expect: long customer names that share their start, currencies
without two decimals (or that the division cannot book), an invoicing entity whose timezone
is not a timezone. Real Postgres, the sandbox over HTTP."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from exact_pipeline.exact import ExactClient, LookupKey
from exact_pipeline.exact.currency import to_minor
from exact_pipeline.exact.endpoints import ACCOUNTS, JOURNALS
from exact_pipeline.sync.core.money import amount_text, to_major
from exact_pipeline.sync.documents import ledger
from exact_pipeline.sync.documents.customers import account_payload, creation_remarks
from exact_pipeline.sync.payments.engine import PaymentSync
from exact_pipeline_tests.exact.conftest import NL, SandboxAdmin
from exact_pipeline_tests.sync.builder import Billing, day_window
from exact_pipeline_tests.sync.conftest import EngineFactory, MappingFolder

LINE = [("prod_team", "1", 9900, "tax_nl_21")]
# 50 characters in common (Exact's account Name limit), then the names differ.
SHARED = "Stichting Vrienden van het Koninklijk Concertgebouw"
assert len(SHARED) == 51 and SHARED[:50] == SHARED[:50].rstrip()
NORTH, SOUTH = f"{SHARED} Noord-Holland", f"{SHARED} Zuid-Holland"
ENTRIES = {
    "sales_entry": ("salesentry/SalesEntries", "salesentry/SalesEntryLines", "EntryID"),
    "sales_invoice": ("salesinvoice/SalesInvoices", "salesinvoice/SalesInvoiceLines", "InvoiceID"),
}


def accounts_named(admin: SandboxAdmin, start: str) -> list[dict[str, Any]]:
    return [a for a in admin.store(NL, "crm/Accounts") if a["Name"].startswith(start[:40])]


def entry_of(admin: SandboxAdmin, mode: str, number: str) -> dict[str, Any]:
    headers, _, _ = ENTRIES[mode]
    return next(r for r in admin.store(NL, headers) if r["YourRef"] == number)


def lines_of(admin: SandboxAdmin, mode: str, entry: dict[str, Any]) -> list[dict[str, Any]]:
    _, lines, key = ENTRIES[mode]
    return [line for line in admin.store(NL, lines) if line[key] == entry[key]]


# --- 5. long customer names ------------------------------------------------------------


def test_customers_sharing_their_first_50_characters_get_two_accounts(
    billing: Billing, make_engine: EngineFactory, admin: SandboxAdmin
) -> None:
    north = billing.customer("cus_north", NORTH)
    south = billing.customer("cus_south", SOUTH)
    billing.document("INV-N", north, LINE)
    billing.document("INV-S", south, LINE)

    report = make_engine().sync_customers(day_window())

    assert report.counts["created"] == 2 and report.counts["matched_name"] == 0
    created = accounts_named(admin, SHARED)
    assert len(created) == 2 and len({a["ID"] for a in created}) == 2
    # both carry the same cut name: only the ledger (and the Remarks) tell them apart
    assert {a["Name"] for a in created} == {f"{SHARED[:49]}…"}
    # each invoice on its own customer's account; the second run creates nothing
    admin.clear_requests()
    pushed = make_engine().push_documents(day_window())
    assert pushed.counts["pushed"] == 2
    assert "POST crm/Accounts" not in admin.requests()["by_endpoint"]
    code_of = {a["ID"]: a["Code"].strip() for a in created}
    account_of = {row["customer_id"]: row["account_code"] for row in report.rows}
    assert {
        number: code_of[entry_of(admin, "sales_invoice", number)["OrderedBy"]]
        for number in ("INV-N", "INV-S")
    } == {"INV-N": account_of["cus_north"], "INV-S": account_of["cus_south"]}


def test_a_lost_create_answer_never_finds_the_other_customers_account(
    billing: Billing, make_engine: EngineFactory, admin: SandboxAdmin, exact: ExactClient
) -> None:
    """Accounts with the shared cut name exist: North's and three other customers', created by
    the pipeline on earlier runs (their ledger since lost). South's create commits but its
    answer is lost: the look-up by that name (no e-mail) sees five accounts and must take the
    one created for South, without posting it again (which of them Exact lists first is
    chance: GUID order)."""
    north = billing.customer("cus_north", NORTH)
    earlier = [account_payload(north).body()] + [
        {"Name": account_payload(north).Name, "Remarks": creation_remarks(f"cus_other_{n}")}
        for n in range(3)
    ]
    for body in earlier:
        lookup = LookupKey.field("Remarks", body["Remarks"])
        exact.create(NL, ACCOUNTS, body, idempotency=lookup)
    south = billing.customer("cus_south", SOUTH)
    billing.document("INV-N", north, LINE)
    billing.document("INV-S", south, LINE)
    admin.faults({"kind": "lost_response", "path": "crm/Accounts", "method": "POST", "times": 1})
    admin.clear_requests()

    report = make_engine().sync_customers(day_window())

    assert admin.fault_rules()[0]["fired"] == 1
    outcome = {row["customer_id"]: row for row in report.rows}
    assert outcome["cus_north"]["outcome"] == "matched_name"  # its own, by its Remarks
    assert outcome["cus_south"]["outcome"] == "created"
    assert admin.requests()["by_endpoint"]["POST crm/Accounts"] == 1  # not posted twice
    created = {a["Code"].strip(): a for a in accounts_named(admin, SHARED)}
    assert len(created) == 5
    assert "cus_north" in created[outcome["cus_north"]["account_code"]]["Remarks"]
    assert "cus_south" in created[outcome["cus_south"]["account_code"]]["Remarks"]


def test_a_cut_name_matches_an_account_no_other_customer_owns(
    billing: Billing, make_engine: EngineFactory, admin: SandboxAdmin, exact: ExactClient
) -> None:
    """An account a person created with the cut name is matched (once): the second customer
    sharing the cut name gets its own account instead of merging into the first one's."""
    exact.create(
        NL,
        ACCOUNTS,
        {"Code": "40001", "Name": NORTH[:50]},
        idempotency=LookupKey.account_code("40001"),
    )
    north = billing.customer("cus_north", NORTH)
    south = billing.customer("cus_south", SOUTH)
    billing.document("INV-N", north, LINE)
    billing.document("INV-S", south, LINE)

    report = make_engine().sync_customers(day_window())

    outcome = {row["customer_id"]: row for row in report.rows}
    assert (outcome["cus_north"]["outcome"], outcome["cus_north"]["account_code"]) == (
        "matched_name",
        "40001",
    )
    assert outcome["cus_south"]["outcome"] == "created"
    assert outcome["cus_south"]["account_code"] != "40001"


# --- 10. currencies without two decimals ---------------------------------------------------


def test_minor_units_follow_iso_4217() -> None:
    assert to_major(123456, "EUR") == Decimal("1234.56") and str(to_major(100, "EUR")) == "1.00"
    assert str(to_major(1000, "JPY")) == "1000" and str(to_major(12345, "KWD")) == "12.345"
    assert to_minor(Decimal("12.345"), "KWD") == 12345 and to_minor(Decimal(1000), "JPY") == 1000
    with pytest.raises(ValueError):
        to_minor(Decimal("0.5"), "JPY")
    assert amount_text(-1210, "JPY") == "-1210" and amount_text(-14937, "KWD") == "-14.937"


def variable_currency_journal(exact: ExactClient, mapping_folder: MappingFolder) -> None:
    """A sales journal of NL that allows variable currencies, mapped for ent_nl."""
    receivables = exact.master_data(NL).gl_accounts["1300"].ID
    exact.create(
        NL,
        JOURNALS,
        {
            "Code": "71",
            "Description": "Verkoopboek valuta",
            "Type": 20,
            "Currency": "EUR",
            "AllowVariableCurrency": True,
            "GLAccount": str(receivables),
        },
        idempotency=LookupKey.field("Code", "71"),
    )
    mapping_folder.replace(
        "settings.yaml", 'sales_journal: "70"           #', 'sales_journal: "71"           #'
    )


@pytest.mark.parametrize("mode", ["sales_entry", "sales_invoice"])
def test_jpy_and_kwd_arrive_in_their_own_units(
    mode: str,
    billing: Billing,
    mapping_folder: MappingFolder,
    make_engine: EngineFactory,
    admin: SandboxAdmin,
    exact: ExactClient,
) -> None:
    mapping_folder.setting("invoice_push_mode", mode)
    variable_currency_journal(exact, mapping_folder)
    customer = billing.customer("cus_abroad", "Tokyo Kuwait Trading", email="ap@tkt.example")
    billing.document("INV-JPY", customer, [("prod_team", "1", 1000, "tax_nl_21")], currency="JPY")
    # 12.345 KWD excl. VAT (fils: three decimals), VAT 21 % = 2.59245 → 2.592
    billing.document("INV-KWD", customer, [("prod_team", "1", 12345, "tax_nl_21")], currency="KWD")

    engine = make_engine()
    report = engine.push_documents(day_window())

    assert report.counts["pushed"] == 2, engine.blocked(day_window())
    expected = {
        "INV-JPY": ("JPY", Decimal(1000), Decimal(210), Decimal(1210)),
        "INV-KWD": ("KWD", Decimal("12.345"), Decimal("2.592"), Decimal("14.937")),
    }
    for number, (currency, excl, vat, total) in expected.items():
        entry = entry_of(admin, mode, number)
        (line,) = lines_of(admin, mode, entry)
        assert entry["Currency"] == currency
        assert (Decimal(str(line["AmountFC"])), Decimal(str(line["VATAmountFC"]))) == (excl, vat)
        assert Decimal(str(entry["AmountFC"])) == total
        document = next(
            d for d in admin.store(NL, "documents/Documents") if d["ID"] == entry["Document"]
        )
        assert Decimal(str(document["AmountFC"])) == total
    totals = {row["number"]: row["total"] for row in report.rows}
    assert totals == {"INV-JPY": "1210", "INV-KWD": "14.937"}
    assert engine.totals_differences(day_window()) == []  # reconciled to the unit


def test_jpy_and_kwd_payments_settle_their_documents_to_the_unit(
    billing: Billing,
    mapping_folder: MappingFolder,
    make_engine: EngineFactory,
    make_session: Callable[..., Any],
    admin: SandboxAdmin,
    exact: ExactClient,
) -> None:
    mapping_folder.setting("payment_sync", "billing_to_exact")
    variable_currency_journal(exact, mapping_folder)
    customer = billing.customer("cus_abroad", "Tokyo Kuwait Trading", email="ap@tkt.example")
    jpy = billing.document(
        "INV-JPY", customer, [("prod_team", "1", 1000, "tax_nl_21")], currency="JPY"
    )
    kwd = billing.document(
        "INV-KWD", customer, [("prod_team", "1", 12345, "tax_nl_21")], currency="KWD"
    )
    assert make_engine().push_documents(day_window()).counts["pushed"] == 2
    paid_at = day_window().start + timedelta(hours=12)
    for number, (document, amount) in enumerate(((jpy, 1210), (kwd, 14937)), start=1):
        billing.execute(
            "INSERT INTO payments (id, invoice_id, amount, currency, paid_at, method, source)"
            " VALUES (%s, %s, %s, %s, %s, 'bank_transfer', 'billing')",
            f"pay_{number}",
            document.id,
            amount,
            document.currency,
            paid_at,
        )

    report = make_session(PaymentSync).push_payments(day_window())

    assert report.counts["pushed"] == 2, report.rows
    assert report.amounts == {"JPY": "1210", "KWD": "14.937"}
    lines = {
        line["Description"]: Decimal(str(line["AmountFC"]))
        for line in admin.store(NL, "financialtransaction/BankEntryLines")
    }
    assert lines == {
        "billing payment pay_1": Decimal(1210),
        "billing payment pay_2": Decimal("14.937"),
    }
    receivables = admin.store(NL, "cashflow/Receivables")
    assert all(r["IsFullyPaid"] for r in receivables if r["YourRef"] in ("INV-JPY", "INV-KWD"))


def test_a_currency_the_division_cannot_book_is_blocked_with_the_fix(
    billing: Billing, make_engine: EngineFactory, admin: SandboxAdmin
) -> None:
    customer = billing.customer("cus_abroad", "Tokyo Trading", email="ap@tt.example")
    billing.document("INV-EUR", customer, LINE)
    billing.document("INV-JPY", customer, [("prod_team", "1", 1000, "tax_nl_21")], currency="JPY")
    billing.document("INV-XYZ", customer, LINE, currency="XYZ")
    admin.clear_requests()

    engine = make_engine()
    report = engine.push_documents(day_window())

    assert report.counts["pushed"] == 1 and report.counts["blocked"] == 2
    blocked = {row.number: row for row in engine.blocked(day_window())}
    jpy = blocked["INV-JPY"]
    assert jpy.block_kind == ledger.MASTER_DATA
    reason = jpy.last_error or ""
    assert "document INV-JPY, field currency: JPY" in reason and "journal 70" in reason
    assert "allow variable currencies on journal 70" in reason
    xyz = blocked["INV-XYZ"]
    assert "document INV-XYZ, field currency" in (xyz.last_error or "")
    assert "ISO 4217" in (xyz.last_error or "")
    # nothing of the blocked documents reached Exact
    refs = {r["YourRef"] for r in admin.store(NL, "salesinvoice/SalesInvoices")}
    assert refs == {"INV-EUR"}


# --- 11. an invoicing entity with an invalid timezone ---------------------------------------


def test_an_entity_with_an_invalid_timezone_blocks_only_its_documents(
    billing: Billing, make_engine: EngineFactory, admin: SandboxAdmin
) -> None:
    billing.execute("UPDATE invoicing_entities SET timezone = 'Mars/Olympus' WHERE id = 'ent_be'")
    nl = billing.customer("cus_nl", "Klant NL", email="nl@example.nl")
    be = billing.customer("cus_be", "Klant BE", email="be@example.be", country="BE")
    billing.document("INV-NL", nl, LINE)
    billing.document("INV-BE", be, [("prod_team", "1", 9900, "tax_be_21")], entity="ent_be")

    engine = make_engine()
    validation = engine.validate_mappings()
    report = engine.push_documents(day_window())

    (problem,) = [p for p in validation.problems if "Mars/Olympus" in p]
    assert "ent_be" in problem and "IANA" in problem and "invoicing_entities.timezone" in problem
    assert report.counts["pushed"] == 1 and report.counts["blocked"] == 1
    (blocked,) = engine.blocked(day_window())
    assert blocked.number == "INV-BE" and blocked.block_kind == ledger.MAPPING
    assert "Mars/Olympus" in (blocked.last_error or "")
    assert {r["YourRef"] for r in admin.store(NL, "salesinvoice/SalesInvoices")} == {"INV-NL"}
