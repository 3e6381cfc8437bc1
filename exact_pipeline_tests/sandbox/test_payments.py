"""financialtransaction/BankEntries: receipts matched to open receivables by customer,
invoice number (OurRef) and amount."""

from __future__ import annotations

from decimal import Decimal

from exact_pipeline_tests.sandbox.helpers import ExactClient


def _receipt(
    exact: ExactClient, account_id: str, our_ref: int, amount: float, **extra: object
) -> dict:
    line = {
        "Account": account_id,
        "OurRef": our_ref,
        "AmountFC": amount,
        "GLAccount": exact.gl("1300")["ID"],
        "Date": "2026-11-25T00:00:00",
        "Description": "Betaling",
    } | extra
    return exact.created(
        "financialtransaction/BankEntries", {"JournalCode": "20", "BankEntryLines": [line]}
    )


def _items(exact: ExactClient, entry: dict) -> list[dict]:
    return exact.rows(
        "cashflow/Receivables", **{"$filter": f"TransactionEntryID eq guid'{entry['EntryID']}'"}
    )


def test_full_payment_settles_the_receivable(exact: ExactClient) -> None:
    entry = exact.sales_entry("10001", [("8000", Decimal("100.00"))])
    bank = _receipt(exact, entry["Customer"], entry["EntryNumber"], 121.0)
    assert bank["EntryNumber"] == 26200001 and bank["ClosingBalanceFC"] == 121.0
    [item] = _items(exact, entry)
    assert item["IsFullyPaid"] is True and item["Status"] == 50
    assert item["LastPaymentDate"] is not None and item["EntryID"] == bank["EntryID"]


def test_partial_payments_keep_the_rest_open(exact: ExactClient) -> None:
    entry = exact.sales_entry("10001", [("8000", Decimal("100.00"))])
    _receipt(exact, entry["Customer"], entry["EntryNumber"], 21.0)
    items = sorted(_items(exact, entry), key=lambda r: r["AmountDC"])
    assert [(r["AmountDC"], r["IsFullyPaid"]) for r in items] == [(21.0, True), (100.0, False)]
    assert all(r["TransactionAmountDC"] == 121.0 for r in items)
    _receipt(exact, entry["Customer"], entry["EntryNumber"], 100.0)
    assert all(r["IsFullyPaid"] for r in _items(exact, entry))


def test_receipts_that_do_not_match_leave_items_open(exact: ExactClient) -> None:
    entry = exact.sales_entry("10001", [("8000", Decimal("100.00"))])
    other = exact.account("10002")["ID"]
    _receipt(exact, other, entry["EntryNumber"], 121.0)  # another customer
    _receipt(exact, entry["Customer"], entry["EntryNumber"] + 1, 121.0)  # another invoice
    _receipt(exact, entry["Customer"], entry["EntryNumber"], 500.0)  # more than is open
    _receipt(
        exact, entry["Customer"], entry["EntryNumber"], 121.0, GLAccount=exact.gl("8000")["ID"]
    )
    assert [r["IsFullyPaid"] for r in _items(exact, entry)] == [False]


def test_refund_settles_a_credit_note(exact: ExactClient) -> None:
    credit = exact.sales_entry("10001", [("8090", Decimal("-10.00"))])
    _receipt(exact, credit["Customer"], credit["EntryNumber"], -12.1)
    assert [r["IsFullyPaid"] for r in _items(exact, credit)] == [True]


def test_bank_entries_need_a_bank_journal(exact: ExactClient) -> None:
    line = {"AmountFC": 1, "GLAccount": exact.gl("1300")["ID"]}
    reply = exact.post(
        "financialtransaction/BankEntries", {"JournalCode": "70", "BankEntryLines": [line]}
    )
    assert reply.status_code == 500
    assert "bank" in reply.json()["error"]["message"]["value"]
    journal = exact.post(
        "financialtransaction/BankEntries", {"Journal": "20", "BankEntryLines": [line]}
    )
    assert journal.status_code == 400  # Exact's header field is JournalCode


def test_paid_entry_cannot_be_deleted(exact: ExactClient) -> None:
    entry = exact.sales_entry("10001", [("8000", Decimal("100.00"))])
    _receipt(exact, entry["Customer"], entry["EntryNumber"], 50.0)
    reply = exact.delete(f"salesentry/SalesEntries(guid'{entry['EntryID']}')")
    assert reply.status_code == 500
    assert "betalingen" in reply.json()["error"]["message"]["value"]


def test_payment_terms_sync_shows_settled_items_after_the_last_timestamp(
    exact: ExactClient,
) -> None:
    entry = exact.sales_entry("10001", [("8000", Decimal("100.00"))], YourRef="INV-9")
    select = "ID,InvoiceNumber,YourRef,AmountDC,IsFullyPaid,LineType,Timestamp"
    first = exact.rows(
        "sync/Cashflow/PaymentTerms", **{"$filter": "Timestamp gt 1", "$select": select}
    )
    assert [(r["YourRef"], r["LineType"], r["IsFullyPaid"]) for r in first] == [
        ("INV-9", 20, False)
    ]
    last = max(r["Timestamp"] for r in first)
    _receipt(exact, entry["Customer"], entry["EntryNumber"], 121.0)
    changed = exact.rows(
        "sync/Cashflow/PaymentTerms", **{"$filter": f"Timestamp gt {last}L", "$select": select}
    )
    assert [(r["ID"], r["IsFullyPaid"]) for r in changed] == [(first[0]["ID"], True)]
    assert changed[0]["Timestamp"] > last
