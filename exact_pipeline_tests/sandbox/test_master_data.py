"""The seeded divisions' master data and how POST/PUT/DELETE treat it."""

from __future__ import annotations

from exact_pipeline.demo import catalog
from exact_pipeline_tests.sandbox.helpers import BE, NL, ExactClient


def test_seeded_accounts_are_the_known_customers_of_each_country(exact: ExactClient) -> None:
    for division, country in ((NL, "NL"), (BE, "BE")):
        rows = exact.rows("crm/Accounts", division, **{"$filter": "Blocked eq false"})
        known = [c for c in catalog.KNOWN_CUSTOMERS if c.country == country]
        assert sorted(r["Code"] for r in rows) == sorted(
            c.exact_account_code.rjust(18) for c in known
        )
        by_code = {r["Code"].strip(): r for r in rows}
        for customer in known:
            account = by_code[customer.exact_account_code]
            assert (account["Name"], account["Email"], account["VATNumber"]) == (
                customer.name,
                customer.email,
                customer.vat_number,
            )


def test_items_cover_every_product_with_revenue_gl_and_vat_code(exact: ExactClient) -> None:
    rows = exact.rows("logistics/Items", BE, **{"$filter": "IsSalesItem eq true"})
    products = catalog.EXACT_ITEMS
    assert sorted(r["Code"] for r in rows) == sorted(p.item_code for p in products)
    gl_codes = {g["ID"]: g["Code"] for g in exact.rows("financial/GLAccounts", BE)}
    for item in rows:
        product = next(p for p in products if p.item_code == item["Code"])
        assert gl_codes[item["GLRevenue"]] == (product.gl_account or catalog.DEFAULT_INVOICE_GL)
        expected_vat = "3" if product.id in catalog.REDUCED_RATE_PRODUCTS else "4"
        assert item["SalesVatCode"] == expected_vat


def test_vat_codes_are_fractions_and_padded(exact: ExactClient) -> None:
    for division, entity_id in ((NL, "ent_nl"), (BE, "ent_be")):
        rows = exact.rows("vat/VATCodes", division)
        expected = {
            t.vat_code: float(t.rate / 100) for t in catalog.TAX_RATES if t.entity_id == entity_id
        }
        assert {r["Code"].strip(): r["Percentage"] for r in rows} == expected
        assert all(len(r["Code"]) == 3 for r in rows)


def test_gl_accounts_journals_conditions_and_document_types(exact: ExactClient) -> None:
    gls = {g["Code"]: (g["Type"], g["BalanceType"]) for g in exact.rows("financial/GLAccounts")}
    assert gls == {g.code: (g.type, g.balance_type) for g in catalog.GL_ACCOUNTS}
    journals = {j["Code"]: j["Type"] for j in exact.rows("financial/Journals")}
    assert journals == {j.code: j.type for j in catalog.JOURNALS}
    conditions = {c["Code"]: c["PaymentDays"] for c in exact.rows("cashflow/PaymentConditions")}
    assert conditions == {code: days for code, _, days in catalog.PAYMENT_CONDITIONS}
    types = {t["ID"]: t["Description"] for t in exact.rows("documents/DocumentTypes")}
    assert types[10] == "Verkoopfactuur"
    assert exact.get("documents/DocumentTypes(10)").json()["d"]["ID"] == 10


def test_seeded_ids_survive_a_reset(exact: ExactClient) -> None:
    before = exact.account("10001")["ID"]
    exact.http.post("/_sandbox/reset").raise_for_status()
    exact.connect([NL])
    assert exact.account("10001")["ID"] == before


def test_new_account_gets_the_next_code_left_padded(exact: ExactClient) -> None:
    created = exact.created("crm/Accounts", {"Name": "Nieuwe Klant BV", "Country": "NL"})
    assert created["Code"] == "10004".rjust(18)
    explicit = exact.created("crm/Accounts", {"Name": "Eigen Code BV", "Code": "77"})
    assert explicit["Code"] == "77".rjust(18)
    duplicate = exact.post("crm/Accounts", {"Name": "Dubbel BV", "Code": "  77"})
    assert duplicate.status_code == 500
    assert duplicate.json()["error"]["message"]["value"] == "Code: Bestaat reeds"
    mandatory = exact.post("crm/Accounts", {"Email": "x@y.example"})
    assert mandatory.status_code == 500
    assert mandatory.json()["error"]["message"]["value"] == "Verplicht: Naam"


def test_messages_follow_the_configured_language(exact: ExactClient) -> None:
    exact.configure(language="en")
    reply = exact.post("crm/Accounts", {"Email": "x@y.example"})
    assert reply.json()["error"]["message"]["value"] == "Mandatory: Name"


def test_master_data_can_be_created_and_is_validated(exact: ExactClient) -> None:
    item = exact.created(
        "logistics/Items",
        {
            "Code": "NEW-1",
            "Description": "New thing",
            "SalesVatCode": "2",
            "GLRevenue": exact.gl("8020")["ID"],
        },
    )
    assert item["IsSalesItem"] is True and item["Unit"] == "pc"
    bad = exact.post("logistics/Items", {"Code": "NEW-2", "Description": "x", "SalesVatCode": "99"})
    assert bad.status_code == 500
    assert bad.json()["error"]["message"]["value"] == "Ongeldige referentie: VATCodes"
    long = exact.post("logistics/Items", {"Code": "NEW-3", "Description": "d" * 61})
    assert long.status_code == 500
    gl = exact.created("financial/GLAccounts", {"Code": "8100", "Description": "Omzet overig"})
    assert (gl["Type"], gl["BalanceType"]) == (110, "W")
    vat = exact.created("vat/VATCodes", {"Code": "9", "Description": "Test", "Percentage": 0.05})
    assert vat["Percentage"] == 0.05


def test_account_in_use_cannot_be_deleted(exact: ExactClient) -> None:
    from decimal import Decimal

    exact.sales_entry("10001", [("8000", Decimal(10))])
    account = exact.account("10001")
    reply = exact.delete(f"crm/Accounts(guid'{account['ID']}')")
    assert reply.status_code == 500
    assert "SalesEntries" in reply.json()["error"]["message"]["value"]


def test_payment_conditions_allow_get_and_post_only(exact: ExactClient) -> None:
    condition = exact.created(
        "cashflow/PaymentConditions", {"Code": "60", "Description": "60 dagen", "PaymentDays": 60}
    )
    key = f"cashflow/PaymentConditions(guid'{condition['ID']}')"
    assert exact.delete(key).status_code == 405
    assert exact.put(key, {"Description": "x"}).status_code == 405


def test_vat_code_in_use_cannot_be_deleted(exact: ExactClient) -> None:
    # seeded items name the code unpadded ("1"), the VAT code itself is padded ("1  ")
    vat = exact.one("vat/VATCodes", "Code eq '1'")
    reply = exact.delete(f"vat/VATCodes(guid'{vat['ID']}')")
    assert reply.status_code == 500
    assert reply.json()["error"]["message"]["value"].endswith("(Items)")
