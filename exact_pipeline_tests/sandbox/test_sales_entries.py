"""salesentry/SalesEntries: deep insert, numbering, amounts, references, receivables."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from exact_pipeline_tests.sandbox.helpers import NL, ExactClient, json_date


def test_entry_is_numbered_per_journal_and_amounts_come_from_lines(exact: ExactClient) -> None:
    entry = exact.sales_entry(
        "10001",
        [("8000", Decimal("100.00")), ("8010", Decimal("19.99"))],
        YourRef="INV-1001",
        Description="November",
    )
    assert entry["EntryNumber"] == 26700001 and entry["InvoiceNumber"] == 26700001
    assert entry["Type"] == 20 and entry["Status"] == 20
    assert Decimal(str(entry["AmountFC"])) == Decimal("145.19")  # 119.99 + 21 % (25.20)
    assert Decimal(str(entry["VATAmountFC"])) == Decimal("25.20")
    assert entry["AmountDC"] == entry["AmountFC"]
    lines = entry["SalesEntryLines"]["results"]
    assert [line["LineNumber"] for line in lines] == [1, 2]
    assert [line["VATAmountFC"] for line in lines] == [21.0, 4.2]
    assert [line["GLAccountCode"] for line in lines] == ["8000", "8010"]
    assert lines[0]["VATPercentage"] == 0.21
    assert entry["CustomerName"] == "Bakkerij De Gouden Korenaar B.V."
    second = exact.sales_entry("10002", [("8000", Decimal(1))])
    assert second["EntryNumber"] == 26700002


def test_numbering_follows_the_entry_year_and_keeps_free_numbers(exact: ExactClient) -> None:
    old = exact.sales_entry("10001", [("8000", Decimal(1))], EntryDate="2025-12-31T00:00:00")
    assert old["EntryNumber"] == 25700001
    chosen = exact.sales_entry("10001", [("8000", Decimal(1))], EntryNumber=555)
    assert chosen["EntryNumber"] == 555
    replaced = exact.sales_entry("10001", [("8000", Decimal(1))], EntryNumber=555)
    assert replaced["EntryNumber"] == 26700001  # taken: silently replaced, as Exact does


def test_vat_overrides_on_lines_and_header(exact: ExactClient) -> None:
    lines = [
        {
            "GLAccount": exact.gl("8000")["ID"],
            "AmountFC": 10.05,
            "VATCode": "1",
            "VATAmountFC": 2.12,
        },
        {"GLAccount": exact.gl("8000")["ID"], "AmountFC": 10.05, "VATCode": "1"},
    ]
    body = {"Customer": exact.account("10001")["ID"], "Journal": "70", "SalesEntryLines": lines}
    entry = exact.created("salesentry/SalesEntries", body)
    assert [line["VATAmountFC"] for line in entry["SalesEntryLines"]["results"]] == [2.12, 2.11]
    assert entry["VATAmountFC"] == 4.23 and entry["AmountFC"] == 24.33
    header = exact.created("salesentry/SalesEntries", body | {"VATAmountFC": 4.22})
    assert header["VATAmountFC"] == 4.22 and header["AmountFC"] == 24.32


def test_negative_amounts_make_a_credit_note(exact: ExactClient) -> None:
    credit = exact.sales_entry("10001", [("8090", Decimal("-50.00"))], YourRef="CN-1")
    assert credit["Type"] == 21 and credit["AmountFC"] == -60.5
    receivable = exact.one(
        "cashflow/Receivables", f"TransactionEntryID eq guid'{credit['EntryID']}'"
    )
    assert receivable["AmountDC"] == -60.5 and receivable["TransactionType"] == 21


def test_booking_creates_the_receivable(exact: ExactClient) -> None:
    entry = exact.sales_entry(
        "10001",
        [("8000", Decimal("200.00"))],
        YourRef="INV-2001",
        EntryDate="2026-11-20T00:00:00",
        PaymentCondition="14",
    )
    receivable = exact.one(
        "cashflow/Receivables", f"TransactionEntryID eq guid'{entry['EntryID']}'"
    )
    assert receivable["YourRef"] == "INV-2001"
    assert receivable["InvoiceNumber"] == receivable["EntryNumber"] == entry["EntryNumber"]
    assert receivable["AmountDC"] == receivable["AmountFC"] == 242.0
    assert receivable["TransactionAmountFC"] == receivable["TransactionAmountDC"] == 242.0
    assert receivable["IsFullyPaid"] is False and receivable["Status"] == 20
    assert receivable["Account"] == entry["Customer"]
    assert receivable["DueDate"] == json_date(datetime(2026, 12, 4))
    assert (
        exact.one("cashflow/Receivables", f"InvoiceNumber eq {entry['EntryNumber']}")["ID"]
        == (receivable["ID"])
    )
    default_due = exact.sales_entry("10001", [("8000", Decimal(1))])
    assert default_due["DueDate"] == json_date(datetime(2026, 12, 20))  # account's 30 days


def test_lookup_by_your_ref_finds_a_posted_entry(exact: ExactClient) -> None:
    exact.sales_entry("10001", [("8000", Decimal(1))], YourRef="INV-X")
    found = exact.rows(
        "salesentry/SalesEntries", **{"$filter": "YourRef eq 'INV-X'", "$select": "EntryID"}
    )
    assert len(found) == 1 and set(found[0]) == {"__metadata", "EntryID"}


def test_references_are_validated_like_exact(exact: ExactClient) -> None:
    customer = exact.account("10001")["ID"]
    revenue, debtors = exact.gl("8000")["ID"], exact.gl("1300")["ID"]

    def post(**changes: object) -> str:
        body = {
            "Customer": customer,
            "Journal": "70",
            "SalesEntryLines": [{"GLAccount": revenue, "AmountFC": 10, "VATCode": "1"}],
        } | changes
        reply = exact.post("salesentry/SalesEntries", body)
        assert reply.status_code == 500, reply.text
        return reply.json()["error"]["message"]["value"]

    assert post(Customer="00000000-0000-0000-0000-000000000001") == "Ongeldige referentie: Accounts"
    assert post(Journal="20") == "Ongeldig dagboek. Het dagboek moet een verkoopdagboek zijn."
    journal_id = exact.one("financial/Journals", "Code eq '70'")["ID"]
    assert post(Journal=journal_id) == "Ongeldige referentie: Journals"
    assert post(SalesEntryLines=[{"GLAccount": debtors, "AmountFC": 10}]) == (
        "Ongeldig: Grootboekrekeningtype"
    )
    assert post(SalesEntryLines=[{"GLAccount": revenue, "AmountFC": 10, "VATCode": "7"}]) == (
        "Ongeldige referentie: VATCodes"
    )
    assert post(SalesEntryLines=[]) == "Verplicht: Regels"
    both = post(Journal=None, Customer=None)
    assert both == "Verplicht: Relatie\nVerplicht: Dagboek"
    exact.configure(language="en")
    assert post(Journal=None, Customer=None) == "Mandatory: Relationship\nMandatory: Diary"
    assert post(SalesEntryLines=[{"GLAccount": debtors, "AmountFC": 10}]) == (
        "Invalid: G/L account type"
    )
    assert exact.rows("salesentry/SalesEntries") == []


def test_document_link_is_recorded_on_the_document(exact: ExactClient) -> None:
    document = exact.created("documents/Documents", {"Subject": "INV-3001", "Type": 10})
    entry = exact.sales_entry("10001", [("8000", Decimal(5))], Document=document["ID"])
    linked = exact.get(f"documents/Documents(guid'{document['ID']}')").json()["d"]
    assert linked["FinancialTransactionEntryID"] == entry["EntryID"]
    assert linked["SalesInvoiceNumber"] == entry["EntryNumber"]


def test_put_changes_documented_writable_fields_and_rebooks(exact: ExactClient) -> None:
    entry = exact.sales_entry("10001", [("8000", Decimal(5))])
    key = f"salesentry/SalesEntries(guid'{entry['EntryID']}')"
    assert exact.put(key, {"Description": "Corrected", "AmountFC": 999}).status_code == 204
    changed = exact.get(key).json()["d"]
    assert changed["Description"] == "Corrected"
    assert changed["AmountFC"] == entry["AmountFC"]  # GET-only: skipped, as Exact does
    other = exact.account("10002")["ID"]
    assert exact.put(key, {"Customer": other, "InvoiceNumber": 4711}).status_code == 204
    (item,) = exact.store("cashflow/Receivables")
    assert (item["Account"], item["InvoiceNumber"]) == (other, 4711)  # booked again
    wrong = exact.put(key, {"Journal": "90"})
    assert wrong.status_code == 500
    assert wrong.json()["error"]["message"]["value"] == (
        "Ongeldig dagboek. Het dagboek moet een verkoopdagboek zijn."
    )
    deep = exact.put(key, {"SalesEntryLines": []})
    assert deep.status_code == 400


def test_delete_removes_lines_receivable_and_ledger(exact: ExactClient) -> None:
    entry = exact.sales_entry("10001", [("8000", Decimal(5))])
    assert exact.delete(f"salesentry/SalesEntries(guid'{entry['EntryID']}')").status_code == 204
    assert exact.store("salesentry/SalesEntryLines") == []
    assert exact.store("cashflow/Receivables") == []
    assert exact.store("financialtransaction/TransactionLines") == []
    deleted = exact.rows(
        "sync/Deleted", **{"$filter": "Timestamp gt 1", "$select": "EntityKey,EntityType"}
    )
    assert {(d["EntityType"]) for d in deleted} >= {1, 10}


def test_divisions_are_separate(exact: ExactClient) -> None:
    exact.sales_entry("10001", [("8000", Decimal(5))])
    assert exact.rows("salesentry/SalesEntries", 320001) == []
    assert len(exact.rows("salesentry/SalesEntries", NL)) == 1
