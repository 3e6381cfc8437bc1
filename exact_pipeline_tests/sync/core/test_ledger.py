"""The ledger mechanism both domains share: a write returns the row it wrote (`RETURNING`), so
no step reads a row again after writing it; a write that loses to another run returns None.
Real Postgres."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import psycopg

from exact_pipeline.sync.documents import ledger
from exact_pipeline.sync.payments import ledger as payment_ledger

ISSUED = datetime(2026, 11, 20, 9, tzinfo=UTC)


def staged_values(billing_id: str) -> dict[str, Any]:
    return {
        "billing_id": billing_id,
        "number": "INV-1",
        "document_type": "invoice",
        "entity_id": "ent_nl",
        "division": 310001,
        "customer_id": "cus_1",
        "customer_name": "Klant",
        "issued_at": ISSUED,
        "partition_date": date(2026, 11, 20),
        "currency": "EUR",
        "line_count": 1,
        "amount": 9900,
        "vat": 2079,
        "total": 11979,
        "state": ledger.STAGED,
        "block_kind": None,
        "payload_hash": "h1",
        "mapping_fingerprint": "f1",
        "last_error": None,
        "source_digest": None,
    }


def test_document_writes_return_the_row_they_wrote(state_url: str) -> None:
    with psycopg.connect(state_url, autocommit=True) as conn:
        ledger.ensure_schema(conn)
        inserted = ledger.stage(conn, staged_values("doc_1"), None)
        assert inserted == ledger.document(conn, "doc_1")
        assert inserted is not None and (inserted.state, inserted.version) == ("staged", 0)
        # Another run inserted it first: nothing written, nothing returned.
        assert ledger.stage(conn, staged_values("doc_1") | {"payload_hash": "h2"}, None) is None

        blocked = ledger.update(conn, "doc_1", state=ledger.BLOCKED, last_error="why")
        assert blocked == ledger.document(conn, "doc_1")
        assert blocked is not None and (blocked.state, blocked.version) == ("blocked", 1)
        assert blocked.payload_hash == "h1" and blocked.updated_at >= inserted.updated_at

        # A row changed since it was read (version 0) is left to the run that changed it.
        assert ledger.stage(conn, staged_values("doc_1"), expected_version=0) is None
        restaged = ledger.stage(conn, staged_values("doc_1"), expected_version=1)
        assert restaged is not None and (restaged.state, restaged.version) == ("staged", 2)
        assert ledger.update(conn, "doc_unknown", state=ledger.STAGED) is None


def test_payment_writes_return_the_row_they_wrote(state_url: str) -> None:
    with psycopg.connect(state_url, autocommit=True) as conn:
        payment_ledger.ensure_schema(conn)
        key = payment_ledger.push_key("pay_1")
        waiting = payment_ledger.save(
            conn,
            key,
            direction=payment_ledger.PUSH,
            payment_id="pay_1",
            state=payment_ledger.WAITING,
            reason="its invoice is not in Exact yet",
        )
        assert waiting == payment_ledger.row(conn, key)
        assert (waiting.state, waiting.payment_id) == ("waiting", "pay_1")
        again = payment_ledger.save(
            conn, key, direction=payment_ledger.PUSH, state=payment_ledger.FAILED, reason=None
        )
        assert again == payment_ledger.row(conn, key)
        assert (again.state, again.payment_id, again.reason) == ("failed", "pay_1", None)
        done = payment_ledger.update(conn, key, state=payment_ledger.PUSHED, in_flight=False)
        assert done == payment_ledger.row(conn, key) and done is not None
        assert done.state == "pushed"
        assert payment_ledger.update(conn, "billing:nobody", state="pushed") is None
