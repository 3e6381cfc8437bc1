"""The optional service period of a line (`invoice_lines.period_start`/`period_end`): read when
the database has the columns, None when it is of the schema before them; applying the schema to
such a database adds them, and a period may not end before it starts."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
import pytest
from psycopg import errors

from exact_pipeline.billing.database import apply_schema
from exact_pipeline.billing.read import read_documents
from exact_pipeline.billing.write import write_documents
from exact_pipeline_tests.billing.conftest import make_document

ISSUED = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
WINDOW = (ISSUED - timedelta(hours=1), ISSUED + timedelta(hours=1))
NOVEMBER = (date(2026, 11, 1), date(2026, 11, 30))


def with_period(doc_id: str) -> Any:
    """A two-line invoice whose first line bills November."""
    document = make_document(
        doc_id,
        ISSUED,
        (("prod_team", "1", "9900", "tax_nl_21"), ("prod_seat", "2", "1200", "tax_nl_21")),
    )
    first, second = document.lines
    first = replace(first, period_start=NOVEMBER[0], period_end=NOVEMBER[1])
    return replace(document, lines=(first, second))


def test_periods_are_read_back(conn: psycopg.Connection[Any]) -> None:
    write_documents(conn, [with_period("inv_period")])

    (document,) = read_documents(conn, *WINDOW)

    first, second = document.lines
    assert (first.period_start, first.period_end) == NOVEMBER
    assert (second.period_start, second.period_end) == (None, None)


def test_a_period_ending_before_it_starts_is_refused(conn: psycopg.Connection[Any]) -> None:
    document = with_period("inv_backwards")
    first, second = document.lines
    backwards = replace(first, period_start=NOVEMBER[1], period_end=NOVEMBER[0])
    with pytest.raises(errors.CheckViolation, match="invoice_lines_period_in_order"):
        write_documents(conn, [replace(document, lines=(backwards, second))])


def test_a_database_without_the_columns_is_read_and_upgraded(
    conn: psycopg.Connection[Any],
) -> None:
    write_documents(conn, [with_period("inv_old")])
    conn.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the document checks run before the ALTER
    conn.execute("ALTER TABLE invoice_lines DROP COLUMN period_start, DROP COLUMN period_end")

    # This connection has not read documents yet: it asks which columns there are.
    (document,) = read_documents(conn, *WINDOW)
    assert all(line.period_start is None and line.period_end is None for line in document.lines)
    assert [line.amount_excluding_tax for line in document.lines] == [9900, 2400]

    apply_schema(conn)
    columns = conn.execute(
        "SELECT column_name FROM information_schema.columns"
        " WHERE table_name = 'invoice_lines' AND column_name LIKE 'period_%' ORDER BY 1"
    ).fetchall()
    assert columns == [("period_end",), ("period_start",)]
