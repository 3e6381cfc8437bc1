"""The ledger mechanism both domains share: tables of dataclass rows in the state database.

A domain's ledger (`documents.ledger`, `payments.ledger`) declares its table, its row class and
its states; this module does the rest the same way for both: creating the tables (serialised
across processes), reading rows into the row class, and writing a row so that the write
returns it (`RETURNING`: the row as it is now, never a second read). Every write is a small
autocommit statement, so progress survives a crash. Claims (`claimed`, `locked`) are session
advisory locks: two runs never work on the same key at once.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import fields
from typing import Any, TypeVar

import psycopg
from psycopg import sql
from psycopg.rows import class_row

Connection = psycopg.Connection[Any]
R = TypeVar("R")

# Advisory-lock class of the ledgers' claims (the object id is hashtext(key)).
_LOCK_CLASS = 0x5EC7


def ensure_schema(conn: Connection, name: str, ddl: str) -> None:
    """Run `ddl` (CREATE … IF NOT EXISTS, ADD COLUMN IF NOT EXISTS) once at a time."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [name])
        conn.execute(ddl)  # type: ignore[arg-type]  # a constant


def columns(row: type[Any]) -> sql.Composed:
    """The row class's fields as a column list."""
    return sql.SQL(", ").join(sql.Identifier(f.name) for f in fields(row))


def fetch(
    conn: Connection, row: type[R], query: sql.Composable, params: Sequence[Any] | dict[str, Any]
) -> list[R]:
    with conn.cursor(row_factory=class_row(row)) as cur:
        cur.execute(query, params)
        return cur.fetchall()


def update(
    conn: Connection,
    table: sql.Identifier,
    row: type[R],
    where: sql.Composable,
    params: dict[str, Any],
    values: dict[str, Any],
    bump: Sequence[str] = ("updated_at = now()",),
) -> R | None:
    """Set `values` (and the `bump` assignments) on the row `where` selects; the row as
    written, or None when none matched. `params` fill `where` (names starting with `_`)."""
    assignments = [
        sql.SQL("{} = {}").format(sql.Identifier(name), sql.Placeholder(name)) for name in values
    ]
    assignments += [sql.SQL(text) for text in bump]  # type: ignore[arg-type]  # constants
    query = sql.SQL("UPDATE {} SET {} WHERE {} RETURNING {}").format(
        table, sql.SQL(", ").join(assignments), where, columns(row)
    )
    found = fetch(conn, row, query, values | params)
    return found[0] if found else None


@contextmanager
def claimed(conn: Connection, key: str) -> Iterator[bool]:
    """Claim `key` for posting it: a session advisory lock, released on exit or when the
    connection dies. Yields False at once when another run holds it."""
    got = conn.execute("SELECT pg_try_advisory_lock(%s, hashtext(%s))", (_LOCK_CLASS, key))
    row = got.fetchone()
    if not (row and row[0]):
        yield False
        return
    try:
        yield True
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s, hashtext(%s))", (_LOCK_CLASS, key))


@contextmanager
def locked(conn: Connection, key: str) -> Iterator[None]:
    """Like `claimed`, but waits for another run to finish with `key` (then re-read!)."""
    conn.execute("SELECT pg_advisory_lock(%s, hashtext(%s))", (_LOCK_CLASS, key))
    try:
        yield
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s, hashtext(%s))", (_LOCK_CLASS, key))
