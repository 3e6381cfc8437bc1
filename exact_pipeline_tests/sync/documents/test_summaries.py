"""Staging from summaries (issue 13.5): Postgres writes the content hash's text around the PDF,
so a stage builds no object per line and keeps no PDF; the digests, and so every ledger value,
are those of the document read whole, down to the characters and numbers Python and Postgres
print differently. Real Postgres."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

import psycopg
import pytest

from exact_pipeline.billing.models import BillingDocument
from exact_pipeline.billing.read import read_documents
from exact_pipeline.sync.documents import engine, ledger
from exact_pipeline.sync.documents.hashing import ascii_json, hashes
from exact_pipeline.sync.documents.staging import prepare, stage_values
from exact_pipeline.sync.documents.summaries import fetch_summaries, summarise, unsummarised
from exact_pipeline.sync.documents.transform import blocking
from exact_pipeline_tests.sync.builder import AMSTERDAM, DAY, Billing, day_window, pdf_bytes
from exact_pipeline_tests.sync.conftest import EngineFactory, MappingFolder
from exact_pipeline_tests.sync.documents.test_partial_pushes import correct, known_customer

TAX = "tax_nl_21"
TEAM = ("prod_team", "1", 9900, TAX)
# Texts Python and Postgres escape differently in JSON (from U+007F up; astral characters as
# surrogate pairs), and those both escape (quotes, backslashes, control characters).
# A backslash before an `x` or a `U` is text, not an escape.
AWKWARD = 'Café – “quoted” "plain" back\\slash C:\\xe9 \\U0001f9fe \x01\t\n del\x7f receipt 🧾'


def edge_cases(billing: Billing) -> dict[str, BillingDocument]:
    customer = known_customer(billing)
    made = {
        "plain": billing.document("INV-1", customer, [TEAM]),
        "texts": billing.document(
            "INV-2",
            customer,
            [TEAM, (None, "1", 250, "tax_nl_21")],
            descriptions=[AWKWARD, "Ajustement – déjà vu"],
            purchase_order="PO–ü",
        ),
        "numbers": billing.document(
            "INV-3",
            customer,
            [
                ("prod_team", Decimal("1.500"), Decimal("18.5"), "tax_nl_21"),
                ("prod_team", Decimal("0.000001"), Decimal("100"), "tax_nl_21"),
                ("prod_team", Decimal("0.0000000"), Decimal("100"), "tax_nl_21"),
            ],
        ),
        "tiny": billing.document(
            "INV-4", customer, [("prod_team", Decimal("0.00000012"), 100, "tax_nl_21")]
        ),
        "no pdf": billing.document("INV-5", customer, [TEAM], with_pdf=False),
        "unmapped": billing.document("INV-6", customer, [("prod_beta_ai", "1", 100, "tax_nl_21")]),
        "voided": billing.document("INV-7", customer, [TEAM], status="voided"),
    }
    made["credit note"] = billing.document("CN-1", customer, [TEAM], original=made["plain"])
    made["no lines"] = billing.document("INV-8", customer, [])
    # Microseconds (written only when some), in both moments; no due date.
    issued = datetime.combine(DAY, time(11, 0, 0, 123), AMSTERDAM)
    made["moments"] = billing.document("INV-10", customer, [TEAM], issued=issued)
    billing.execute(
        "UPDATE invoices SET due_at = due_at + interval '0.5 seconds' WHERE id = %s",
        made["moments"].id,
    )
    billing.execute("UPDATE invoices SET due_at = NULL WHERE id = %s", made["no lines"].id)
    billing.execute(
        "UPDATE invoice_lines SET period_start = %s WHERE invoice_id = %s",
        date(2026, 11, 1),
        made["plain"].id,
    )
    billing.execute(
        "UPDATE invoice_pdfs SET file_name = %s WHERE invoice_id = %s",
        "Factuur “2” – é.pdf",
        made["texts"].id,
    )
    return made


def test_postgres_json_made_ascii_is_what_json_writes() -> None:
    """`ascii_json` turns JSON that escapes only below U+007F (Postgres's `to_json`, here
    `json`'s ensure_ascii=False, which escapes the same) into `json`'s ASCII form, for any mix
    of backslashes, `x`, `U`, hex digits, Latin-1, BMP and astral characters, DEL and controls."""
    alphabet = [
        "a",
        "\\",
        "x",
        "U",
        "0",
        "1",
        "e",
        "f",
        "é",
        "ÿ",
        "€",
        "Ā",
        "🧾",
        "\x7f",
        '"',
        "\n",
        "\x01",
    ]
    draw = random.Random(13)
    texts = ["".join(draw.choices(alphabet, k=draw.randint(0, 14))) for _ in range(20_000)]
    for text in [*texts, AWKWARD]:
        for value in (text, [text, "é", None]):
            postgres_like = json.dumps(value, ensure_ascii=False)
            assert ascii_json(postgres_like) == json.dumps(value).encode(), repr(text)


@pytest.mark.parametrize("zone", ["UTC", "Europe/Amsterdam", "America/St_Johns"])
def test_summaries_hash_every_document_as_read_whole(billing: Billing, zone: str) -> None:
    """In the session's time zone, which psycopg reads moments in: whole hours, and half
    hours west of Greenwich; for a document of 1890, the local mean times of Amsterdam
    (+00:19:32) and St. John's (-03:30:52)."""
    made = edge_cases(billing)
    old = datetime(1890, 1, 1, 12, 0, 0, 500000, UTC)
    made["1890"] = billing.document("INV-1890", made["plain"].customer, [TEAM], issued=old)
    read, whole, documents = [], [], {}
    with psycopg.connect(billing.url, options=f"-c TimeZone={zone}") as conn:
        for window in (day_window(), day_window(date(1890, 1, 1))):
            rows = fetch_summaries(conn, window.start, window.end)
            read += summarise(rows)
            whole += unsummarised(rows)
            documents |= {d.id: d for d in read_documents(conn, window.start, window.end)}
    # Python prints a quantity below 10⁻⁶ with an exponent: only those are read whole. The
    # moments, a local mean time's offset seconds included, Python writes on both roads.
    expected = {made["tiny"].id, made["numbers"].id}
    assert set(whole) == expected
    assert {s.id for s in read} | set(whole) == set(documents)
    assert len(read) == len(documents) - len(expected)
    for summary in read:
        document = documents[summary.id]
        assert summary.content_hash == hashes(document).content, document.number
        assert summary.line_keys == document.line_keys
        assert (summary.pdf_size, summary.line_count) == (document.pdf_size, document.line_count)


def test_a_summary_stages_the_values_of_the_document_read_whole(
    billing: Billing, make_engine: EngineFactory
) -> None:
    made = edge_cases(billing)
    too_large = billing.document("INV-9", made["plain"].customer, [TEAM])
    large = pdf_bytes("INV-9") + b"\0" * (10 * 1024 * 1024)  # over Exact's 10 MB as it is
    billing.execute(
        "UPDATE invoice_pdfs SET content = %s WHERE invoice_id = %s", large, too_large.id
    )
    window = day_window()
    mappings = make_engine().mappings
    fingerprint = mappings.fingerprint()
    with psycopg.connect(billing.url) as conn:
        read = summarise(fetch_summaries(conn, window.start, window.end))
        documents = {d.id: d for d in read_documents(conn, window.start, window.end)}
    for summary in read:
        whole = prepare(documents[summary.id], mappings)
        assert blocking(summary, mappings) == whole.blocked
        from_summary = stage_values(
            summary, summary.content_hash, blocking(summary, mappings), None, mappings, fingerprint
        )
        from_whole = stage_values(
            whole.document, whole.hashes.content, whole.blocked, None, mappings, fingerprint
        )
        assert from_summary == from_whole
    staged = list(map(_staged(mappings, fingerprint), read))
    states = {v["number"]: v["state"] for v in staged}
    assert states["INV-6"] == "blocked" and states["INV-7"] == "skipped_voided"
    assert states["INV-8"] == "blocked"  # no lines
    # Its PDF named in the reason, as when read whole.
    reasons = {v["number"]: v["last_error"] for v in staged}
    assert states["INV-9"] == "blocked" and "its PDF INV-9.pdf (invoice_pdfs" in reasons["INV-9"]


def _staged(mappings: Any, fingerprint: str) -> Callable[[Any], dict[str, Any]]:
    def values(summary: Any) -> dict[str, Any]:
        blocked = blocking(summary, mappings)
        return stage_values(summary, summary.content_hash, blocked, None, mappings, fingerprint)

    return values


def test_a_stage_reads_whole_only_what_it_previews_or_cannot_hash(
    billing: Billing, make_engine: EngineFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = edge_cases(billing)
    read_whole: list[str] = []
    real = engine.read_documents

    def counting(*args: Any, **kwargs: Any) -> list[BillingDocument]:
        documents = real(*args, **kwargs)
        read_whole.extend(d.number for d in documents)
        return documents

    monkeypatch.setattr(engine, "read_documents", counting)
    monkeypatch.setattr(engine, "PREVIEW_DOCUMENTS", 1)
    report = make_engine().stage(day_window())
    assert report.documents == len(made)
    first = report.rows[0]["number"]
    assert set(read_whole) == {"INV-3", "INV-4", first} and len(read_whole) == 3
    assert set(report.lines) <= {first}


def test_a_stage_reads_only_what_changed_since_it_was_staged(
    billing: Billing,
    make_engine: EngineFactory,
    mapping_folder: MappingFolder,
    monkeypatch: pytest.MonkeyPatch,
    state_url: str,
) -> None:
    """Billing's rows carry their versions (`xmin`): a document whose rows, customer, lines and
    PDF are those its ledger row was staged from, with the same mapping tables, and whose row
    nothing else wrote since, is not read at all; any change makes it read again (and written
    only when its row changes, or to confirm a row something else wrote)."""
    customers = [billing.customer(f"cus_{n}", f"Klant {n}") for n in range(6)]
    made = [billing.document(f"INV-{n}", customers[n], [TEAM, TEAM]) for n in range(6)]
    summarized: list[str] = []
    real = engine.summarise

    def counting(*args: Any, **kwargs: Any) -> Any:
        read = real(*args, **kwargs)
        summarized.extend(s.number for s in read)
        return read

    monkeypatch.setattr(engine, "summarise", counting)
    make_engine().stage(day_window())
    assert sorted(summarized) == [f"INV-{n}" for n in range(6)]
    summarized.clear()
    make_engine().stage(day_window())
    assert summarized == []  # nothing read, nothing written

    before = {row.number: row for row in make_engine().ledger_rows(day_window())}
    line = made[0].lines[1]
    billing.execute(
        "UPDATE invoice_lines SET description = 'Team plan, again' WHERE id = %s", line.id
    )
    billing.execute(
        "UPDATE invoice_pdfs SET content = content || 'x'::bytea WHERE invoice_id = %s", made[1].id
    )
    billing.execute("UPDATE customers SET name = 'Klant twee' WHERE id = %s", customers[2].id)
    dropped = made[3].lines[1]
    with psycopg.connect(billing.url) as conn:  # one transaction: billing checks the sums
        conn.execute("DELETE FROM invoice_lines WHERE id = %s", [dropped.id])
        conn.execute(
            "UPDATE invoices SET amount_excluding_tax = amount_excluding_tax - %s,"
            " tax_amount = tax_amount - %s, total_amount = total_amount - %s WHERE id = %s",
            [
                dropped.amount_excluding_tax,
                dropped.tax_amount,
                dropped.amount_excluding_tax + dropped.tax_amount,
                made[3].id,
            ],
        )
    with psycopg.connect(state_url, autocommit=True) as conn:  # as a push writes a row
        ledger.update(conn, made[4].id, attempts=1)
    make_engine().stage(day_window())
    assert sorted(summarized) == ["INV-0", "INV-1", "INV-2", "INV-3", "INV-4"]
    after = {row.number: row for row in make_engine().ledger_rows(day_window())}
    assert after["INV-0"].payload_hash != before["INV-0"].payload_hash
    assert after["INV-1"].payload_hash != before["INV-1"].payload_hash
    assert after["INV-2"].customer_name == "Klant twee"
    assert after["INV-3"].line_count == 1
    # Written by the push, then confirmed by the stage: one write, and none the next time.
    assert after["INV-4"].version == before["INV-4"].version + 2
    assert after["INV-5"].version == before["INV-5"].version
    summarized.clear()
    make_engine().stage(day_window())
    assert summarized == []

    mapping_folder.setting("freshness_minutes", "90")  # other mapping tables: all read again
    make_engine().stage(day_window())
    assert sorted(summarized) == [f"INV-{n}" for n in range(6)]


def test_a_day_is_read_in_one_snapshot(
    billing: Billing, make_engine: EngineFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A day's summaries and the documents read whole after them (those Postgres cannot hash
    in Python's form) are one snapshot: two documents corrected in between are both staged as
    they were, never half old and half new, with the sources they were read from; so the next
    stage sees the corrections."""
    customer = known_customer(billing)
    plain = billing.document("INV-1", customer, [TEAM])
    tiny = billing.document("INV-2", customer, [("prod_team", Decimal("0.00000012"), 100, TAX)])
    as_they_were = _hashed(billing)
    real = engine.fetch_summaries
    corrected: list[bool] = []

    def then_correct(*args: Any, **kwargs: Any) -> Any:
        read = real(*args, **kwargs)
        if not corrected:
            corrected.append(True)
            for document in (plain, tiny):  # lines, amounts and PDF, by another connection
                correct(billing, document, quantity=2)
        return read

    monkeypatch.setattr(engine, "fetch_summaries", then_correct)
    make_engine().stage(day_window())
    assert corrected
    assert _amounts_staged(make_engine) == {
        "INV-1": (9900, as_they_were["INV-1"]),
        "INV-2": (tiny.amount_excluding_tax, as_they_were["INV-2"]),
    }

    make_engine().stage(day_window())
    now = _hashed(billing)
    assert _amounts_staged(make_engine) == {
        "INV-1": (19800, now["INV-1"]),
        "INV-2": (200, now["INV-2"]),
    }


def _hashed(billing: Billing) -> dict[str, str]:
    """The content hash of each of the day's documents, read whole, by number."""
    window = day_window()
    with psycopg.connect(billing.url) as conn:
        documents = read_documents(conn, window.start, window.end)
    return {document.number: hashes(document).content for document in documents}


def _amounts_staged(make_engine: EngineFactory) -> dict[str, tuple[int, str]]:
    """The (amount, payload hash) of each of the day's ledger rows, by number."""
    return {r.number: (r.amount, r.payload_hash) for r in make_engine().ledger_rows(day_window())}
