"""The read layer: partition windows in a timezone, whole documents, payments, change marks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from operator import attrgetter
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest

from exact_pipeline.billing.read import (
    ChangeMark,
    change_head,
    changes_since,
    read_documents,
    read_entities,
    read_payments,
    read_products,
    read_tax_rates,
)
from exact_pipeline.billing.write import write_documents
from exact_pipeline.demo.seed import seed_billing
from exact_pipeline_tests.billing.conftest import REFERENCE, make_document

Connection = psycopg.Connection[Any]
AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def day(year: int, month: int, day_: int) -> tuple[datetime, datetime]:
    """The window of a daily partition in Amsterdam."""
    start = datetime(year, month, day_, tzinfo=AMSTERDAM)
    return start, datetime.combine(start.date() + timedelta(days=1), start.timetz())


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_a_window_is_a_day_in_the_partition_timezone(conn: Connection) -> None:
    documents = [
        make_document("inv_before", utc("2026-11-20 22:59:59")),  # 23:59:59 on the 20th
        make_document("inv_after_midnight", utc("2026-11-20 23:30:00")),  # 00:30 on the 21st
        make_document("inv_voided", utc("2026-11-21 12:00:00"), status="voided"),
        make_document("inv_draft", utc("2026-11-21 12:00:00"), status="draft"),
        make_document("inv_last_second", utc("2026-11-21 22:59:59")),
        make_document("inv_next_day", utc("2026-11-21 23:00:00")),  # 00:00 on the 22nd
    ]
    write_documents(conn, documents)

    def ids(window: tuple[datetime, datetime]) -> list[str]:
        return [d.id for d in read_documents(conn, *window)]

    # Voided documents come with their status; drafts never do.
    assert ids(day(2026, 11, 21)) == ["inv_after_midnight", "inv_voided", "inv_last_second"]
    assert ids(day(2026, 11, 20)) == ["inv_before"]
    assert ids(day(2026, 11, 22)) == ["inv_next_day"]
    assert [d.status for d in read_documents(conn, *day(2026, 11, 21))][1] == "voided"


def test_documents_come_back_whole(conn: Connection) -> None:
    invoice = make_document(
        "inv_whole",
        utc("2026-11-21 09:00:00"),
        [
            ("prod_team", "1", "9900", "tax_nl_21"),
            ("prod_api_calls", "534.862", "29.75", "tax_nl_21"),
            ("prod_ebook", "3", "3900", "tax_nl_9"),
            (None, "1", "-1500", "tax_nl_21"),
        ],
        status="partially_paid",
        paid=[(5000, utc("2026-11-22 08:00:00")), (1000, utc("2026-11-22 07:00:00"))],
        pdf=b"%PDF-1.3 invoice",
    )
    credit_note = make_document(
        "cn_whole",
        utc("2026-11-21 10:00:00"),
        [("prod_ebook", "1", "3900", "tax_nl_9")],
        type="credit_note",
        original=invoice,
        pdf=b"%PDF-1.3 credit note",
    )
    # Written with the lines and payments out of order: reading puts them back in order.
    scrambled = replace(invoice, lines=invoice.lines[::-1])
    write_documents(conn, [scrambled, credit_note])

    read = read_documents(conn, *day(2026, 11, 21))

    ordered_payments = tuple(sorted(invoice.payments, key=lambda p: p.paid_at))
    assert read == [replace(invoice, payments=ordered_payments), credit_note]
    assert [line.position for line in read[0].lines] == [1, 2, 3, 4]
    assert read[0].lines[2].tax_rate.rate == 9 and read[0].lines[3].product is None
    assert read[1].original_invoice_number == "INV_WHOLE" and read[1].sign == -1
    assert read[0].paid_amount == 6000


def test_bounds_must_be_timezone_aware(conn: Connection) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        read_documents(conn, datetime(2026, 11, 21), datetime(2026, 11, 22))


def test_payments_are_read_by_their_own_date(conn: Connection) -> None:
    start, end = day(2026, 11, 21)
    document = make_document(
        "inv_paid",
        utc("2026-11-01 09:00:00"),
        paid=[(100, start - timedelta(microseconds=1)), (200, start), (300, end)],
    )
    write_documents(conn, [document])
    payments = read_payments(conn, start, end)
    assert [(p.amount, p.invoice_number, p.document_type) for p in payments] == [
        (200, "INV_PAID", "invoice")
    ]


def test_reference_data_matches_the_catalogue(conn: Connection) -> None:
    by_id = attrgetter("id")
    assert read_entities(conn) == sorted(REFERENCE.entities, key=by_id)
    assert read_tax_rates(conn) == sorted(REFERENCE.tax_rates, key=by_id)
    assert read_products(conn) == sorted(REFERENCE.products, key=by_id)


def test_changes_are_read_in_order_from_a_mark(conn: Connection) -> None:
    changed = utc("2026-11-22 10:00:00")
    write_documents(
        conn,
        [
            make_document("inv_c", utc("2026-11-20 09:00:00"), updated_at=changed),
            make_document("inv_b", utc("2026-11-21 09:00:00"), updated_at=changed),  # same time
            make_document("inv_a", utc("2026-11-21 10:00:00"), updated_at=utc("2026-11-22 11:00")),
            make_document("inv_d", utc("2026-11-21 11:00:00"), status="draft", updated_at=changed),
        ],
    )
    assert change_head(conn) == ChangeMark(utc("2026-11-22 11:00:00"), "inv_a")

    first = changes_since(conn, None, limit=2)  # ties on updated_at are ordered by id
    assert [c.id for c in first.changes] == ["inv_b", "inv_c"]
    assert first.mark == ChangeMark(changed, "inv_c")
    rest = changes_since(conn, str(first.cursor))  # the cursor a sensor stores
    assert [(c.id, c.issued_at) for c in rest.changes] == [("inv_a", utc("2026-11-21 10:00:00"))]
    assert rest.mark == change_head(conn)
    nothing = changes_since(conn, rest.cursor)
    assert nothing.changes == [] and nothing.mark is None

    conn.execute("UPDATE invoices SET status = 'paid' WHERE id = 'inv_c'")  # a payment arrives
    assert [c.id for c in changes_since(conn, nothing.cursor).changes] == ["inv_c"]


def test_a_change_mark_survives_its_string_form() -> None:
    mark = ChangeMark(datetime(2026, 11, 22, 10, 0, 0, 123456, tzinfo=AMSTERDAM), "inv|1")
    assert ChangeMark.parse(str(mark)) == mark
    with pytest.raises(ValueError, match="not a change mark"):
        ChangeMark.parse("2026-11-22T10:00:00")


class CountingCursor(psycopg.Cursor[Any]):
    """Counts the statements sent through it (class-wide: reset before use)."""

    statements = 0

    def execute(self, *args: Any, **kwargs: Any) -> CountingCursor:  # type: ignore[override]
        CountingCursor.statements += 1
        return super().execute(*args, **kwargs)  # type: ignore[return-value]


@pytest.fixture(scope="module")
def seeded_url(make_database: Callable[[str], str]) -> str:
    url = make_database("billing_read_seeded")
    seed_billing(url, seed=7, customers=40, months=2, today=date(2026, 11, 23))
    return url


def test_reading_costs_the_same_few_statements_for_any_number_of_rows(seeded_url: str) -> None:
    with psycopg.connect(seeded_url, cursor_factory=CountingCursor) as conn:
        costs = []
        windows = (day(2026, 11, 3), (day(2026, 10, 1)[0], day(2026, 11, 23)[1]))
        for index, (start, end) in enumerate(windows):
            CountingCursor.statements = 0
            documents = read_documents(conn, start, end)
            costs.append((len(documents), sum(len(d.lines) for d in documents)))
            # Documents, lines, PDFs, payments; the first read on a connection also asks which
            # optional line columns the database has.
            assert CountingCursor.statements == (5 if index == 0 else 4)
        (few, few_lines), (many, many_lines) = costs
        assert 0 < few < many / 10 and few_lines < many_lines / 10
