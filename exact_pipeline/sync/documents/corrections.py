"""Corrections the way accountants make them (settings.yaml `corrections`).

`flag` (the default): a document changed or voided in billing after its entry reached Exact is
flagged by the stage (`changed_after_sync`, `voided_after_sync`) and nothing is posted.

`credit_and_repost`: the push corrects it as a bookkeeper would, in two entries:
1. the REVERSAL: a credit entry of what was POSTED (never rebuilt from billing's newer content):
   the posted lines negated, in the mode the original went in, dated as the original (the two
   net to zero in the same period), with the billing number as YourRef and a Description
   quoting the Exact number it reverses. `sales_entry`: a sales entry with negated amounts
   (SalesEntries has no Remarks); `sales_invoice`: a credit invoice (Type 8021, negated
   quantities, same unit prices; a reversed credit note is an 8020 invoice), its Remarks saying
   why, booked like every invoice (PrintedSalesInvoices, no e-mail). Only fields
   exact-entities.json documents, through the same payload models as every entry;
2. the REPOST: the ledger row goes back to before its entry (keeping its Exact Document, whose
   PDF is replaced if it changed) and the push posts billing's content as a new entry.
A voided document is reversed only (state `skipped_voided`): Exact then nets it to zero, as
billing counts it. A change of the PDF alone (`Hashes.entry` unchanged) replaces the
attachment and touches no entry (push.py).

What was posted is kept before every entry POST (`keep_posted`, table `posted_entries`, keyed
by the content hash the ledger records as `posting_hash`/`synced_hash`), so the reversal of an
entry found after a lost answer negates what that POST sent. A document posted before this
table existed cannot be reversed automatically: it stays flagged, with the manual fix.

Idempotency, as every write (`core.writes.post_once`): each correction is a row of
`ledger_corrections` (per document, numbered, unique per original entry) carrying the
reversal's step (`none`, `entry`, `booked`) and its own in-flight mark. The reversal in doubt is
looked up by YourRef and its Description; the repost's look-up (`entry_key`) skips the entries
the corrections name, as the original and its reversal share its YourRef. A crash between
reversal and repost: the next run finds the correction reversed, resets the row if it was not
yet, and posts the repost once. The document's advisory claim keeps concurrent runs apart.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from psycopg import sql
from psycopg.types.json import Jsonb

from exact_pipeline.billing.models import BillingDocument
from exact_pipeline.exact import ExactClient, ExactError, LookupKey, eq
from exact_pipeline.exact.codes import CREDIT_NOTE_TYPE, INVOICE_TYPE
from exact_pipeline.exact.endpoints import (
    PRINTED_SALES_INVOICES,
    SALES_ENTRIES,
    SALES_INVOICES,
    Endpoint,
)
from exact_pipeline.exact.fields import fit
from exact_pipeline.exact.payloads import (
    Payload,
    PrintPayload,
    SalesEntryPayload,
    SalesInvoicePayload,
)
from exact_pipeline.settings import STATE_SCHEMA
from exact_pipeline.sync.core import ledger as mechanism
from exact_pipeline.sync.core.errors import STOPS_THE_RUN
from exact_pipeline.sync.core.ledger import Connection
from exact_pipeline.sync.core.money import amount_text, exact_text
from exact_pipeline.sync.core.writes import post_once
from exact_pipeline.sync.documents import ledger, verified
from exact_pipeline.sync.documents.hashing import Hashes
from exact_pipeline.sync.documents.ledger import LedgerRow

FLAG, CREDIT_AND_REPOST = "flag", "credit_and_repost"
ENDPOINTS: dict[str, Endpoint[Any]] = {
    "sales_entry": SALES_ENTRIES,
    "sales_invoice": SALES_INVOICES,
}

POSTED = sql.Identifier(STATE_SCHEMA, "posted_entries")
CORRECTIONS = sql.Identifier(STATE_SCHEMA, "ledger_corrections")

DDL = f"""
CREATE SCHEMA IF NOT EXISTS {STATE_SCHEMA};

