"""The monthly reconciliation against real Postgres and the sandbox over HTTP: a synced month
agrees to the cent for four bulk reads, an entry a bookkeeper deleted in Exact shows as missing
with its explanation, a blocked document with its reason, a spent budget says so."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from exact_pipeline.sync.core.window import Window
from exact_pipeline.sync.reconciliation.compare import MISSING, NOT_IN_EXACT
from exact_pipeline.sync.reconciliation.engine import Reconciler
from exact_pipeline.sync.reconciliation.report import MonthReport
from exact_pipeline_tests.exact.conftest import BE, NL, SandboxAdmin
from exact_pipeline_tests.sandbox.helpers import ExactClient as SandboxClient
from exact_pipeline_tests.sync.builder import AMSTERDAM, DAY, Billing
from exact_pipeline_tests.sync.conftest import EngineFactory, MappingFolder
from exact_pipeline_tests.sync.payments.conftest import Payments, PaymentsFactory, paid_window

NOVEMBER = Window(datetime(2026, 11, 1, tzinfo=AMSTERDAM), datetime(2026, 12, 1, tzinfo=AMSTERDAM))
BULK_READS = {"GET bulk/Financial/TransactionLines": 2, "GET bulk/Cashflow/Receivables": 2}


def reconcile(make_session: Callable[..., Any], **options: Any) -> MonthReport:
    reconciler: Reconciler = make_session(Reconciler, **options)
    return reconciler.reconcile("2026-11", NOVEMBER)


def totals(report: MonthReport, division: int) -> dict[str, tuple[str, str]]:
    """The division's EUR totals as (billing, Exact), from the CSV a controller keeps."""
    rows = csv.DictReader(io.StringIO(report.csv_text()))
    return {
        r["measure"]: (r["billing"], r["exact"])
        for r in rows
        if r["section"] == "totals" and r["division"] == str(division) and r["currency"] == "EUR"
    }


def test_a_synced_month_agrees_to_the_cent_for_four_bulk_reads(
    billing: Billing,
    payments: Payments,
    make_engine: EngineFactory,
    make_payments: PaymentsFactory,
    make_session: Callable[..., Any],
    admin: SandboxAdmin,
    tmp_path: Path,
) -> None:
    acme = billing.customer("cus_1", "Acme B.V.")
    invoice = billing.document(
        "NL-1", acme, [("prod_team", 1, 9900, "tax_nl_21"), ("prod_ebook", 3, 1999, "tax_nl_9")]
    )
    paid = billing.document(
        "NL-2",
        acme,
        [("prod_seat", 2, 1200, "tax_nl_21")],
        issued=datetime(2026, 11, 3, 9, tzinfo=AMSTERDAM),
    )
    billing.document("CN-1", acme, [("prod_team", 1, 9900, "tax_nl_21")], original=invoice)
    billing.document(
        "BE-1",
        billing.customer("cus_2", "Brugge BV", country="BE"),
        [("prod_team", 1, 9900, "tax_be_21"), ("prod_ebook", 1, 1999, "tax_be_6")],
        entity="ent_be",
    )
    payments.pay(paid, paid.total_amount)
    assert make_engine().push_documents(NOVEMBER).counts["pushed"] == 4
    make_payments().push_payments(paid_window())
    admin.clear_requests()

    report = reconcile(make_session)

    assert report.reconciled, report.differences
    assert report.sentence() == "2026-11: billing and Exact agree to the cent."
    # 83.97 excl.: 99.00 + 59.97 + 24.00 - 99.00; VAT per code: 21% on 24.00, 9% on 59.97.
    assert totals(report, NL) == {
        "documents": ("3", "3"),
        "excluding VAT": ("83.97", "83.97"),
        "VAT code 1 (21%)": ("5.04", "5.04"),
        "VAT code 2 (9%)": ("5.40", "5.40"),
        "total": ("94.41", "94.41"),
        "open receivables": ("65.37", "65.37"),
        "paid receivables": ("29.04", "29.04"),
    }
    assert totals(report, BE)["VAT code 3 (6%)"] == ("1.20", "1.20")
    # Frugal: one page of each bulk read per division, and Exact's own count says so.
    assert admin.requests()["by_endpoint"] == BULK_READS
    assert report.api_calls == 4
    assert report.figures() | {"api_calls": 4} == {
        "synced": 4,
        "blocked": 0,
        "failed": 0,
        "differences": 0,
        "unexplained": 0,
        "api_calls": 4,
        "minutes_behind": 0,
    }

    path = report.write_csv(tmp_path / "reconciliation")
    assert path.name == "reconciliation-2026-11.csv"
    rows = list(csv.DictReader(path.open()))
    assert rows[0]["section"] == "status" and rows[0]["measure"] == "reconciled"
    nl_total = next(r for r in rows if r["division"] == str(NL) and r["measure"] == "total")
    assert (nl_total["billing"], nl_total["exact"], nl_total["difference"]) == (
        "94.41",
        "94.41",
        "0.00",
    )
    assert not [r for r in rows if r["section"] == "document"]


