"""Deleting a bank entry undoes its payments: what it settled is open again, a split-off paid
part rejoins the open rest (reported by sync/Deleted), and its ledger lines go."""

from __future__ import annotations

from decimal import Decimal

from exact_pipeline_tests.sandbox.helpers import ExactClient

BANK = "financialtransaction/BankEntries"


def _receipt(exact: ExactClient, entry: dict, amount: float) -> dict:
    line = {
        "Account": entry["Customer"],
        "OurRef": entry["EntryNumber"],
        "AmountFC": amount,
        "GLAccount": exact.gl("1300")["ID"],
        "Date": "2026-11-25T00:00:00",
    }
    return exact.created(BANK, {"JournalCode": "20", "BankEntryLines": [line]})


def _items(exact: ExactClient, entry: dict) -> list[tuple[float, bool]]:
    rows = exact.rows(
        "cashflow/Receivables", **{"$filter": f"TransactionEntryID eq guid'{entry['EntryID']}'"}
    )
    return sorted((r["AmountDC"], r["IsFullyPaid"]) for r in rows)


def _delete(exact: ExactClient, bank: dict) -> None:
    reply = exact.delete(f"{BANK}(guid'{bank['EntryID']}')")
    assert reply.status_code == 204, reply.text


def test_deleting_a_full_payment_opens_the_item_again(exact: ExactClient) -> None:
    entry = exact.sales_entry("10001", [("8000", Decimal("100.00"))])
    bank = _receipt(exact, entry, 121.0)
    assert _items(exact, entry) == [(121.0, True)]

    _delete(exact, bank)

    rows = exact.rows(
        "cashflow/Receivables", **{"$filter": f"TransactionEntryID eq guid'{entry['EntryID']}'"}
    )
    assert [(r["AmountDC"], r["IsFullyPaid"], r["Status"]) for r in rows] == [(121.0, False, 20)]
    assert rows[0]["EntryID"] == entry["EntryID"] and rows[0]["LastPaymentDate"] is None
    lines = exact.rows(
        "financialtransaction/TransactionLines",
        **{"$filter": f"EntryID eq guid'{bank['EntryID']}'"},
    )
    assert lines == []
    assert exact.get(f"{BANK}(guid'{bank['EntryID']}')").status_code == 404


def test_deleting_a_partial_payment_joins_the_rest_and_is_reported_deleted(
    exact: ExactClient,
) -> None:
    entry = exact.sales_entry("10001", [("8000", Decimal("100.00"))])
    first = _receipt(exact, entry, 21.0)
    _receipt(exact, entry, 40.0)
    assert _items(exact, entry) == [(21.0, True), (40.0, True), (60.0, False)]
    paid_part = next(
        r["ID"]
        for r in exact.rows(
            "cashflow/Receivables", **{"$filter": f"EntryID eq guid'{first['EntryID']}'"}
        )
    )

    _delete(exact, first)

    assert _items(exact, entry) == [(40.0, True), (81.0, False)]
    deleted = exact.rows(
        "sync/Deleted",
        **{"$filter": "Timestamp gt 1", "$select": "EntityKey,EntityType,Timestamp"},
    )
    assert {"EntityKey": paid_part, "EntityType": 10} in [
        {k: r[k] for k in ("EntityKey", "EntityType")} for r in deleted
    ]
