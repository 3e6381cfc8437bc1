"""What a realistic day costs in Exact API calls, per document and for a run with nothing new.

A day of the `exact_sync` job against a sandbox child process, in each push mode: 12 hourly
runs of 10 new invoices each (08:00 to 19:00), sensor-paced runs of one invoice in between,
the evening's hourly runs with nothing new, and the first run after midnight (which runs the
finished day's partition too, and so reads it back once). Payments follow the demo settings
(`payment_sync: billing_to_exact`): a third of the invoices are paid in billing within the
hour, and the next run pushes them. Every run calls the engines the way the Dagster assets
do, each step with its own Exact client (as each step of a run has): `exact_customers`,
`exact_document_payloads`, `exact_documents` with `totals_match_exact`, `exact_payments` with
`paid_amounts_agree`; plus the daily keep-alive. The idle run of `payments_from_exact`
(payment_sync `exact_to_billing`) is measured too.

The calls are counted by the sandbox (`/_sandbox/requests`, per division: Exact's budget is a
division's); the engines' clock is the simulated one (the read-back rules depend on it). The
billing history before the day is seeded, its customers are linked and its last day pushed
before counting starts: a running installation, not a first day.
"""

from __future__ import annotations

import shutil
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TypeVar

import psycopg

from exact_pipeline.bench_setup import BENCH_TOKEN_KEY, consent, line, sandbox_config
from exact_pipeline.billing.models import BillingDocument
from exact_pipeline.billing.read import read_documents
from exact_pipeline.billing.write import write_documents
from exact_pipeline.demo import catalog
from exact_pipeline.demo.sandbox_process import SandboxProcess
from exact_pipeline.demo.seed import seed_billing
from exact_pipeline.exact.config import ExactConfig
from exact_pipeline.mapping import Mappings, load_mappings
from exact_pipeline.postgres import create_database
from exact_pipeline.state.exact import open_exact
from exact_pipeline.sync.core.session import SyncSession
from exact_pipeline.sync.core.window import Window
from exact_pipeline.sync.documents.engine import SyncEngine
from exact_pipeline.sync.payments.engine import PaymentSync

REPO = Path(__file__).resolve().parents[1]
S = TypeVar("S", bound=SyncSession)
MODES = ("sales_entry", "sales_invoice")
HOURLY_RUNS, PER_HOURLY_RUN = 12, 10
FIRST_HOUR = 8
SENSOR_RUNS = 6  # one invoice each, at half past the first hours
PAID_EVERY = 3  # every third new invoice is paid in billing within the hour
# Calls by what they are for (endpoint keys as the sandbox logs them: "GET vat/VATCodes").
POSTED = ("salesentry/", "salesinvoice/", "documents/")
READ_BACK = (
    "GET salesentry/SalesEntries",
    "GET salesinvoice/SalesInvoices",
    "GET cashflow/Receivables",
    "GET bulk/Cashflow/",
    "GET bulk/SalesInvoice/SalesInvoices",  # a day read back by its date (day_read.py)
    "GET bulk/Financial/TransactionLines",
)
MASTER_DATA = (
    "GET logistics/",
    "GET vat/",
    "GET financial/",
    "GET cashflow/PaymentConditions",
    "GET crm/",
    "GET sync/",
    "GET hrm/",
    "GET bulk/CRM",
    "GET read/financial/JournalStatusList",  # the sales journals' periods (exact/periods.py)
)


def kind_of(endpoint: str) -> str:
    """posts, receipts, customers, master_data, read_back or other."""
    method, _, path = endpoint.partition(" ")
    if method == "POST" and path.startswith(POSTED):
        return "posts"
    if method == "POST" and path.startswith("financialtransaction/"):
        return "receipts"
    if method == "POST" and path.startswith("crm/"):
        return "customers"
    if endpoint.startswith(READ_BACK):
        return "read_back"
    if endpoint.startswith(MASTER_DATA):
        return "master_data"
    return "other"


@dataclass
class CallFigures:
    """One mode's day: its documents and payments, and the calls (all divisions) by kind."""

    mode: str
    documents: int = 0
    payments: int = 0
    calls: Counter[str] = field(default_factory=Counter)
    idle: dict[int, int] = field(default_factory=dict)  # one idle run's calls, per division
    idle_endpoints: dict[str, int] = field(default_factory=dict)
    idle_import: dict[int, int] = field(default_factory=dict)  # payments_from_exact, idle
    after_day: int = 0  # the first run after midnight (its read-back included)
    payment_calls: Counter[str] = field(default_factory=Counter)  # the payment push's, by endpoint

    def per_document(self, *kinds: str) -> float:
        """Calls per document of these kinds (all when none is named), the payment push's
        apart (`payment_calls`)."""
        wanted = kinds or tuple(self.calls)
        return sum(self.calls[k] for k in wanted) / max(self.documents, 1)


