"""The billing database itself: its schema, and loading many rows fast."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.pq import TransactionStatus

SCHEMA_FILE = Path(__file__).with_name("schema.sql")

# In dependency order: a table only references tables before it.
BILLING_TABLES: tuple[str, ...] = (
    "invoicing_entities",
    "tax_rates",
    "customers",
    "products",
    "invoices",
    "invoice_lines",
    "invoice_pdfs",
    "payments",
)

ConnectionOrUrl = psycopg.Connection[Any] | str


@contextmanager
def connected(target: ConnectionOrUrl) -> Iterator[psycopg.Connection[Any]]:
    """The given connection (left open), or a new one for a URL, committed and closed after."""
    if isinstance(target, str):
        with psycopg.connect(target) as conn:
            yield conn
    else:
        yield target


def apply_schema(target: ConnectionOrUrl) -> None:
    """Create the billing tables, checks and triggers; safe to run on an existing schema."""
    with connected(target) as conn, conn.transaction():
        conn.execute(SCHEMA_FILE.read_text())  # type: ignore[arg-type]  # a trusted file


def drop_schema(target: ConnectionOrUrl) -> None:
    """Drop the billing tables and everything in them (the `--reset` of the demo seed)."""
    with connected(target) as conn, conn.transaction():
        for table in reversed(BILLING_TABLES):
            conn.execute(sql.SQL("DROP TABLE IF EXISTS {} CASCADE").format(sql.Identifier(table)))


def table_counts(conn: psycopg.Connection[Any]) -> dict[str, int]:
    """Rows per billing table."""
    query = sql.SQL(" UNION ALL ").join(
        sql.SQL("SELECT {}, count(*) FROM {}").format(sql.Literal(t), sql.Identifier(t))
        for t in BILLING_TABLES
    )
    return dict(conn.execute(query).fetchall())


def copy_rows(
    conn: psycopg.Connection[Any],
    table: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    binary_types: Sequence[str] | None = None,
) -> None:
    """COPY rows into a table; `binary_types` (Postgres type names) selects the binary format,
    which spares large bytea values the text format's hex doubling."""
    statement = sql.SQL("COPY {} ({}) FROM STDIN{}").format(
        sql.Identifier(table),
        sql.SQL(", ").join(map(sql.Identifier, columns)),
        sql.SQL(" (FORMAT BINARY)" if binary_types else ""),
    )
    with conn.cursor() as cur, cur.copy(statement) as copy:
        if binary_types:
            copy.set_types(list(binary_types))
        for row in rows:
            copy.write_row(row)


class BulkLoadError(Exception):
    """Rows loaded in bulk broke a rule of the schema."""


@contextmanager
def bulk_load(conn: psycopg.Connection[Any]) -> Iterator[None]:
    """Load many rows the way pg_restore does, inside the caller's transaction.

    Row-by-row foreign-key checks and the deferred per-document check triggers cost far more
    than the COPY itself, so the foreign keys are dropped and the triggers disabled during the
    load; afterwards the keys are re-added (Postgres validates each with one join) and every
    document is checked by the same function the triggers call, once, set-based. Takes
    exclusive locks on the billing tables: meant for filling a database, not for live use.
    """
    if conn.autocommit and conn.info.transaction_status != TransactionStatus.INTRANS:
        raise BulkLoadError("bulk_load needs a transaction, so a failed load restores the keys")
    tables = list(BILLING_TABLES)
    foreign_keys = conn.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE contype = 'f' AND conrelid = ANY (%s::regclass[]) ORDER BY conrelid, conname",
        [tables],
    ).fetchall()
    check_triggers = conn.execute(
        "SELECT tgrelid::regclass::text, tgname FROM pg_trigger"
        " WHERE NOT tgisinternal AND tgconstraint <> 0 AND tgrelid = ANY (%s::regclass[])",
        [tables],
    ).fetchall()
    for table, name, _ in foreign_keys:
        conn.execute(
            sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(
                sql.Identifier(table), sql.Identifier(name)
            )
        )
    for table, name in check_triggers:
        conn.execute(
            sql.SQL("ALTER TABLE {} DISABLE TRIGGER {}").format(
                sql.Identifier(table), sql.Identifier(name)
            )
        )
    yield
    for table, name, definition in foreign_keys:
        conn.execute(
            sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(
                sql.Identifier(table), sql.Identifier(name), sql.SQL(definition)
            )
        )
    for table, name in check_triggers:
        conn.execute(
            sql.SQL("ALTER TABLE {} ENABLE TRIGGER {}").format(
                sql.Identifier(table), sql.Identifier(name)
            )
        )
    violations = conn.execute(
        "SELECT number, problem FROM billing_document_violations(ARRAY(SELECT id FROM invoices))"
        " LIMIT 5"
    ).fetchall()
    if violations:
        raise BulkLoadError("; ".join(f"{number}: {problem}" for number, problem in violations))
