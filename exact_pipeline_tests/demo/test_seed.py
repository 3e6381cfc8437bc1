"""The demo seed: deterministic, consistent, realistic where the pipeline cares, and its CLI."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from collections.abc import Callable
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest
from click.testing import CliRunner
from psycopg import sql
from pypdf import PdfReader

from exact_pipeline.billing.database import BILLING_TABLES, table_counts
from exact_pipeline.billing.read import read_documents
from exact_pipeline.cli import main
from exact_pipeline.demo import catalog, pdf_batch
from exact_pipeline.demo.pdf import format_minor
from exact_pipeline.demo.seed import SeedError, SeedReport, seed_billing

TODAY = date(2026, 11, 23)
SEED = {"seed": 3, "customers": 60, "months": 4}


def cli_args(url: str, **options: Any) -> list[str]:
    flags = [f"--{name}={value}" for name, value in (SEED | options).items()]
    return ["billing", "seed", f"--database-url={url}", f"--today={TODAY}", *flags]


@pytest.fixture(scope="module")
def seeded(make_database: Callable[[str], str]) -> tuple[str, SeedReport]:
    url = make_database("billing_seed_a")
    return url, seed_billing(url, **SEED, today=TODAY)


@pytest.fixture
def conn(seeded: tuple[str, SeedReport]) -> Any:
    with psycopg.connect(seeded[0]) as connection:
        yield connection


def rows(conn: psycopg.Connection[Any], query: str, *params: Any) -> list[tuple[Any, ...]]:
    return conn.execute(query, params or None).fetchall()  # type: ignore[arg-type]


def checksum(url: str) -> str:
    """A digest of every row of every billing table, PDFs included."""
    with psycopg.connect(url) as conn:
        return "".join(
            conn.execute(
                sql.SQL(
                    "SELECT coalesce(md5(string_agg(md5(t::text), '' ORDER BY md5(t::text))), '')"
                    " FROM {} t"
                ).format(sql.Identifier(table))
            ).fetchone()[0]  # type: ignore[index]
            for table in BILLING_TABLES
        )


def test_the_same_seed_and_day_give_the_same_data(
    seeded: tuple[str, SeedReport], make_database: Callable[[str], str]
) -> None:
    url, _ = seeded
    again, other = make_database("billing_seed_b"), make_database("billing_seed_c")
    result = CliRunner().invoke(main, cli_args(again))  # the command, through click
    assert result.exit_code == 0, result.output
    assert re.search(r"60 customers, \d+ invoices .* total [\d.]+ s", result.output)
    seed_billing(other, **(SEED | {"seed": 4}), today=TODAY)
    assert checksum(again) == checksum(url)
    assert checksum(other) != checksum(url)


def test_the_report_counts_what_was_loaded(
    seeded: tuple[str, SeedReport], conn: psycopg.Connection[Any]
) -> None:
    report, counts = seeded[1], table_counts(conn)
    documents = report.invoices + report.credit_notes + report.drafts
    assert (counts["customers"], counts["invoices"]) == (60, documents)
    assert (counts["invoice_lines"], counts["payments"]) == (report.lines, report.payments)
    assert counts["invoice_pdfs"] == report.pdfs == documents - report.drafts
    assert report.drafts >= 2 and report.credit_notes > 0 and report.voided >= 0


def test_a_filled_database_is_refused_unless_reset(seeded: tuple[str, SeedReport]) -> None:
    url, report = seeded
    with pytest.raises(SeedError, match="already hold data"):
        seed_billing(url, **SEED, today=TODAY)
    result = CliRunner().invoke(main, cli_args(url))
    assert result.exit_code != 0 and "already hold data" in result.output
    assert seed_billing(url, **SEED, today=TODAY, reset=True).lines == report.lines


def test_seeding_during_the_day_writes_nothing_later_than_that_moment(
    seeded: tuple[str, SeedReport], make_database: Callable[[str], str]
) -> None:
    """A change dated later today would carry a change cursor past every real change until
    then: today's documents fall before the moment of seeding, and they are the same ones."""
    now = datetime.combine(TODAY, time(10, 0), ZoneInfo("Europe/Amsterdam"))
    url = make_database("billing_seed_morning")
    report = seed_billing(url, **SEED, today=TODAY, now=now)
    with psycopg.connect(url) as conn:
        latest = rows(
            conn,
            "SELECT max(t) FROM ("
            " SELECT unnest(ARRAY[created_at, updated_at, issued_at]) FROM invoices"
            " UNION ALL SELECT unnest(ARRAY[created_at, paid_at]) FROM payments"
            " UNION ALL SELECT unnest(ARRAY[created_at, updated_at]) FROM customers) x(t)",
        )[0][0]
        issued_today = rows(
            conn, "SELECT count(*) FROM invoices WHERE issued_at >= %s", now.replace(hour=0)
        )[0][0]
    assert latest <= now
    assert issued_today > 0
    assert (report.invoices, report.credit_notes, report.drafts) == (
        seeded[1].invoices,
        seeded[1].credit_notes,
        seeded[1].drafts,
    )


