"""What the sync engine reads from the billing database.

Every function takes an open psycopg 3 connection and runs a fixed number of set-based queries,
whatever the number of rows: `read_documents` runs four (documents, lines, PDFs, payments;
three without payments; plus one, the first time on a connection, asking which optional line
columns the database has), `changes_since` two (the database's horizon, then the changes), the
others one.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from weakref import WeakKeyDictionary

import psycopg

from exact_pipeline.billing.models import (
    BillingDocument,
    Customer,
    DocumentChange,
    DocumentLine,
    DocumentPdf,
    InvoicingEntity,
    Payment,
    Product,
    TaxRate,
)

Connection = psycopg.Connection[Any]
T = TypeVar("T")

# The first columns of _DOCUMENTS, by their BillingDocument field names.
_DOCUMENT_FIELDS = (
    "id",
    "number",
    "type",
    "status",
    "currency",
    "issued_at",
    "due_at",
    "amount_excluding_tax",
    "tax_amount",
    "total_amount",
    "original_invoice_id",
    "original_invoice_number",
    "purchase_order",
    "created_at",
    "updated_at",
)
_OWN = slice(len(_DOCUMENT_FIELDS))
_ENTITY = slice(_OWN.stop, _OWN.stop + 5)  # then the entity's columns
_CUSTOMER = slice(_ENTITY.stop, None)  # and the customer's, in their models' field order
_DOCUMENTS = """
SELECT d.id, d.number, d.type, d.status, d.currency, d.issued_at, d.due_at,
       d.amount_excluding_tax, d.tax_amount, d.total_amount, d.original_invoice_id, o.number,
       d.purchase_order, d.created_at, d.updated_at,
       e.id, e.name, e.country, e.currency, e.timezone,
       c.id, c.name, c.email, c.vat_number, c.address_line1, c.address_line2, c.zip, c.city,
       c.country, c.created_at, c.updated_at
FROM invoices d
JOIN invoicing_entities e ON e.id = d.invoicing_entity_id
JOIN customers c ON c.id = d.customer_id
LEFT JOIN invoices o ON o.id = d.original_invoice_id
WHERE d.issued_at >= %(start)s AND d.issued_at < %(end)s AND d.status <> 'draft'
  AND (%(ids)s::text[] IS NULL OR d.id = ANY (%(ids)s))
ORDER BY d.issued_at, d.id
"""

_LINES = """
SELECT l.invoice_id, l.id, l.position, p.id, p.name, l.description, l.quantity, l.unit_amount,
       l.amount_excluding_tax, t.id, t.invoicing_entity_id, t.name, t.rate, l.tax_amount,
       {optional}
FROM invoice_lines l
JOIN tax_rates t ON t.id = l.tax_rate_id
LEFT JOIN products p ON p.id = l.product_id
WHERE l.invoice_id = ANY (%(ids)s)
ORDER BY l.invoice_id, l.position
"""

_PDFS = "SELECT invoice_id, file_name, content FROM invoice_pdfs WHERE invoice_id = ANY (%(ids)s)"

_PAYMENTS = """
SELECT p.id, p.invoice_id, d.number, d.type, d.invoicing_entity_id, d.customer_id, p.amount,
       p.currency, p.paid_at, p.method, p.source, p.external_id, p.created_at
FROM payments p
JOIN invoices d ON d.id = p.invoice_id
WHERE {where}
ORDER BY p.paid_at, p.id
"""

_CHANGES = """
SELECT id, number, type, status, invoicing_entity_id, issued_at, updated_at
FROM invoices
WHERE status <> 'draft' AND (updated_at, id) > (%(updated_at)s, %(id)s)
  AND (id, updated_at) NOT IN (
      SELECT * FROM unnest(%(seen_ids)s::text[], %(seen_stamps)s::timestamptz[]))