class Day:
    """One mode's simulated day on its own billing/state database and a fresh sandbox."""

    def __init__(self, admin_url: str, mode: str, day: date, scratch: Path) -> None:
        self.mode, self.day = mode, day
        self.url = create_database(admin_url, f"bench_calls_{mode}", drop_existing=True)
        self.folder = settings_folder(scratch / mode, mode=mode)
        self.mappings = load_mappings(self.folder)
        self.zone = self.mappings.settings.zone
        self.sandbox = SandboxProcess()
        self.config: ExactConfig = sandbox_config(self.sandbox)
        self.figures = CallFigures(mode)
        self._templates: list[BillingDocument] = []
        self._count = 0

    def close(self) -> None:
        self.sandbox.stop()

    def at(self, moment: date, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(moment, time(hour, minute), self.zone)

    def window(self, moment: date) -> Window:
        return Window(self.at(moment, 0), self.at(moment + timedelta(days=1), 0))

    # --- the installation as it runs before the day ------------------------------------------

    def prepare(self) -> None:
        """History up to the day, its customers linked, the day before pushed; then counting."""
        self.sandbox.admin("POST", "config", minutely_limit=1_000_000, daily_limit=1_000_000)
        midnight = self.at(self.day, 0)
        seed_billing(self.url, customers=40, months=1, today=self.day - timedelta(1), now=midnight)
        with open_exact(self.config, self.url, BENCH_TOKEN_KEY) as exact:
            exact.connect(consent(self.sandbox, self.config, self.mappings))
        before = self.day - timedelta(days=1)
        history = Window(midnight - timedelta(days=40), midnight)
        with self.session(SyncEngine, self.at(before, 23)) as engine:
            engine.validate_mappings()
            engine.sync_customers(history)
        self.run(before, self.at(before, 23))
        self._templates = templates(self.url, self.mappings, history)

    # --- the day -------------------------------------------------------------------------------

    def simulate(self) -> CallFigures:
        self.sandbox.admin("DELETE", "requests")
        for index in range(HOURLY_RUNS):
            hour = FIRST_HOUR + index
            self.issue(PER_HOURLY_RUN, self.at(self.day, hour - 1, 40))
            self.run(self.day, self.at(self.day, hour))
            if index < SENSOR_RUNS:
                self.issue(1, self.at(self.day, hour, 20))
                self.run(self.day, self.at(self.day, hour, 21))
        self.keep_alive()
        # The evening's hourly runs find nothing new: the first is measured on its own.
        self.figures.idle, self.figures.idle_endpoints = self.counted(
            lambda: self.run(self.day, self.at(self.day, FIRST_HOUR + HOURLY_RUNS))
        )
        for hour in range(FIRST_HOUR + HOURLY_RUNS + 1, 24):
            self.run(self.day, self.at(self.day, hour))
        tomorrow = self.day + timedelta(days=1)

        def after_midnight() -> None:  # yesterday's partition, then today's
            self.run(self.day, self.at(tomorrow, 0))
            self.run(tomorrow, self.at(tomorrow, 0))

        after, _ = self.counted(after_midnight)
        self.figures.after_day = sum(after.values())
        log = Counter(self.sandbox.admin("GET", "requests")["by_endpoint"])
        log.subtract(self.figures.payment_calls)
        for endpoint, count in log.items():
            self.figures.calls[kind_of(endpoint)] += count
        self.figures.idle_import = self.idle_import(self.at(tomorrow, 2))
        return self.figures

    def issue(self, count: int, moment: datetime) -> None:
        """`count` new invoices, copies of the history's, issued at `moment`; every
        `PAID_EVERY`th is paid in billing a few minutes later."""
        documents = []
        for _ in range(count):
            self._count += 1
            original = self._templates[self._count % len(self._templates)]
            doc_id = f"bench_calls_{self._count}"
            documents.append(
                replace(
                    original,
                    id=doc_id,
                    number=f"BENCH-{self._count:05d}",
                    issued_at=moment,
                    due_at=moment + timedelta(days=14),
                    created_at=moment,
                    updated_at=moment,
                    lines=tuple(replace(ln, id=f"{doc_id}_{ln.position}") for ln in original.lines),
                    payments=(),
                )
            )
        with psycopg.connect(self.url) as conn:
            write_documents(conn, documents)
            for document in documents[::PAID_EVERY]:
                conn.execute(
                    "INSERT INTO payments (id, invoice_id, amount, currency, paid_at, method, "
                    "source) VALUES (%s, %s, %s, %s, %s, 'card', 'billing')",
                    [
                        f"pay_{document.id}",
                        document.id,
                        document.total_amount,
                        document.currency,
                        moment + timedelta(minutes=5),
                    ],
                )
                self.figures.payments += 1
        self.figures.documents += count

    # --- one run of the exact_sync job, step by step as the assets call the engines -----------

    def run(self, partition: date, moment: datetime) -> None:
        window = self.window(partition)
        divisions = sorted({e.division for e in self.mappings.settings.entities.values()})
        with self.session(SyncEngine, moment) as engine:  # exact_customers
            for division in divisions:
                engine.sync_customers(window, division)
        with self.session(SyncEngine, moment) as engine:  # exact_document_payloads
            engine.stage(window)
            engine.blocked(window)
        with self.session(SyncEngine, moment) as engine:  # exact_documents and its checks
            for division in divisions:
                engine.push_documents(window, division)
                engine.totals_differences(window, division)
            engine.unmapped_documents(window)
        with self.session(PaymentSync, moment) as payments:  # exact_payments, paid_amounts_agree
            # The receipts and the push's own read of the open items: the payments' cost.
            self.figures.payment_calls.update(
                self.counted(lambda: payments.push_payments(window))[1]
            )
            payments.differences(window)

    def keep_alive(self) -> None:
        with open_exact(self.config, self.url, BENCH_TOKEN_KEY) as exact:
            exact.me()

    def idle_import(self, moment: datetime) -> dict[int, int]:
        """`payments_from_exact` twice with payment_sync exact_to_billing: the second's calls."""
        folder = settings_folder(self.folder.parent / f"{self.mode}_import", self.mode, True)
        mappings = load_mappings(folder)

        def once() -> None:
            with self.session(PaymentSync, moment, mappings) as payments:
                payments.import_payments()

        once()
        return self.counted(once)[0]

    @contextmanager
    def session(
        self, kind: type[S], moment: datetime, mappings: Mappings | None = None
    ) -> Iterator[S]:
        """A step's engine with its own client, on the simulated clock."""
        with (
            open_exact(self.config, self.url, BENCH_TOKEN_KEY) as exact,
            kind(
                billing_url=self.url,
                state_url=self.url,
                mappings=mappings or self.mappings,
                exact=exact,
                now=lambda: moment,
            ) as session,
        ):
            yield session

    def counted(self, action: Callable[[], object]) -> tuple[dict[int, int], dict[str, int]]:
        """The calls `action` makes, per division and per endpoint."""
        before = self.sandbox.admin("GET", "requests")
        action()
        after = self.sandbox.admin("GET", "requests")
        by_division = {
            int(d): n - before["by_division"].get(d, 0)
            for d, n in after["by_division"].items()
            if n - before["by_division"].get(d, 0)
        }
        by_endpoint = {
            e: n - before["by_endpoint"].get(e, 0)
            for e, n in after["by_endpoint"].items()
            if n - before["by_endpoint"].get(e, 0)
        }
        return {d: by_division.get(d, 0) for d in self._divisions()}, by_endpoint

    def _divisions(self) -> list[int]:
        return sorted({e.division for e in self.mappings.settings.entities.values()})


def settings_folder(target: Path, mode: str, importing: bool = False) -> Path:
    """The repository's mapping tables in `mode` (payments imported from Exact: `importing`)."""
    shutil.copytree(REPO / "mappings", target)
    path = target / "settings.yaml"
    values = {"invoice_push_mode": mode}
    if importing:
        values["payment_sync"] = "exact_to_billing"
    path.write_text(
        "\n".join(
            f"{row.split(':')[0]}: {values[row.split(':')[0]]}"
            if row.split(":")[0] in values
            else row
            for row in path.read_text().splitlines()
        )
        + "\n"
    )
    return target


def templates(url: str, mappings: Mappings, window: Window) -> list[BillingDocument]:
    """The history's invoices that sync without a block, of every entity, in a fixed order."""
    unmapped = {p.id for p in catalog.UNMAPPED_PRODUCTS}
    with psycopg.connect(url) as conn:
        documents = read_documents(conn, window.start, window.end)
    return [
        d
        for d in documents
        if d.type == "invoice"
        and d.status in ("to_pay", "paid")
        and d.entity.id in mappings.settings.entities
        and d.lines
        and all(ln.product and ln.product.id not in unmapped for ln in d.lines)
    ]


def bench_calls(
    admin_url: str, day: date | None = None, modes: tuple[str, ...] = MODES
) -> dict[str, CallFigures]:
    """Each mode's day (by default yesterday, so every run of it lies in the past)."""
    figures: dict[str, CallFigures] = {}
    with tempfile.TemporaryDirectory(prefix="bench-calls-") as scratch:
        for mode in modes:
            simulated = Day(admin_url, mode, day or date.today() - timedelta(days=1), Path(scratch))
            try:
                simulated.prepare()
                figures[mode] = simulated.simulate()
            finally:
                simulated.close()
    return figures


def report(figures: dict[str, CallFigures]) -> None:
    for mode, f in figures.items():
        kinds = ("posts", "customers", "master_data", "read_back", "other")
        parts = ", ".join(f"{k} {f.per_document(k):.2f}" for k in kinds)
        line(
            "calls",
            f"{mode}: {f.per_document():.2f} per document over a day of {f.documents} "
            f"documents ({parts}); {f.payments} payments pushed, "
            f"{f.payment_calls.total() / max(f.payments, 1):.2f} calls each "
            f"({dict(f.payment_calls)})",
        )
        line(
            "idle",
            f"{mode}: a run with nothing new: {f.idle} calls by division "
            f"({f.idle_endpoints or 'none'}); payments_from_exact: {f.idle_import}; "
            f"first run after midnight: {f.after_day} calls",
        )
