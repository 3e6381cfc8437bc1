"""Staging streams (issue 13): a range is read and written a day at a time, each day's ledger
rows in one statement; an unchanged document costs no write (what a stage reads of each
document: test_summaries.py). Real Postgres."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import psycopg
from psycopg.rows import class_row

from exact_pipeline.settings import STATE_SCHEMA
from exact_pipeline.sync.documents import ledger
from exact_pipeline.sync.documents.ledger import LedgerRow
from exact_pipeline_tests.sync.builder import AMSTERDAM, DAY, Billing, day_window
from exact_pipeline_tests.sync.conftest import EngineFactory
from exact_pipeline_tests.sync.core.test_ledger import staged_values
from exact_pipeline_tests.sync.documents.test_partial_pushes import correct, known_customer

TEAM = ("prod_team", "1", 9900, "tax_nl_21")
DAYS = 3


def at(day: int, hour: int) -> datetime:
    return datetime.combine(DAY + timedelta(days=day), time(hour), AMSTERDAM)


def ledger_rows(state_url: str) -> dict[str, LedgerRow]:
    with (
        psycopg.connect(state_url) as conn,
        conn.cursor(row_factory=class_row(LedgerRow)) as cur,
    ):
        cur.execute(f"SELECT * FROM {STATE_SCHEMA}.ledger_documents")
        return {row.number: row for row in cur.fetchall()}


def per_day(rows: list[LedgerRow], stamp: str) -> dict[date, set[datetime]]:
    """The distinct values of `stamp` (a write's transaction time) per partition day."""
    stamps: dict[date, set[datetime]] = {}
    for row in rows:
        stamps.setdefault(row.partition_date, set()).add(getattr(row, stamp))
    return stamps


def test_a_range_is_staged_day_by_day_one_statement_per_day_and_unchanged_rows_cost_none(
    billing: Billing, make_engine: EngineFactory, state_url: str
) -> None:
    customer = known_customer(billing)
    documents = {
        (day, n): billing.document(f"INV-{day}{n}", customer, [TEAM], issued=at(day, 9 + n))
        for day in range(DAYS)
        for n in range(3)
    }
    report = make_engine().stage(day_window(days=DAYS))
    assert report.documents == len(report.rows) == 9
    first = ledger_rows(state_url)
    # A statement's rows share its transaction's time: one per day, and a day of their own.
    written = per_day(list(first.values()), "first_seen_at")
    assert len(written) == DAYS and all(len(stamps) == 1 for stamps in written.values())
    assert len(set.union(*written.values())) == DAYS

    correct(billing, documents[(0, 1)], quantity=2)
    correct(billing, documents[(2, 0)], quantity=3)
    make_engine().stage(day_window(days=DAYS))
    again = ledger_rows(state_url)
    refreshed = [row for row in again.values() if row.version == 1]
    assert {row.number for row in refreshed} == {"INV-01", "INV-20"}
    assert len(set.union(*per_day(refreshed, "updated_at").values())) == 2  # one per day
    for number, row in again.items():  # the others: no write at all
        if row.version == 0:
            assert row.updated_at == first[number].updated_at


def test_new_rows_go_straight_in_and_one_another_run_inserted_first_is_left_to_it(
    state_url: str,
) -> None:
    with psycopg.connect(state_url, autocommit=True) as conn:
        ledger.ensure_schema(conn)
        # All new (a first stage's day): copied straight into the ledger.
        assert ledger.stage_all(conn, [(staged_values(i), None) for i in ("doc_a", "doc_b")]) == 2
        ledger.stage(conn, staged_values("doc_raced"), None)  # another run, after our read
        ledger.update(conn, "doc_raced", state=ledger.BLOCKED)
        rows = [
            (staged_values("doc_c"), None),
            (staged_values("doc_raced") | {"payload_hash": "h2"}, None),
        ]
        assert ledger.stage_all(conn, rows) == 1  # the others still go in
        found = ledger.documents(conn, ["doc_a", "doc_b", "doc_c", "doc_raced"])
        assert {i: (r.state, r.version) for i, r in found.items()} == {
            "doc_a": (ledger.STAGED, 0),
            "doc_b": (ledger.STAGED, 0),
            "doc_c": (ledger.STAGED, 0),
            "doc_raced": (ledger.BLOCKED, 1),
        }
        # Every column round-trips its type (times, dates, amounts), as the upsert's do.
        expected = staged_values("doc_a")
        assert all(getattr(found["doc_a"], c) == expected[c] for c in ledger.STAGE_COLUMNS)
        # Inside a caller's transaction, a refused copy leaves the transaction usable.
        with conn.transaction():
            raced = [(staged_values("doc_d"), None), (staged_values("doc_a"), None)]
            assert ledger.stage_all(conn, raced) == 1
        assert "doc_d" in ledger.documents(conn, ["doc_d"])


def test_many_rows_in_one_statement_leave_those_another_run_wrote_since_they_were_read(
    state_url: str,
) -> None:
    with psycopg.connect(state_url, autocommit=True) as conn:
        ledger.ensure_schema(conn)
        for billing_id in ("doc_known", "doc_changed", "doc_raced"):
            ledger.stage(conn, staged_values(billing_id), None)
        ledger.update(conn, "doc_changed", state=ledger.BLOCKED)  # another run: version 1
        newer = {"payload_hash": "h2"}
        written = ledger.stage_many(
            conn,
            [
                (staged_values("doc_known") | newer, 0),
                (staged_values("doc_changed") | newer, 0),  # read before the other run wrote
                (staged_values("doc_new"), None),
                (staged_values("doc_raced") | newer, None),  # another run inserted it first
            ],
        )
        assert sorted((row.billing_id, row.version) for row in written) == [
            ("doc_known", 1),
            ("doc_new", 0),
        ]
        assert {row.billing_id: row for row in written} == ledger.documents(
            conn, ["doc_known", "doc_new"]
        )
        rows = ledger.documents(conn, ["doc_known", "doc_changed", "doc_raced", "doc_new"])
        assert {i: (r.payload_hash, r.state) for i, r in rows.items()} == {
            "doc_known": ("h2", ledger.STAGED),
            "doc_changed": ("h1", ledger.BLOCKED),
            "doc_raced": ("h1", ledger.STAGED),
            "doc_new": ("h1", ledger.STAGED),
        }
        # Every column round-trips its type (times, dates, amounts).
        new = rows["doc_new"]
        expected = staged_values("doc_new")
        assert all(getattr(new, c) == expected[c] for c in ledger.STAGE_COLUMNS)
        assert ledger.stage_many(conn, []) == []