def test_init_creates_the_tables(make_database: Callable[[str], str]) -> None:
    url = make_database("billing_init")
    result = CliRunner().invoke(main, ["billing", "init", f"--database-url={url}"])
    assert result.exit_code == 0, result.output
    with psycopg.connect(url) as conn:
        assert table_counts(conn) == dict.fromkeys(BILLING_TABLES, 0)


def test_known_customers_are_exactly_the_catalogues(conn: psycopg.Connection[Any]) -> None:
    found = {
        row[0]: row[1:]
        for row in rows(
            conn,
            "SELECT c.id, c.name, c.email, c.vat_number, c.country, max(i.issued_at)::date"
            " FROM customers c JOIN invoices i ON i.customer_id = c.id"
            " WHERE c.id LIKE 'cus_known_%' GROUP BY c.id",
        )
    }
    assert {
        k.customer_id: (k.name, k.email, k.vat_number, k.country) for k in catalog.KNOWN_CUSTOMERS
    } == {customer_id: values[:4] for customer_id, values in found.items()}
    assert all((TODAY - values[4]).days <= 31 for values in found.values())  # billed lately
    assert rows(conn, "SELECT count(*) FROM customers WHERE name ~ '[^[:ascii:]]'")[0][0] > 5


def test_statuses_agree_with_payments(conn: psycopg.Connection[Any]) -> None:
    mismatches = rows(
        conn,
        """
        SELECT d.number, d.status, d.total_amount, coalesce(sum(p.amount), 0) AS paid
        FROM invoices d LEFT JOIN payments p ON p.invoice_id = d.id
        GROUP BY d.id
        HAVING d.status <> CASE
            WHEN d.status IN ('draft', 'voided') AND count(p.id) = 0 THEN d.status
            WHEN coalesce(sum(p.amount), 0) = d.total_amount THEN 'paid'
            WHEN coalesce(sum(p.amount), 0) BETWEEN 1 AND d.total_amount - 1
                THEN 'partially_paid'
            WHEN count(p.id) = 0 THEN 'to_pay'
        END
        """,
    )
    assert mismatches == []
    statuses = dict(rows(conn, "SELECT status, count(*) FROM invoices GROUP BY status"))
    assert {"paid", "partially_paid", "to_pay", "draft"} <= statuses.keys()
    outside = rows(  # paid before issued, or after the end of today in the entity's zone
        conn,
        "SELECT count(*) FROM payments p JOIN invoices d ON d.id = p.invoice_id"
        " JOIN invoicing_entities e ON e.id = d.invoicing_entity_id"
        " WHERE p.paid_at < d.issued_at OR p.source <> 'billing'"
        " OR p.paid_at >= (%s::date + 1)::timestamp AT TIME ZONE e.timezone",
        TODAY,
    )
    assert outside == [(0,)]


def test_amounts_are_rounded_half_up_per_line(conn: psycopg.Connection[Any]) -> None:
    lines = rows(
        conn,
        "SELECT count(*) FILTER (WHERE l.amount_excluding_tax <> round(l.quantity * l.unit_amount)"
        "   OR l.tax_amount <> round(l.amount_excluding_tax * t.rate / 100)),"
        " count(*) FILTER (WHERE l.quantity * l.unit_amount <> round(l.quantity * l.unit_amount)),"
        " count(*) FILTER (WHERE l.product_id IS NULL),"
        " count(*) FILTER (WHERE l.amount_excluding_tax < 0)"
        " FROM invoice_lines l JOIN tax_rates t ON t.id = l.tax_rate_id",
    )[0]
    wrong, rounded, without_product, negative = lines
    assert wrong == 0 and rounded > 10 and without_product > 0 and negative > 0


def test_tax_rates_follow_the_customer_and_the_product(conn: psycopg.Connection[Any]) -> None:
    by_case = dict(
        rows(
            conn,
            """
            SELECT CASE
                WHEN c.country IN ('DE', 'FR') THEN 'intra-EU ' || d.invoicing_entity_id || ' '
                    || t.rate
                ELSE c.country || ' ' || d.invoicing_entity_id || ' '
                    || CASE WHEN l.product_id = 'prod_ebook' THEN 'book ' ELSE '' END || t.rate
                END AS case_, count(*)
            FROM invoice_lines l
            JOIN invoices d ON d.id = l.invoice_id
            JOIN customers c ON c.id = d.customer_id
            JOIN tax_rates t ON t.id = l.tax_rate_id
            GROUP BY 1
            """,
        )
    )
    assert set(by_case) <= {
        "NL ent_nl 21",
        "NL ent_nl book 9",
        "BE ent_be 21",
        "BE ent_be book 6",
        "intra-EU ent_nl 0",
    }
    assert {"NL ent_nl 21", "BE ent_be 21", "intra-EU ent_nl 0"} <= set(by_case)
    mixed = "SELECT 1 FROM invoice_lines GROUP BY invoice_id HAVING count(DISTINCT tax_rate_id) > 1"
    assert rows(conn, mixed), "some invoice carries two VAT rates"