ORDER BY updated_at, id
LIMIT %(limit)s
"""


def _check_window(start: datetime, end: datetime) -> dict[str, datetime]:
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("window bounds must be timezone-aware (a partition's day in its zone)")
    if end < start:
        raise ValueError(f"window ends ({end}) before it starts ({start})")
    return {"start": start, "end": end}


def read_documents(
    conn: Connection,
    start: datetime,
    end: datetime,
    *,
    with_payments: bool = True,
    ids: list[str] | None = None,
) -> list[BillingDocument]:
    """Finalized invoices and credit notes issued in [start, end) (and, given `ids`, among
    them), ordered by issue time.

    Drafts are left out (they never sync). Voided documents are included, with their status:
    whether a voided document still needs posting (or reversing) is the sync layer's call.
    Without `with_payments`, each has none (one query fewer: the document sync needs none).
    """
    headers = _read_headers(conn, start, end, ids)
    if not headers:
        return []
    ids = [header.id for header in headers]
    lines = _lines_by_document(conn, ids)
    # Binary: the PDFs' bytes as they are, not twice their size in hex to decode.
    with conn.cursor(binary=True) as cursor:
        pdfs = {
            doc_id: DocumentPdf(file_name, bytes(content))
            for doc_id, file_name, content in cursor.execute(_PDFS, {"ids": ids}).fetchall()
        }
    payments: dict[str, list[Payment]] = defaultdict(list)
    if with_payments:
        for payment in _payments(conn, "p.invoice_id = ANY (%(ids)s)", {"ids": ids}):
            payments[payment.invoice_id].append(payment)
    documents = []
    for header in headers:
        doc_id = header.id
        documents.append(
            BillingDocument(
                **header.fields,
                entity=header.entity,
                customer=header.customer,
                lines=tuple(lines.get(doc_id, ())),
                pdf=pdfs.get(doc_id),
                payments=tuple(payments.get(doc_id, ())),
            )
        )
    return documents


@dataclass(frozen=True, slots=True)
class _Header:
    """A document's own columns (`BillingDocument`'s, in `_DOCUMENT_FIELDS` order), its
    entity, its customer."""

    own: tuple[Any, ...]
    entity: InvoicingEntity
    customer: Customer

    @property
    def id(self) -> str:
        return self.own[0]  # type: ignore[no-any-return]

    @property
    def fields(self) -> dict[str, Any]:
        return dict(zip(_DOCUMENT_FIELDS, self.own, strict=True))


def _read_headers(
    conn: Connection, start: datetime, end: datetime, ids: list[str] | None = None
) -> list[_Header]:
    """What `read_documents` reads of each document before its lines, PDF and payments."""
    params = _check_window(start, end) | {"ids": ids}
    entities: dict[str, InvoicingEntity] = {}
    customers: dict[str, Customer] = {}
    headers = []
    for row in conn.execute(_DOCUMENTS, params).fetchall():
        entity_row, customer_row = row[_ENTITY], row[_CUSTOMER]
        # One object per entity and customer, however many documents share it.
        entity = entities.get(entity_row[0]) or entities.setdefault(
            entity_row[0], InvoicingEntity(*entity_row)
        )
        customer = customers.get(customer_row[0]) or customers.setdefault(
            customer_row[0], Customer(*customer_row)
        )
        headers.append(_Header(row[_OWN], entity, customer))
    return headers


# Line columns of later billing schemas, each a date: a database made before them (the
# contract's older version) has none, and its lines are read with None for them.
_OPTIONAL_LINE_COLUMNS = ("period_start", "period_end")
_OPTIONAL_PRESENT = """
SELECT attname FROM pg_attribute
WHERE attrelid = 'invoice_lines'::regclass AND attname = ANY (%(names)s)
  AND attnum > 0 AND NOT attisdropped
