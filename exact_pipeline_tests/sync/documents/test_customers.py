"""Customers: explicit links, then VAT number, e-mail and exact name; created only when nothing
matches (billing_to_exact) and never twice; ambiguous or unlinked ones block their documents
with the reason and the fix."""

from __future__ import annotations

from exact_pipeline.exact import ExactClient, LookupKey
from exact_pipeline.exact.endpoints import ACCOUNTS
from exact_pipeline.sync.documents import ledger
from exact_pipeline_tests.exact.conftest import BE, NL, SandboxAdmin
from exact_pipeline_tests.sync.builder import Billing, day_window
from exact_pipeline_tests.sync.conftest import EngineFactory, MappingFolder

LINE = [("prod_team", "1", 9900, "tax_nl_21")]
BE_LINE = [("prod_team", "1", 9900, "tax_be_21")]


def accounts(admin: SandboxAdmin, division: int) -> dict[str, dict]:
    return {a["Code"].strip(): a for a in admin.store(division, "crm/Accounts")}


def test_links_matches_creates_once_and_blocks_the_ambiguous(
    billing: Billing,
    mapping_folder: MappingFolder,
    make_engine: EngineFactory,
    admin: SandboxAdmin,
    exact: ExactClient,
) -> None:
    for code in ("30001", "30002"):  # two accounts sharing an e-mail address
        exact.create(
            NL,
            ACCOUNTS,
            {"Code": code, "Name": f"Shared Mailbox {code}", "Email": "shared@example.nl"},
            idempotency=LookupKey.account_code(code),
        )
    customers = {
        # names, e-mails and VAT numbers differ from Exact's on purpose: the rule shows
        "explicit": billing.customer("cus_known_01", "Gouden Korenaar (billing name)"),
        "vat": billing.customer("cus_vat", "Jansen en Zonen", vat_number="nl 0012.34.567.b02"),
        "email": billing.customer("cus_mail", "Groene Hart", email=" Boekhouding@GroeneHart.ORG"),
        "name": billing.customer("cus_name", "Brasserie Ærø & Zeeën", country="BE"),
        "new": billing.customer("cus_new", "Nieuwe Klant B.V.", email="ap@nieuweklant.nl"),
        "ambiguous": billing.customer("cus_amb", "Gedeelde Post", email="SHARED@example.nl"),
    }
    for key, customer in customers.items():
        entity, lines = ("ent_be", BE_LINE) if key == "name" else ("ent_nl", LINE)
        billing.document(f"INV-{key}", customer, lines, entity=entity)
    before = {NL: accounts(admin, NL), BE: accounts(admin, BE)}
    admin.clear_requests()

    report = make_engine().sync_customers(day_window())

    outcome = {row["customer_id"]: row for row in report.rows}
    linked = ("explicit", "vat", "email", "name")
    assert {key: outcome[customers[key].id]["account_code"] for key in linked} == {
        "explicit": "10001",
        "vat": "10002",
        "email": "10003",
        "name": "20001",
    }
    assert outcome["cus_new"]["outcome"] == "created"
    ambiguous = outcome["cus_amb"]
    assert ambiguous["outcome"] == "blocked"
    assert "30001" in ambiguous["reason"] and "30002" in ambiguous["reason"]
    assert "customer_links.csv" in ambiguous["reason"]
    assert report.counts == {
        "linked_explicit": 1,
        "matched_vat": 1,
        "matched_email": 1,
        "matched_name": 1,
        "created": 1,
        "already_linked": 0,
        "blocked": 1,
        "failed": 0,
    }
    # one call per created account, and the division's accounts read once per division
    calls = admin.requests()["by_endpoint"]
    assert calls["POST crm/Accounts"] == 1
    assert sum(n for key, n in calls.items() if key.startswith("GET") and "Accounts" in key) == 2
    created = set(accounts(admin, NL)) - set(before[NL])
    assert len(created) == 1
    new_account = accounts(admin, NL)[created.pop()]
    assert (new_account["Name"], new_account["Email"], new_account["Status"]) == (
        "Nieuwe Klant B.V.",
        "ap@nieuweklant.nl",
        "C",
    )

    # a second run: everything already linked, nothing created, the ambiguous one still blocked
    admin.clear_requests()
    engine = make_engine()
    again = engine.push_documents(day_window())
    assert "POST crm/Accounts" not in admin.requests()["by_endpoint"]
    assert again.counts["pushed"] == 5 and again.counts["blocked"] == 1
    (blocked,) = engine.blocked(day_window())
    assert blocked.number == "INV-ambiguous" and blocked.block_kind == ledger.CUSTOMER
    assert "ambiguous" in (blocked.last_error or "")

    # the fix: an explicit link; the next run pushes it, still without creating anything
    mapping_folder.append("customer_links.csv", "cus_amb,30002")
    admin.clear_requests()
    fixed = make_engine().push_documents(day_window())
    assert fixed.counts["pushed"] == 1 and fixed.counts["already_synced"] == 5
    assert "POST crm/Accounts" not in admin.requests()["by_endpoint"]
    entry = next(
        r for r in admin.store(NL, "salesinvoice/SalesInvoices") if r["YourRef"] == "INV-ambiguous"
    )
    assert entry["OrderedBy"] == accounts(admin, NL)["30002"]["ID"]


def test_mode_none_blocks_unlinked_customers_with_the_fix(
    billing: Billing,
    mapping_folder: MappingFolder,
    make_engine: EngineFactory,
    admin: SandboxAdmin,
) -> None:
    mapping_folder.setting("customer_sync", "none")
    known = billing.customer("cus_known_01", "Bakkerij De Gouden Korenaar B.V.")
    stranger = billing.customer("cus_stranger", "Onbekend B.V.", email="x@onbekend.nl")
    billing.document("INV-1", known, LINE)
    billing.document("INV-2", stranger, LINE)
    admin.clear_requests()

    engine = make_engine()
    report = engine.push_documents(day_window())

    assert report.counts["pushed"] == 1 and report.counts["blocked"] == 1
    assert "POST crm/Accounts" not in admin.requests()["by_endpoint"]
    (blocked,) = engine.blocked(day_window())
    assert blocked.number == "INV-2" and blocked.block_kind == ledger.CUSTOMER
    reason = blocked.last_error or ""
    assert "cus_stranger" in reason and "customer_links.csv" in reason
    assert "billing_to_exact" in reason