CREATE TABLE IF NOT EXISTS {STATE_SCHEMA}.posted_entries (
    billing_id   text NOT NULL,
    content_hash text NOT NULL,  -- Hashes.content as POSTed (the ledger's posting/synced_hash)
    entry_hash   text NOT NULL,  -- Hashes.entry: the same content without the PDF
    mode         text NOT NULL,  -- sales_entry | sales_invoice
    body         jsonb NOT NULL, -- the entry POST's body
    kept_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (billing_id, content_hash)
);

CREATE TABLE IF NOT EXISTS {STATE_SCHEMA}.ledger_corrections (
    billing_id            text NOT NULL,
    seq                   integer NOT NULL,
    mode                  text NOT NULL,
    voided                boolean NOT NULL,
    original_entry_id     uuid NOT NULL,
    original_entry_number integer,
    original_hash         text NOT NULL,
    original_total        numeric,
    original_vat          numeric,
    reversal_description  text NOT NULL,
    reversal_step         text NOT NULL DEFAULT 'none',
    in_flight             boolean NOT NULL DEFAULT false,
    reversal_entry_id     uuid,
    reversal_entry_number integer,
    reversal_total        numeric,
    reversal_vat          numeric,
    repost_entry_id       uuid,
    started_at            timestamptz NOT NULL DEFAULT now(),
    reversed_at           timestamptz,
    reposted_at           timestamptz,
    PRIMARY KEY (billing_id, seq),
    UNIQUE (billing_id, original_entry_id)
);
"""


@dataclass(frozen=True)
class Posted:
    """An entry as it was POSTed."""

    billing_id: str
    content_hash: str
    entry_hash: str
    mode: str
    body: dict[str, Any]


@dataclass(frozen=True)
class Correction:
    """One reversal (and its repost) of a document's entry; totals as Exact answered them."""

    billing_id: str
    seq: int
    mode: str
    voided: bool  # billing voided it: reversed only, never reposted
    original_entry_id: UUID
    original_entry_number: int | None
    original_hash: str
    original_total: Decimal | None
    original_vat: Decimal | None
    reversal_description: str
    reversal_step: str  # none | entry | booked (sales_invoice)
    in_flight: bool  # a reversal POST was sent and its outcome not yet recorded
    reversal_entry_id: UUID | None
    reversal_entry_number: int | None
    reversal_total: Decimal | None
    reversal_vat: Decimal | None
    repost_entry_id: UUID | None
    started_at: datetime
    reversed_at: datetime | None
    reposted_at: datetime | None

    def sentence(self, repost_number: int | None = None) -> str:
        """What a person reads in the push report: the entries by their Exact numbers."""
        text = f"entry {_number(self.original_entry_number)} reversed by entry "
        text += _number(self.reversal_entry_number)
        if self.voided:
            return text + " (voided in billing: not reposted)"
        if self.repost_entry_id is None:
            return text + "; the new content is not posted yet"
        return text + f", reposted as entry {_number(repost_number)}"


def _number(number: int | None) -> str:
    return str(number) if number is not None else "(number not read yet)"


def ensure_schema(conn: Connection) -> None:
    mechanism.ensure_schema(conn, "exact_pipeline.sync.corrections", DDL)


# --- what was posted ----------------------------------------------------------------------


def keep_posted(
    conn: Connection, billing_id: str, hashes: Hashes, mode: str, payload: Payload
) -> None:
    """Before an entry POST: what it sends, under the content hash the ledger marks it with."""
    conn.execute(
        sql.SQL(
            "INSERT INTO {} (billing_id, content_hash, entry_hash, mode, body)"
            " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (billing_id, content_hash) DO UPDATE SET"
            " entry_hash = EXCLUDED.entry_hash, mode = EXCLUDED.mode, body = EXCLUDED.body,"
            " kept_at = now()"
        ).format(POSTED),
        [
            billing_id,
            hashes.content,
            hashes.entry,
            mode,
            Jsonb(payload.model_dump(mode="json", exclude_none=True)),
        ],
    )


def posted_entry(conn: Connection, row: LedgerRow) -> Posted | None:
    """What the document's entry in Exact was POSTed with (None: posted before it was kept)."""
    if row.synced_hash is None:
        return None
    query = sql.SQL(
        "SELECT billing_id, content_hash, entry_hash, mode, body FROM {}"
        " WHERE billing_id = %s AND content_hash = %s"
    ).format(POSTED)
    found = mechanism.fetch(conn, Posted, query, [row.billing_id, row.synced_hash])
    return found[0] if found else None


# --- deciding -------------------------------------------------------------------------------


def due(setting: str, row: LedgerRow, document: BillingDocument, hashes: Hashes) -> bool:
    """Whether the push corrects the document: `credit_and_repost`, its entry in Exact, and
    billing voided it (not accepted by a person) or changed what was posted."""
    if setting != CREDIT_AND_REPOST or not row.reached("entry"):
        return False
    voided = document.status == "voided" and not row.void_accepted
    return voided or hashes.content != row.synced_hash


def only_the_pdf_changed(posted: Posted, document: BillingDocument, hashes: Hashes) -> bool:
    """The entry's content is what was posted; only the PDF differs: no entry to correct."""
    return document.status != "voided" and posted.entry_hash == hashes.entry


# --- the ledger of corrections --------------------------------------------------------------


def of_documents(conn: Connection, billing_ids: Sequence[str]) -> dict[str, list[Correction]]:
    """Each document's corrections, oldest first."""
    query = sql.SQL("SELECT {} FROM {} WHERE billing_id = ANY(%s) ORDER BY billing_id, seq").format(
        mechanism.columns(Correction), CORRECTIONS
    )
    found: dict[str, list[Correction]] = {}
    for correction in mechanism.fetch(conn, Correction, query, [list(billing_ids)]):
        found.setdefault(correction.billing_id, []).append(correction)
    return found


def reversed_entries(conn: Connection, billing_ids: Sequence[str]) -> dict[str, set[UUID]]:
    """Per document: the entries its corrections reversed, and their reversals (for the
    monthly reconciliation, which nets them: they are no entries "nobody in billing claims")."""
    return {
        billing_id: {
            entry
            for correction in found
            if correction.reversal_entry_id is not None
            for entry in (correction.original_entry_id, correction.reversal_entry_id)
        }
        for billing_id, found in of_documents(conn, billing_ids).items()
    }


def entry_key(conn: Connection, billing_id: str, number: str, endpoint: Endpoint[Any]) -> LookupKey:
    """How the document's entry is found after a lost answer: by YourRef (the billing number),
    skipping the entries its corrections name (an original and its reversal carry it too)."""
    named = {
        entry
        for correction in of_documents(conn, [billing_id]).get(billing_id, [])
        for entry in (correction.original_entry_id, correction.reversal_entry_id)
        if entry is not None
    }
    if not named:
        return LookupKey.field("YourRef", number)
    key = endpoint.key
    return LookupKey(eq("YourRef", number), accept=lambda record: getattr(record, key) not in named)


def reposted(conn: Connection, billing_id: str, entry_id: UUID) -> None:
    """The document's new entry is in Exact: it completes its reversed correction, if any."""
    conn.execute(
        sql.SQL(
            "UPDATE {} SET repost_entry_id = %s, reposted_at = now() WHERE billing_id = %s"
            " AND reversed_at IS NOT NULL AND repost_entry_id IS NULL AND NOT voided"
        ).format(CORRECTIONS),
        [entry_id, billing_id],
    )


def _update(conn: Connection, correction: Correction, **values: Any) -> Correction:
    written = mechanism.update(
        conn,
        CORRECTIONS,
        Correction,
        sql.SQL("billing_id = %(_id)s AND seq = %(_seq)s"),
        {"_id": correction.billing_id, "_seq": correction.seq},
        values,
        bump=(),
    )
    assert written is not None
    return written


def booked(invoice_id: UUID) -> LookupKey:
    """A sales invoice once booked (Status 50): how its booking is found after a lost answer."""
    return LookupKey(
        f"{eq('InvoiceID', invoice_id)} and Status eq 50",
        endpoint=SALES_INVOICES,
        key_field="InvoiceID",
    )


# --- reversing --------------------------------------------------------------------------------


class Reverser:
    """Posts a document's reversal, once, and puts its ledger row back before its entry."""

    def __init__(self, conn: Connection, exact: ExactClient, now: Callable[[], datetime]) -> None:
        self._conn = conn
        self._exact = exact
        self._now = now

    def reverse(
        self,
        row: LedgerRow,
        posted: Posted,
        document: BillingDocument,
        *,
        voided: bool,
        original_number: int | None,
    ) -> tuple[LedgerRow, Correction]:
        """The correction of `row`'s entry (`posted`), reversed in Exact; the row reset."""
        assert row.entry_id is not None and row.division is not None
        correction = self._open(row, posted, document, voided, original_number)
        endpoint = ENDPOINTS[correction.mode]
        if correction.reversal_step == "none":
            payload = reversal_payload(correction, posted.body, document)
            key = LookupKey(
                eq("YourRef", document.number),
                accept=lambda record: record.Description == correction.reversal_description,
            )
            opened = correction
            created = post_once(
                self._exact,
                row.division,
                endpoint,
                payload.body(),
                key,
                in_doubt=opened.in_flight,
                mark=lambda: _update(self._conn, opened, in_flight=True),
                unmark=lambda: _update(self._conn, opened, in_flight=False),
            )
            correction = _update(
                self._conn,
                correction,
                reversal_step="entry",
                in_flight=False,
                reversal_entry_id=getattr(created, endpoint.key),
                reversal_entry_number=getattr(created, "EntryNumber", None),
                reversal_total=getattr(created, "AmountFC", None),
                reversal_vat=getattr(created, "VATAmountFC", None),
            )
        if correction.mode == "sales_invoice" and correction.reversal_step != "booked":
            day = date.fromisoformat(posted.body["OrderDate"])
            correction = self._book(row.division, correction, day)
        if correction.reversed_at is None:
            correction = _update(self._conn, correction, reversed_at=self._now())
        return self._reset(row), correction

    def _open(
        self,
        row: LedgerRow,
        posted: Posted,
        document: BillingDocument,
        voided: bool,
        original_number: int | None,
    ) -> Correction:
        """The correction of the row's entry: the one an earlier attempt opened, or a new one
        (numbered after the document's earlier corrections)."""
        assert row.entry_id is not None
        seen = verified.seen(self._conn, [row.billing_id]).get(row.billing_id)
        held = seen is not None and seen.entry_id == row.entry_id
        values = {
            "billing_id": row.billing_id,
            "mode": posted.mode,
            "voided": voided,
            "original_entry_id": row.entry_id,
            "original_entry_number": original_number,
            "original_hash": posted.content_hash,
            "original_total": seen.total if held and seen else None,
            "original_vat": seen.vat if held and seen else None,
            "reversal_description": reversal_description(posted.mode, document, original_number),
        }
        names = list(values)
        query = sql.SQL(
            "INSERT INTO {table} (seq, {names}) SELECT coalesce(max(seq), 0) + 1, {values}"
            " FROM {table} WHERE billing_id = %(billing_id)s"
            " ON CONFLICT (billing_id, original_entry_id) DO UPDATE SET voided = EXCLUDED.voided"
            " RETURNING {columns}"
        ).format(
            table=CORRECTIONS,
            names=sql.SQL(", ").join(map(sql.Identifier, names)),
            values=sql.SQL(", ").join(sql.Placeholder(name) for name in names),
            columns=mechanism.columns(Correction),
        )
        (correction,) = mechanism.fetch(self._conn, Correction, query, values)
        return correction

    def _book(self, division: int, correction: Correction, day: date) -> Correction:
        """Book the reversing credit invoice (never e-mailed), then read its number once."""
        invoice = correction.reversal_entry_id
        assert invoice is not None
        opened = correction
        post_once(
            self._exact,
            division,
            PRINTED_SALES_INVOICES,
            PrintPayload(InvoiceID=invoice, InvoiceDate=day).body(),
            booked(invoice),
            in_doubt=opened.in_flight,
            mark=lambda: _update(self._conn, opened, in_flight=True),
            unmark=lambda: _update(self._conn, opened, in_flight=False),
        )
        correction = _update(self._conn, correction, reversal_step="booked", in_flight=False)
        try:
            found = self._exact.list_any(
                division, SALES_INVOICES, "InvoiceID", [invoice], select="InvoiceID,InvoiceNumber"
            )
            number = next((record.InvoiceNumber for record in found), None)
        except STOPS_THE_RUN:
            raise
        except ExactError:
            return correction  # informative only: the report says "not read yet"
        return _update(self._conn, correction, reversal_entry_number=number)

    def _reset(self, row: LedgerRow) -> LedgerRow:
        """The row as before its entry, keeping its Exact Document and attachment: the push
        posts the new content as a new entry (and replaces the PDF if it changed)."""
        if not row.reached("entry"):
            return row  # reset already, by the attempt that reversed it
        step = (
            "attachment" if row.attachment_id else "document" if row.exact_document_id else "none"
        )
        written = ledger.update(
            self._conn,
            row.billing_id,
            step=step,
            entry_id=None,
            entry_number=None,
            synced_hash=None,
            posting_hash=None,
            in_flight=False,
        )
        assert written is not None
        return written


def reversal_description(mode: str, document: BillingDocument, original: int | None) -> str:
    """The reversal's Description: it quotes the Exact number it reverses; it also finds the
    reversal after a lost answer, so it is fixed when the correction opens."""
    what = "entry" if mode == "sales_entry" else "invoice"
    header = "SalesEntries" if mode == "sales_entry" else "SalesInvoices"
    reversed_ = f"{what} {original}" if original is not None else f"the {what}"
    text = f"Reversal of {reversed_} for {document.number}"
    return fit(header, "Description", text) or document.number


def reversal_payload(
    correction: Correction, body: dict[str, Any], document: BillingDocument
) -> Payload:
    """The posted entry (`body`) with every amount negated: what an accountant books to cancel
    it. The reversal links no PDF (the original holds it)."""
    reversal = {k: v for k, v in body.items() if k != "Document"}
    reversal["Description"] = correction.reversal_description
    if correction.mode == "sales_entry":
        reversal["VATAmountFC"] = _negated(body["VATAmountFC"])
        reversal["SalesEntryLines"] = [
            line | {name: _negated(line[name]) for name in ("AmountFC", "VATAmountFC", "Quantity")}
            for line in body["SalesEntryLines"]
        ]
        return SalesEntryPayload.model_validate(reversal)
    reversal["Type"] = INVOICE_TYPE if body["Type"] == CREDIT_NOTE_TYPE else CREDIT_NOTE_TYPE
    why = "voided" if correction.voided else "corrected"
    reversal["Remarks"] = (
        f"Reverses Exact invoice {_number(correction.original_entry_number)} "
        f"(billing {document.number}), {why} in billing"
        + ("." if correction.voided else "; the corrected document follows as a new invoice.")
    )
    reversal["SalesInvoiceLines"] = [
        line | {name: _negated(line[name]) for name in ("Quantity", "VATAmountFC")}
        for line in body["SalesInvoiceLines"]
    ]
    return SalesInvoicePayload.model_validate(reversal)


def _negated(value: str | int) -> Decimal:
    return Decimal(0) - Decimal(value)  # never "-0.00"


# --- reconciling ----------------------------------------------------------------------------


def unbalanced(conn: Connection, rows: Sequence[LedgerRow]) -> list[dict[str, Any]]:
    """`totals_match_exact`'s rows for corrections whose reversal, as Exact answered it, does
    not cancel the entry it reverses (total or VAT): Exact's totals would then not be
    billing's even with the repost equal to it."""
    by_id = {row.billing_id: row for row in rows}
    differences = []
    for billing_id, found in of_documents(conn, list(by_id)).items():
        row = by_id[billing_id]
        for correction in found:
            if correction.reversed_at is None or correction.original_total is None:
                continue
            total = (correction.original_total or 0) + (correction.reversal_total or 0)
            vat = (correction.original_vat or 0) + (correction.reversal_vat or 0)
            if total == 0 and vat == 0:
                continue
            differences.append(
                {
                    "number": row.number,
                    "division": row.division,
                    "billing_total": amount_text(0, row.currency),
                    "exact_total": exact_text(Decimal(total), row.currency),
                    "billing_vat": amount_text(0, row.currency),
                    "exact_vat": exact_text(Decimal(vat), row.currency),
                    "explanation": (
                        f"correction {correction.seq}: entry "
                        f"{_number(correction.original_entry_number)} and its reversal "
                        f"{_number(correction.reversal_entry_number)} do not "
                        "cancel out in Exact (one edited there by hand?)"
                    ),
                }
            )
    return differences