def test_an_entry_a_bookkeeper_deleted_in_exact_is_missing_with_its_explanation(
    billing: Billing,
    make_engine: EngineFactory,
    make_session: Callable[..., Any],
    mapping_folder: MappingFolder,
    admin: SandboxAdmin,
    bookkeeper: SandboxClient,
) -> None:
    mapping_folder.setting("invoice_push_mode", "sales_entry")
    acme = billing.customer("cus_1", "Acme B.V.")
    billing.document("NL-1", acme, [("prod_team", 1, 9900, "tax_nl_21")])
    billing.document("NL-2", acme, [("prod_seat", 3, 1200, "tax_nl_21")])
    make_engine().push_documents(NOVEMBER)
    assert reconcile(make_session).reconciled  # sales entries agree as well

    [entry] = [e for e in admin.store(NL, "salesentry/SalesEntries") if e["YourRef"] == "NL-2"]
    deleted = bookkeeper.delete(f"salesentry/SalesEntries(guid'{entry['EntryID']}')")
    assert deleted.status_code == 204, deleted.text

    report = reconcile(make_session)

    assert not report.reconciled
    [difference] = report.differences
    assert (difference.number, difference.kind, difference.state) == ("NL-2", MISSING, "synced")
    assert (difference.billing_total, difference.exact_total) == ("43.56", "")
    assert "Exact no longer holds it" in difference.explanation
    assert not difference.explained
    assert report.sentence() == "2026-11: 1 document(s) differ, 1 of them unexplained."
    assert totals(report, NL)["total"] == ("163.35", "119.79")
    [row] = [
        r for r in csv.DictReader(io.StringIO(report.csv_text())) if r["section"] == "document"
    ]
    assert row["number"] == "NL-2" and row["measure"] == MISSING
    assert (row["billing"], row["exact"], row["difference"], row["explained"]) == (
        "43.56",
        "",
        "43.56",
        "no",
    )
    assert row["explanation"] == difference.explanation


def test_a_blocked_document_appears_with_its_reason_and_the_minutes_behind(
    billing: Billing,
    make_engine: EngineFactory,
    make_session: Callable[..., Any],
) -> None:
    acme = billing.customer("cus_1", "Acme B.V.")
    billing.document("NL-OK", acme, [("prod_team", 1, 9900, "tax_nl_21")])
    beta = billing.document("NL-BETA", acme, [("prod_beta_ai", 1, 1900, "tax_nl_21")])
    make_engine().push_documents(NOVEMBER)

    later = beta.issued_at + timedelta(minutes=95)
    report = reconcile(make_session, now=lambda: later)

    [difference] = report.differences
    assert (difference.number, difference.kind, difference.state) == (
        "NL-BETA",
        NOT_IN_EXACT,
        "blocked",
    )
    assert difference.explanation.startswith("blocked: ")
    assert "prod_beta_ai" in difference.explanation and "products.csv" in difference.explanation
    assert difference.explained and not report.unexplained
    assert not report.reconciled  # explained, but open: nothing to sign yet
    assert difference.issued == DAY.isoformat()
    assert report.minutes_behind == 95
    assert report.figures()["blocked"] == 1 and report.figures()["synced"] == 1
    assert "| NL-BETA |" in report.differences_markdown()


def test_a_spent_budget_says_so_and_claims_nothing(
    billing: Billing,
    make_engine: EngineFactory,
    make_session: Callable[..., Any],
    admin: SandboxAdmin,
) -> None:
    acme = billing.customer("cus_1", "Acme B.V.")
    billing.document("NL-1", acme, [("prod_team", 1, 9900, "tax_nl_21")])
    make_engine().push_documents(NOVEMBER)
    used = admin.http.get("/_sandbox/limits").json()["usage"][str(NL)]["daily_used"]
    admin.configure(daily_limit=used)  # division 310001's day is spent; 320001's is not

    report = reconcile(make_session)

    assert not report.reconciled
    assert list(report.not_read) == [NL]
    assert "daily API budget" in report.not_read[NL]
    assert report.sentence().startswith("Not reconciled: ")
    assert report.differences == []  # no false "missing in Exact" for what was not read
    assert totals(report, NL)["total"] == ("119.79", "")
    status = next(csv.DictReader(io.StringIO(report.csv_text())))
    assert status["measure"] == "not reconciled"
