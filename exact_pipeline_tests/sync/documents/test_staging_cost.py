"""What keeps staging cheap (issue 13 item 5) without changing what it decides: the content
hash keeps the form ledgers hold, a stage learns whether the mapping tables block a document
without planning its lines, and line codes are resolved once per mapping tables."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import date

import psycopg

from exact_pipeline.billing.models import DocumentPdf
from exact_pipeline.mapping import Blocked, Mappings
from exact_pipeline.sync.documents import ledger
from exact_pipeline.sync.documents.hashing import Hashes, hashes
from exact_pipeline.sync.documents.staging import prepare
from exact_pipeline.sync.documents.transform import DocumentPlan, plan_document
from exact_pipeline_tests.sync.core.test_ledger import staged_values
from exact_pipeline_tests.sync.documents.test_transform import document, line, mappings

__all__ = ["mappings"]  # the fixture, shared with the transform's tests


def _as_ledgers_hold(doc_hashes: Hashes, pdf: DocumentPdf | None, content: dict) -> None:
    """The digests as the first release computed them: json.dumps of the content with sorted
    keys and no spaces, its PDF identity with json.dumps' defaults."""
    parts = [pdf.file_name, hashlib.sha256(pdf.content).hexdigest()] if pdf else None

    def sha(text: str) -> str:
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    def canonical(value: dict) -> str:
        return json.dumps(value, sort_keys=True, separators=(",", ":"))

    assert doc_hashes.content == sha(canonical(content | {"pdf": parts}))
    assert doc_hashes.entry == sha(canonical(content | {"pdf": None}))
    assert doc_hashes.pdf == (sha(json.dumps(parts)) if parts else None)


def test_the_hashes_keep_the_form_ledgers_hold() -> None:
    base = document(line(1, "prod_team", "1", "9900", 9900, 2079))
    tricky = replace(
        base,
        purchase_order='PO ","purchase_order":"x',  # the key the encoding is cut at, quoted
        lines=(replace(base.lines[0], description='"pdf":null é', period_start=date(2026, 11, 1)),),
        pdf=DocumentPdf('Fáctuur "1".pdf', b"%PDF-1.7"),
    )
    for doc in (base, tricky, replace(base, pdf=None), replace(base, lines=())):
        content = {
            "number": doc.number,
            "type": doc.type,
            "entity": doc.entity.id,
            "customer": doc.customer.id,
            "currency": doc.currency,
            "issued_at": doc.issued_at.isoformat(),
            "due_at": None,
            "amounts": [doc.amount_excluding_tax, doc.tax_amount, doc.total_amount],
            "original": doc.original_invoice_id,
            "purchase_order": doc.purchase_order,
            "lines": [
                [
                    x.position,
                    x.product.id if x.product else None,
                    x.description,
                    str(x.quantity),
                    str(x.unit_amount),
                    x.amount_excluding_tax,
                    x.tax_rate.id,
                    x.tax_amount,
                    *(
                        [str(x.period_start) if x.period_start else None, None]
                        if x.period_start or x.period_end
                        else []
                    ),
                ]
                for x in doc.lines
            ],
        }
        _as_ledgers_hold(hashes(doc), doc.pdf, content)


def test_a_stage_knows_what_blocks_a_document_without_planning_it(mappings: Mappings) -> None:
    plannable = prepare(document(line(1, "prod_team", "1", "9900", 9900, 2079)), mappings)
    assert plannable.blocked is None
    assert "plan" not in vars(plannable)  # no line planned for the stage
    assert isinstance(plannable.plan, DocumentPlan)  # the push's, on first use

    # A header cause and line causes, in the plan's order.
    unmapped = replace(
        document(line(1, "prod_beta_ai", "1", "100", 100, 21), line(2, None, "1", "1", 1, 0)),
        number="INV-" + "9" * 60,
    )
    blocked = prepare(unmapped, mappings)
    assert isinstance(blocked.blocked, Blocked)
    assert blocked.blocked == plan_document(unmapped, mappings) == blocked.plan
    assert "has no row in products.csv" in blocked.blocked.message


def test_line_codes_follow_the_mapping_tables_in_use(mappings: Mappings) -> None:
    """Resolved once per tables, never answered from other tables: tables changed (a new
    object, as a reload or `model_copy` makes) resolve again."""
    invoice = document(line(1, "prod_team", "1", "9900", 9900, 2079))
    before = plan_document(invoice, mappings)
    assert isinstance(before, DocumentPlan)
    assert before.lines[0].codes.vat_code == mappings.tax_codes["tax_nl_21"]
    changed = mappings.model_copy(update={"tax_codes": {"tax_nl_21": "VAT-NEW"}})
    after = plan_document(invoice, changed)
    assert isinstance(after, DocumentPlan)
    assert after.lines[0].codes.vat_code == "VAT-NEW"
    gone = mappings.model_copy(update={"tax_codes": {}})
    assert isinstance(prepare(invoice, gone).blocked, Blocked)
    assert prepare(invoice, mappings).blocked is None  # the first tables again


def test_staging_without_the_rows_back_writes_what_stage_many_writes(state_url: str) -> None:
    with psycopg.connect(state_url, autocommit=True) as conn:
        ledger.ensure_schema(conn)
        for billing_id in ("doc_known", "doc_changed"):
            ledger.stage(conn, staged_values(billing_id), None)
        ledger.update(conn, "doc_changed", state=ledger.BLOCKED)  # another run: version 1
        newer = {"payload_hash": "h2"}
        written = ledger.stage_all(
            conn,
            [
                (staged_values("doc_known") | newer, 0),
                (staged_values("doc_changed") | newer, 0),  # read before the other run wrote
                (staged_values("doc_new"), None),
            ],
        )
        assert written == 2
        rows = ledger.documents(conn, ["doc_known", "doc_changed", "doc_new"])
        assert {i: (r.payload_hash, r.state, r.version) for i, r in rows.items()} == {
            "doc_known": ("h2", ledger.STAGED, 1),
            "doc_changed": ("h1", ledger.BLOCKED, 1),
            "doc_new": ("h1", ledger.STAGED, 0),
        }
        assert ledger.stage_all(conn, []) == 0
