"""The billing schema: applies twice, and every rule rejects the rows that break it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from psycopg import errors, sql

from exact_pipeline.billing.database import BulkLoadError, apply_schema, bulk_load

ISSUED = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
Connection = psycopg.Connection[Any]


def insert(conn: Connection, table: str, **row: Any) -> None:
    conn.execute(
        sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
            sql.Identifier(table),
            sql.SQL(", ").join(map(sql.Identifier, row)),
            sql.SQL(", ").join(sql.Placeholder(column) for column in row),
        ),
        row,
    )


def invoice(conn: Connection, doc_id: str = "inv_1", **changes: Any) -> None:
    """A valid invoice of one Team plan at 21 % (9900 + 2079), with `changes` applied."""
    row = {
        "id": doc_id,
        "number": doc_id.upper(),
        "type": "invoice",
        "status": "to_pay",
        "customer_id": "cus_a",
        "invoicing_entity_id": "ent_nl",
        "currency": "EUR",
        "issued_at": ISSUED,
        "due_at": ISSUED + timedelta(days=14),
        "amount_excluding_tax": 9900,
        "tax_amount": 2079,
        "total_amount": 11979,
        "original_invoice_id": None,
    }
    insert(conn, "invoices", **(row | changes))


def line(conn: Connection, doc_id: str = "inv_1", position: int = 1, **changes: Any) -> None:
    row = {
        "id": f"{doc_id}-{position}",
        "invoice_id": doc_id,
        "position": position,
        "product_id": "prod_team",
        "description": "Team plan",
        "quantity": 1,
        "unit_amount": 9900,
        "amount_excluding_tax": 9900,
        "tax_rate_id": "tax_nl_21",
        "tax_amount": 2079,
    }
    insert(conn, "invoice_lines", **(row | changes))


def payment(conn: Connection, **changes: Any) -> None:
    row = {
        "id": "pay_1",
        "invoice_id": "inv_1",
        "amount": 11979,
        "currency": "EUR",
        "paid_at": ISSUED,
        "method": "ideal",
        "source": "billing",
    }
    insert(conn, "payments", **(row | changes))


def check_now(conn: Connection) -> None:
    """Run the deferred per-document checks now, as a commit would; later ones wait again."""
    conn.execute("SET CONSTRAINTS ALL IMMEDIATE")
    conn.execute("SET CONSTRAINTS ALL DEFERRED")


def test_the_schema_applies_twice(billing_url: str, conn: Connection) -> None:
    apply_schema(billing_url)  # the fixture applied it already
    apply_schema(billing_url)
    triggers = conn.execute(
        "SELECT tgname, count(*) FROM pg_trigger WHERE NOT tgisinternal GROUP BY tgname"
    ).fetchall()
    assert dict(triggers) == {
        "invoices_check_document": 1,
        "invoice_lines_check_document": 1,
        "invoices_touch_updated_at": 1,
        "customers_touch_updated_at": 1,
    }


def test_a_document_and_its_lines_are_written_in_one_transaction(conn: Connection) -> None:
    invoice(conn)  # its lines do not exist yet: the check waits for the commit
    line(conn)
    check_now(conn)
    payment(conn)
    assert conn.execute("SELECT count(*) FROM invoices WHERE id = 'inv_1'").fetchone() == (1,)


BAD_DOCUMENTS = {
    "credit note without original": ({"type": "credit_note"}, "invoices_credit_note_has_original"),
    "invoice with an original": (
        {"original_invoice_id": "inv_0"},
        "invoices_credit_note_has_original",
    ),
    "total is not the sum": ({"total_amount": 11980}, "invoices_total_is_sum"),
    "unknown status": ({"status": "sent"}, "invoices_status_check"),
    "unknown type": ({"type": "quote"}, "invoices_type_check"),
    "negative amounts": (
        {"amount_excluding_tax": -9900, "tax_amount": -2079, "total_amount": -11979},
        "invoices_amount_excluding_tax_check",
    ),
    "lower-case currency": ({"currency": "eur"}, "invoices_currency_check"),
    "due before issued": ({"due_at": ISSUED - timedelta(days=1)}, "invoices_due_after_issue"),
}


@pytest.mark.parametrize("changes, constraint", BAD_DOCUMENTS.values(), ids=BAD_DOCUMENTS)
def test_a_bad_document_is_rejected(
    conn: Connection, changes: dict[str, Any], constraint: str
) -> None:
    invoice(conn, "inv_0")
    line(conn, "inv_0")
    with pytest.raises(errors.CheckViolation) as raised:
        invoice(conn, **changes)
    assert raised.value.diag.constraint_name == constraint


BAD_ROWS = {
    "payment from an unknown source": (
        lambda conn: payment(conn, source="stripe", external_id="ch_1"),
        "payments_source_check",
    ),
    "payment from Exact without its id": (
        lambda conn: payment(conn, source="exact_online"),
        "payments_exact_has_external_id",
    ),
    "payment of nothing": (lambda conn: payment(conn, amount=0), "payments_amount_check"),
    "PDF that is not a PDF": (
        lambda conn: insert(
            conn, "invoice_pdfs", invoice_id="inv_1", file_name="x.pdf", content=b"<html>"
        ),
        "invoice_pdfs_content_check",
    ),
    "customer country not ISO": (
        lambda conn: insert(conn, "customers", id="cus_x", name="X", country="Netherlands"),
        "customers_country_check",
    ),
    "tax rate of nowhere": (
        lambda conn: line(conn, position=2, tax_rate_id="tax_xx_99"),
        "invoice_lines_tax_rate_id_fkey",
    ),
}


@pytest.mark.parametrize("write, constraint", BAD_ROWS.values(), ids=BAD_ROWS)
def test_a_bad_row_is_rejected(
    conn: Connection, write: Callable[[Connection], None], constraint: str
) -> None:
    invoice(conn)
    line(conn)
    with pytest.raises(errors.IntegrityError) as raised:
        write(conn)
    assert raised.value.diag.constraint_name == constraint


def test_a_payment_from_exact_is_recorded_once(conn: Connection) -> None:
    invoice(conn)
    line(conn)
    payment(conn, id="pay_1", source="exact_online", external_id="exact-guid-1")
    with pytest.raises(errors.UniqueViolation):
        payment(conn, id="pay_2", source="exact_online", external_id="exact-guid-1")


def test_lines_that_do_not_sum_to_the_totals_are_rejected_at_commit(conn: Connection) -> None:
    invoice(conn)
    line(conn, tax_amount=2078)  # one cent of VAT lost
    with pytest.raises(errors.CheckViolation, match="lines sum to 9900 excluding tax and 2078"):
        check_now(conn)


def test_a_finalized_document_without_lines_is_rejected(conn: Connection) -> None:
    invoice(conn)
    with pytest.raises(errors.CheckViolation, match="lines sum to 0 excluding tax and 0 tax"):
        check_now(conn)


def test_a_line_with_another_entitys_tax_rate_is_rejected(conn: Connection) -> None:
    invoice(conn)
    line(conn, tax_rate_id="tax_be_21")
    with pytest.raises(errors.CheckViolation, match="uses tax rate tax_be_21 of entity ent_be"):
        check_now(conn)


def test_a_credit_note_must_credit_an_invoice_of_its_entity(conn: Connection) -> None:
    invoice(conn)
    line(conn)
    invoice(conn, "cn_1", type="credit_note", original_invoice_id="inv_1")
    line(conn, "cn_1")
    check_now(conn)  # a valid credit note
    invoice(conn, "cn_2", type="credit_note", original_invoice_id="cn_1")
    line(conn, "cn_2")
    with pytest.raises(errors.CheckViolation, match="credits CN_1 \\(a credit_note of entity"):
        check_now(conn)


def test_drafts_are_exempt_until_finalized(conn: Connection) -> None:
    invoice(conn, status="draft")
    line(conn, amount_excluding_tax=5000, tax_amount=1050)  # still being edited
    check_now(conn)
    conn.execute("UPDATE invoices SET status = 'to_pay' WHERE id = 'inv_1'")
    with pytest.raises(errors.CheckViolation, match="lines sum to 5000"):
        check_now(conn)


@pytest.mark.parametrize(
    "change",
    [
        "UPDATE invoice_lines SET amount_excluding_tax = 9800 WHERE id = 'inv_1-1'",
        "DELETE FROM invoice_lines WHERE id = 'inv_1-1'",
        "UPDATE invoices SET tax_amount = 2000, total_amount = 11900 WHERE id = 'inv_1'",
    ],
)
def test_a_finalized_document_cannot_drift_from_its_lines(conn: Connection, change: str) -> None:
    invoice(conn)
    line(conn)
    check_now(conn)
    conn.execute(change)
    with pytest.raises(errors.CheckViolation, match="lines sum to"):
        check_now(conn)


def test_a_change_moves_updated_at_unless_the_writer_sets_it(conn: Connection) -> None:
    invoice(conn, updated_at=ISSUED)
    line(conn)
    conn.execute("UPDATE invoices SET status = 'paid' WHERE id = 'inv_1'")
    touched = conn.execute("SELECT updated_at FROM invoices WHERE id = 'inv_1'").fetchone()
    assert touched is not None and touched[0] > ISSUED
    explicit = ISSUED + timedelta(hours=1)
    conn.execute("UPDATE invoices SET status = 'to_pay', updated_at = %s", [explicit])
    assert conn.execute("SELECT updated_at FROM invoices").fetchone() == (explicit,)
    conn.execute("UPDATE invoices SET status = status")  # no change: no new timestamp
    assert conn.execute("SELECT updated_at FROM invoices").fetchone() == (explicit,)


def constraints(conn: Connection) -> list[tuple[str, bool]]:
    return (
        conn.execute(  # type: ignore[return-value]
            "SELECT conname, convalidated FROM pg_constraint WHERE contype = 'f' ORDER BY conname"
        ).fetchall()
        + conn.execute(
            "SELECT tgname, tgenabled = 'O' FROM pg_trigger WHERE NOT tgisinternal ORDER BY tgname"
        ).fetchall()
    )


def test_a_bulk_load_checks_everything_once_at_the_end(conn: Connection) -> None:
    before = constraints(conn)
    with bulk_load(conn):
        line(conn)  # before its document: no row-by-row key check during the load
        invoice(conn)
    assert constraints(conn) == before


@pytest.mark.parametrize(
    "write, error",
    [
        (lambda conn: line(conn, tax_amount=2000), BulkLoadError),
        (lambda conn: line(conn, invoice_id="inv_missing"), errors.ForeignKeyViolation),
    ],
    ids=["lines not summing to the totals", "line of a missing document"],
)
def test_a_bulk_load_rejects_what_the_rules_reject(
    conn: Connection, write: Callable[[Connection], None], error: type[Exception]
) -> None:
    with pytest.raises(error), bulk_load(conn):
        invoice(conn)
        write(conn)