"""
# Per connection: a run reads many windows on one connection, and a schema does not gain
# columns under an open run often enough to ask before every read.
_line_columns: WeakKeyDictionary[Connection, str] = WeakKeyDictionary()


def optional_line_columns(conn: Connection) -> str:
    """The select list of the optional line columns: each column the database has, else NULL."""
    columns = _line_columns.get(conn)
    if columns is None:
        rows = conn.execute(_OPTIONAL_PRESENT, {"names": list(_OPTIONAL_LINE_COLUMNS)})
        present = {row[0] for row in rows}
        columns = _line_columns[conn] = ", ".join(
            f"l.{name}" if name in present else "NULL::date" for name in _OPTIONAL_LINE_COLUMNS
        )
    return columns


def _lines_by_document(conn: Connection, ids: list[str]) -> dict[str, list[DocumentLine]]:
    products: dict[str, Product] = {}
    tax_rates: dict[str, TaxRate] = {}
    lines: dict[str, list[DocumentLine]] = defaultdict(list)
    query = _LINES.format(optional=optional_line_columns(conn))
    for row in conn.execute(query, {"ids": ids}).fetchall():  # cheaper than row by row
        product = None
        if row[3] is not None:
            product = products.get(row[3]) or products.setdefault(row[3], Product(*row[3:5]))
        tax_rate = tax_rates.get(row[9]) or tax_rates.setdefault(row[9], TaxRate(*row[9:13]))
        lines[row[0]].append(
            DocumentLine(
                id=row[1],
                position=row[2],
                product=product,
                description=row[5],
                quantity=row[6],
                unit_amount=row[7],
                amount_excluding_tax=row[8],
                tax_rate=tax_rate,
                tax_amount=row[13],
                period_start=row[14],
                period_end=row[15],
            )
        )
    return lines


def _payments(conn: Connection, where: str, params: dict[str, Any]) -> list[Payment]:
    return [Payment(*row) for row in conn.execute(_PAYMENTS.format(where=where), params)]  # type: ignore[arg-type]


def read_payments(conn: Connection, start: datetime, end: datetime) -> list[Payment]:
    """Payments whose `paid_at` is in [start, end), from either source, ordered by `paid_at`.

    Each carries its document's number, type, entity and customer; a payment on a credit note
    is a refund. The sync layer picks the source it pushes or skips.
    """
    return _payments(
        conn, "p.paid_at >= %(start)s AND p.paid_at < %(end)s", _check_window(start, end)
    )


def read_payments_recorded(conn: Connection, since: datetime) -> list[Payment]:
    """Billing's own payments (source `billing`) recorded (`created_at`) at or after `since`,
    whatever their `paid_at`: a payment booked today for an earlier day is among them."""
    return _payments(conn, "p.source = 'billing' AND p.created_at >= %(since)s", {"since": since})


def database_now(conn: Connection) -> datetime:
    """The billing database's clock (the start of the connection's transaction)."""
    row = conn.execute("SELECT now()").fetchone()
    assert row is not None
    return row[0]  # type: ignore[no-any-return]


@dataclass(frozen=True, slots=True, order=True)
class ChangeMark:
    """A high-water mark over changes to finalized documents: (updated_at, id), in that order.

    `str(mark)` gives the form a Dagster sensor cursor holds; `ChangeMark.parse` reads it back.
    """

    updated_at: datetime
    id: str

    def __str__(self) -> str:
        return f"{self.updated_at.astimezone(UTC).isoformat(timespec='microseconds')}|{self.id}"

    @classmethod
    def parse(cls, text: str) -> ChangeMark:
        stamp, bar, doc_id = text.partition("|")
        updated_at = datetime.fromisoformat(stamp)
        if updated_at.tzinfo is None or not bar:  # a floor's id may be "" (before any id)
            raise ValueError(f"not a change mark: {text!r}")
        return cls(updated_at, doc_id)


# How far behind the highest change read the sensor keeps looking: a writer's transaction that
# stamped `updated_at` up to this long before it committed is still seen. Longer transactions
# are seen too while Postgres shows their start (`pg_stat_activity`, to a role allowed to).
LATE_COMMIT_OVERLAP = timedelta(minutes=15)
# The most changes a cursor remembers above its floor (they are what keeps it from requesting
# a change twice); a burst beyond this moves the floor up instead of growing the cursor.
SEEN_AT_MOST = 1000

_HORIZON = """
SELECT now(),
       (SELECT min(xact_start) FROM pg_stat_activity
        WHERE datname = current_database() AND backend_xid IS NOT NULL
          AND pid <> pg_backend_pid())