def test_the_unmapped_product_is_only_on_recent_invoices(conn: psycopg.Connection[Any]) -> None:
    days_ago = rows(
        conn,
        "SELECT %s::date - d.issued_at::date FROM invoice_lines l"
        " JOIN invoices d ON d.id = l.invoice_id WHERE l.product_id = 'prod_beta_ai'",
        TODAY,
    )
    assert 1 <= len(days_ago) <= 6
    assert all(0 <= ago <= 21 for (ago,) in days_ago)


def test_documents_are_numbered_per_entity_and_year(conn: psycopg.Connection[Any]) -> None:
    numbers = rows(
        conn,
        "SELECT type, status, number, issued_at AT TIME ZONE e.timezone FROM invoices d"
        " JOIN invoicing_entities e ON e.id = d.invoicing_entity_id ORDER BY issued_at, d.id",
    )
    sequences: dict[str, list[int]] = {}
    for kind, status, number, local in numbers:
        pattern = {
            "draft": r"(NL|BE)-DRAFT-(\d{6})",
            "credit_note": rf"CN-(NL|BE)-{local.year}-(\d{{6}})",
            "invoice": rf"(NL|BE)-{local.year}-(\d{{6}})",
        }["draft" if status == "draft" else kind]
        match = re.fullmatch(pattern, number)
        assert match, number
        prefix = number.rsplit("-", 1)[0]
        sequences.setdefault(prefix, []).append(int(match.group(2)))
        # Business hours in the entity's zone, or half an hour around midnight.
        assert 8 <= local.hour < 18 or (local.hour, local.minute) >= (23, 30) or local.hour == 0
    assert all(seq == list(range(1, len(seq) + 1)) for seq in sequences.values())
    near_midnight = [number for *_, number, local in numbers if local.hour in (23, 0)]
    assert near_midnight, "some documents are issued around midnight (partition edges)"


def test_credit_notes_correct_an_invoice_with_positive_amounts(
    conn: psycopg.Connection[Any],
) -> None:
    credit_notes = rows(
        conn,
        "SELECT c.total_amount, o.total_amount, o.type, c.issued_at > o.issued_at"
        " FROM invoices c JOIN invoices o ON o.id = c.original_invoice_id",
    )
    assert credit_notes
    assert all(
        0 < total <= original and kind == "invoice" and later
        for total, original, kind, later in credit_notes
    )
    assert any(total < original for total, original, *_ in credit_notes), "a partial credit"


def test_every_pdf_is_its_own_documents(conn: psycopg.Connection[Any]) -> None:
    """Rendered in chunks, each PDF lands on its document."""
    count, wrong = rows(
        conn,
        "SELECT count(*), count(*) FILTER (WHERE position(convert_to('(' || d.number, 'UTF8')"
        " IN p.content) = 0) FROM invoice_pdfs p JOIN invoices d ON d.id = p.invoice_id",
    )[0]
    assert count > 2 * pdf_batch.CHUNK and wrong == 0


def test_every_finalized_document_has_a_pdf_with_its_number_and_total(
    conn: psycopg.Connection[Any],
) -> None:
    documents = read_documents(
        conn,
        *(
            conn.execute(
                "SELECT min(issued_at), max(issued_at) + interval '1 second' FROM invoices"
            ).fetchone()
        ),
    )  # type: ignore[misc]
    assert documents and all(d.pdf and d.pdf.file_name == f"{d.number}.pdf" for d in documents)
    sample = (
        documents[:: max(1, len(documents) // 25)]
        + [d for d in documents if d.customer.id == "cus_known_04"][:1]
    )
    for document in sample:
        text = PdfReader(io.BytesIO(document.pdf.content)).pages[0].extract_text()  # type: ignore[union-attr]
        assert document.number in text and document.customer.name in text
        assert format_minor(document.total_amount) in text


FORKED_RENDER = """
from datetime import date
from exact_pipeline.demo import pdf_batch
from exact_pipeline.demo.documents import generate_demo_data

pdf_batch.FORK_FROM = 0  # the large-seed path, on a small seed
documents = generate_demo_data(seed=3, customers=60, months=4, today=date(2026, 11, 20)).documents
with pdf_batch.rendered_pdfs(documents) as rendered:
    pairs = list(rendered)
assert rendered.processes > 1 or pdf_batch._usable_cores() == 1
numbers = {d.id: d.number for d in documents}
wrong = [i for i, pdf in pairs if ("(" + numbers[i]).encode() not in pdf.content]
assert len(pairs) == len(documents) > 2 * pdf_batch.CHUNK and not wrong, wrong[:3]
"""


def test_forked_workers_put_every_pdf_on_its_document() -> None:
    """The large-seed path (forked workers, several chunks), run in a fresh process: forking
    is only used where no other thread can hold a lock at fork time."""
    result = subprocess.run(
        [sys.executable, "-c", FORKED_RENDER], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
