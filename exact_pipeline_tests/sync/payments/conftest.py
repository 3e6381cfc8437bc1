"""Fixtures for the payment tests: the sync tests' billing database, state, sandbox client and
editable mapping tables (reused), plus payments written into billing, documents synced the way a
user's run syncs them, and `PaymentSync`s built on the current mapping tables."""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Iterator
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import httpx
import psycopg
import pytest

from exact_pipeline.billing.models import BillingDocument
from exact_pipeline.exact import ExactClient, LookupKey, eq
from exact_pipeline.exact.endpoints import BANK_ENTRIES, BANK_ENTRY_LINES
from exact_pipeline.sync.payments.engine import PaymentSync
from exact_pipeline_tests.conftest import SandboxProcess
from exact_pipeline_tests.exact.conftest import NL, SandboxAdmin
from exact_pipeline_tests.sandbox.helpers import ExactClient as SandboxClient
from exact_pipeline_tests.sync.builder import AMSTERDAM, Billing, day_window
from exact_pipeline_tests.sync.conftest import EngineFactory

PAID_DAY = date(2026, 11, 21)  # the day after the documents' (builder.DAY)
BANK_POST = "POST financialtransaction/BankEntries"
TEAM = ("prod_team", "1", 9900, "tax_nl_21")  # 99.00 + 20.79 VAT = 119.79
SEAT = ("prod_seat", "1", 1200, "tax_nl_21")  # 12.00 + 2.52 VAT = 14.52


class Payments:
    """Billing payments written by the test, with ids in order."""

    def __init__(self, billing: Billing) -> None:
        self.billing = billing
        self._ids = itertools.count(1)

    def pay(
        self,
        document: BillingDocument,
        amount: int,
        *,
        day: date = PAID_DAY,
        source: str = "billing",
        external_id: str | None = None,
    ) -> str:
        payment_id = f"pay_{next(self._ids):04d}"
        paid_at = datetime.combine(day, time(12), AMSTERDAM)
        self.billing.execute(
            "INSERT INTO payments (id, invoice_id, amount, currency, paid_at, method, source,"
            " external_id) VALUES (%s, %s, %s, 'EUR', %s, 'bank_transfer', %s, %s)",
            payment_id,
            document.id,
            amount,
            paid_at,
            source,
            external_id,
        )
        return payment_id

    def rows(self) -> list[dict[str, Any]]:
        with psycopg.connect(self.billing.url) as conn, conn.cursor() as cur:
            cur.execute(
                "SELECT p.id, d.number, p.amount, p.source, p.external_id, p.method"
                " FROM payments p JOIN invoices d ON d.id = p.invoice_id ORDER BY p.id"
            )
            names = [c.name for c in cur.description or ()]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def status(self, document: BillingDocument) -> str:
        with psycopg.connect(self.billing.url) as conn:
            row = conn.execute("SELECT status FROM invoices WHERE id = %s", (document.id,))
            return row.fetchone()[0]  # type: ignore[index]


@pytest.fixture
def payments(billing: Billing) -> Payments:
    return Payments(billing)


PaymentsFactory = Callable[..., PaymentSync]


@pytest.fixture
def make_payments(make_session: Callable[..., Any]) -> PaymentsFactory:
    """`make_payments()` → a PaymentSync on the current mapping tables (edit them, then make
    another)."""
    return functools.partial(make_session, PaymentSync)


def sync_documents(make_engine: EngineFactory) -> None:
    """Push the documents of builder.DAY as a user's run would."""
    report = make_engine().push_documents(day_window())
    assert report.counts["failed"] == 0, report.rows


def paid_window() -> Any:
    return day_window(PAID_DAY)


def items_of(admin: SandboxAdmin, division: int, number: str) -> list[dict[str, Any]]:
    """The receivable rows in Exact of the document with our number (its YourRef), read through
    the sandbox's admin API (not counted as API calls)."""
    return [r for r in admin.store(division, "cashflow/Receivables") if r["YourRef"] == number]


def outstanding(admin: SandboxAdmin, division: int, number: str) -> Decimal:
    """What Exact shows open on the document, signed as booked (credit notes negative)."""
    items = items_of(admin, division, number)
    assert items, f"Exact holds no receivable for {number}"
    return sum((Decimal(r["AmountFC"]) for r in items if not r["IsFullyPaid"]), Decimal(0))


def posts(admin: SandboxAdmin) -> int:
    counts = admin.requests()["by_endpoint"]
    return sum(n for key, n in counts.items() if key.startswith("POST"))


def pay_in_exact(
    exact: ExactClient, admin: SandboxAdmin, division: int, number: str, amount: str
) -> str:
    """A payment a bookkeeper registers in Exact on our document: a bank entry in journal 20
    on the debtors account 1300, OurRef = the document's Exact number. Returns its entry id."""
    (item, *_) = items_of(admin, division, number)
    master_data = exact.master_data(division)
    description = f"Betaling {number} {amount}"
    entry = exact.create(
        division,
        BANK_ENTRIES,
        {
            "JournalCode": "20",
            "BankEntryLines": [
                {
                    "Account": item["Account"],
                    "GLAccount": master_data.gl_accounts["1300"].ID,
                    "OurRef": item["InvoiceNumber"],
                    "AmountFC": Decimal(amount),
                    "Date": datetime.combine(PAID_DAY, time()),
                    "Description": description,
                }
            ],
        },
        idempotency=LookupKey(
            eq("Description", description), endpoint=BANK_ENTRY_LINES, key_field="EntryID"
        ),
    )
    return str(entry.EntryID)


@pytest.fixture
def bookkeeper(sandbox: SandboxProcess) -> Iterator[SandboxClient]:
    """Someone working in Exact in a session of their own (another consent, its own tokens)."""
    with httpx.Client(base_url=sandbox.url, timeout=10) as http:
        person = SandboxClient(http)
        person.connect([NL])
        yield person


def undo_in_exact(bookkeeper: SandboxClient, entry_id: str) -> None:
    """Delete a bank entry in Exact: what it settled is open again."""
    reply = bookkeeper.delete(f"financialtransaction/BankEntries(guid'{entry_id}')")
    assert reply.status_code == 204, reply.text