"""


@dataclass(frozen=True, slots=True)
class ChangeCursor:
    """Where a reader of changes stands: every change at or below `floor` is behind it, and
    those above it that it has already returned are `seen` (by id and version, `updated_at`).

    The floor stays `LATE_COMMIT_OVERLAP` behind the highest change read, behind the start of
    the oldest transaction still writing, and behind the database's `now()`: a change
    committed late with an earlier stamp, or one committed after a row dated in the future,
    is still above it and not seen yet. `str(cursor)` is what a Dagster sensor cursor holds.
    """

    floor: ChangeMark
    seen: frozenset[ChangeMark] = frozenset()

    def __str__(self) -> str:
        return json.dumps({"floor": str(self.floor), "seen": sorted(map(str, self.seen))})

    @classmethod
    def parse(cls, text: str) -> ChangeCursor:
        """Also reads the bare mark of earlier versions (everything up to it was read)."""
        if not text.startswith("{"):
            return cls(ChangeMark.parse(text))
        data = json.loads(text)
        return cls(ChangeMark.parse(data["floor"]), frozenset(map(ChangeMark.parse, data["seen"])))

    def after(
        self,
        changes: list[DocumentChange],
        now: datetime,
        oldest_writer: datetime | None,
        full: bool,
    ) -> ChangeCursor:
        """The cursor once `changes` (read from this one; `full`: as many as were asked for)
        have been returned, at the database's `now` with its oldest open writer."""
        seen = self.seen | {ChangeMark(c.updated_at, c.id) for c in changes}
        high = max((m.updated_at for m in seen), default=self.floor.updated_at)
        bound = min(high, now, oldest_writer or now) - LATE_COMMIT_OVERLAP
        floor = max(self.floor, ChangeMark(bound, ""))
        kept = sorted(m for m in seen if m > floor)
        if len(kept) > SEEN_AT_MOST:
            floor = kept[-SEEN_AT_MOST - 1]
            if full:  # never past a change not returned yet: they all follow the last one read
                floor = min(floor, ChangeMark(changes[-1].updated_at, changes[-1].id))
            kept = [m for m in kept if m > floor]
        return ChangeCursor(floor, frozenset(kept))


@dataclass(frozen=True, slots=True)
class ChangeBatch:
    changes: list[DocumentChange]  # in (updated_at, id) order, each returned once
    cursor: ChangeCursor  # to read the next batch from

    @property
    def mark(self) -> ChangeMark | None:
        """The highest change of the batch; None when it is empty."""
        last = self.changes[-1] if self.changes else None
        return ChangeMark(last.updated_at, last.id) if last else None


def change_head(conn: Connection) -> ChangeMark | None:
    """The latest change to a finalized document; None while there is none."""
    row = conn.execute(
        "SELECT updated_at, id FROM invoices WHERE status <> 'draft'"
        " ORDER BY updated_at DESC, id DESC LIMIT 1"
    ).fetchone()
    return ChangeMark(*row) if row else None


def changes_since(
    conn: Connection, cursor: ChangeCursor | str | None, limit: int = 1000
) -> ChangeBatch:
    """Finalized documents changed after `cursor` and not returned from it yet (all of them for
    None), at most `limit`, with the cursor to read on from.

    `updated_at` is stamped in the writer's transaction, which may commit after a later one:
    the cursor keeps an overlap behind the highest change (see `ChangeCursor`), and the
    changes it has seen there are skipped by id and version, so none is returned twice.
    """
    if isinstance(cursor, str):
        cursor = ChangeCursor.parse(cursor)
    cursor = cursor or ChangeCursor(ChangeMark(datetime.min.replace(tzinfo=UTC), ""))
    # First the horizon, then the changes: a writer not open at the horizon started after it.
    now, oldest_writer = conn.execute(_HORIZON).fetchone() or (None, None)
    seen = sorted(cursor.seen)
    rows = conn.execute(
        _CHANGES,
        {
            "updated_at": cursor.floor.updated_at,
            "id": cursor.floor.id,
            "seen_ids": [m.id for m in seen],
            "seen_stamps": [m.updated_at for m in seen],
            "limit": limit,
        },
    ).fetchall()
    changes = [DocumentChange(*row) for row in rows]
    return ChangeBatch(changes, cursor.after(changes, now, oldest_writer, len(changes) == limit))


def start_of_changes(conn: Connection) -> ChangeCursor:
    """A cursor at the head of billing's changes: what is there now counts as read (the
    changes in the overlap are remembered as seen), what commits from now on does not."""
    now = database_now(conn)
    head = change_head(conn)
    stamp = min(head.updated_at, now) if head else now
    start = ChangeCursor(ChangeMark(stamp - LATE_COMMIT_OVERLAP, ""))
    return changes_since(conn, start, limit=SEEN_AT_MOST).cursor


def read_entities(conn: Connection) -> list[InvoicingEntity]:
    return _all(
        conn,
        InvoicingEntity,
        "SELECT id, name, country, currency, timezone FROM invoicing_entities",
    )


def read_tax_rates(conn: Connection) -> list[TaxRate]:
    return _all(conn, TaxRate, "SELECT id, invoicing_entity_id, name, rate FROM tax_rates")


def read_products(conn: Connection) -> list[Product]:
    return _all(conn, Product, "SELECT id, name FROM products")


def _all(conn: Connection, model: type[T], query: str) -> list[T]:
    return [model(*row) for row in conn.execute(f"{query} ORDER BY id")]  # type: ignore[arg-type]
