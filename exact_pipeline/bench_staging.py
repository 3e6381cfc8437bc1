"""The staging part of `exact-pipeline bench`: a year of billing documents read plainly
(`COPY … TO STDOUT`), then staged into an empty ledger, then staged again unchanged, side by
side, with the peak memory of each stage.

Each stage runs in a fresh child process (spawned, so it inherits nothing of this one): its
peak RSS (`VmHWM`) is then the stage's own, next to what the same process held once its
imports were done. The stage makes no Exact call; its client points at an address nothing
listens on, so one would fail loudly.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from multiprocessing.connection import Connection as Pipe
from pathlib import Path

import psycopg
from psycopg import sql

from exact_pipeline.bench_setup import line
from exact_pipeline.demo.seed import seed_billing
from exact_pipeline.exact.config import ExactConfig
from exact_pipeline.mapping import load_mappings
from exact_pipeline.postgres import create_database
from exact_pipeline.settings import STATE_SCHEMA
from exact_pipeline.state.exact import open_exact
from exact_pipeline.sync.core.window import Window
from exact_pipeline.sync.documents.engine import SyncEngine

MAPPINGS = Path("mappings")
# Nothing listens there: the stage must not call Exact.
NO_EXACT = ExactConfig(
    base_url="http://127.0.0.1:9",
    client_id="bench-staging",
    client_secret="unused",
    redirect_uri="http://127.0.0.1:9/callback",
)

# What the reader fetches for a window, as plain rows: documents with their entity and
# customer, their lines, their PDFs (the bytes included).
_PLAIN_READS = (
    """SELECT d.*, e.*, c.* FROM invoices d
       JOIN invoicing_entities e ON e.id = d.invoicing_entity_id
       JOIN customers c ON c.id = d.customer_id
       WHERE d.issued_at >= {start} AND d.issued_at < {end} AND d.status <> 'draft'""",
    """SELECT l.* FROM invoice_lines l JOIN invoices d ON d.id = l.invoice_id
       WHERE d.issued_at >= {start} AND d.issued_at < {end} AND d.status <> 'draft'""",
    """SELECT p.* FROM invoice_pdfs p JOIN invoices d ON d.id = p.invoice_id
       WHERE d.issued_at >= {start} AND d.issued_at < {end} AND d.status <> 'draft'""",
)


@dataclass(frozen=True)
class PlainRead:
    seconds: float
    rows: int
    megabytes: float  # as COPY's text format sends them
    cpu_seconds: float  # of this process
    server_cpu_seconds: float | None  # of the Postgres cluster (None: not a local one)


@dataclass(frozen=True)
class StageRun:
    seconds: float
    cpu_seconds: float  # of the staging process alone (Postgres's work is not in it)
    server_cpu_seconds: float | None  # of the Postgres cluster meanwhile (None: not local)
    documents: int  # in the ledger for the window afterwards
    written: int  # ledger rows inserted or updated by this stage
    peak_mb: float  # the child process's peak RSS
    imports_mb: float  # its RSS before staging (the interpreter and the pipeline's modules)


@dataclass(frozen=True)
class StagingFigures:
    window: Window
    plain_read: PlainRead
    first: StageRun  # into an empty ledger
    again: StageRun  # nothing changed in billing


def plain_read(billing_url: str, window: Window) -> PlainRead:
    """The window's documents, lines and PDFs as `COPY … TO STDOUT` sends them (as `psql
    \\copy` would), counted and dropped."""
    bounds = {"start": sql.Literal(window.start), "end": sql.Literal(window.end)}
    rows = size = 0
    server = ServerClock(billing_url)
    began, cpu, server_began = time.perf_counter(), time.process_time(), server.seconds()
    with psycopg.connect(billing_url) as conn, conn.cursor() as cur:
        for query in _PLAIN_READS:
            statement = sql.SQL("COPY ({}) TO STDOUT").format(sql.SQL(query).format(**bounds))
            with cur.copy(statement) as copy:
                for chunk in copy:
                    size += len(chunk)
                    rows += bytes(chunk).count(b"\n")
    took, cpu = time.perf_counter() - began, time.process_time() - cpu
    return PlainRead(took, rows, size / 2**20, cpu, server.since(server_began))


class ServerClock:
    """The CPU time of a local Postgres cluster, from /proc: its postmaster's own and that of
    the children it reaped (backends that ended), plus its live children's. On a shared
    machine, wall times say more of the neighbours than of the work; CPU times do not."""

    def __init__(self, url: str) -> None:
        with psycopg.connect(url) as conn:
            row = conn.execute("SELECT pg_backend_pid()").fetchone()
            assert row is not None
            stat = _proc_stat(row[0])  # while the backend lives
        self.postmaster = int(stat[1]) if stat else None  # the backend's parent
        self._children = set(self._ticks_of_children())

    def seconds(self) -> float | None:
        """Its CPU time so far; the backends that ended since the clock was made are waited
        for until reaped (a backend exiting is briefly counted nowhere)."""
        if self.postmaster is None:
            return None
        deadline = time.monotonic() + 5
        while (children := self._ticks_of_children()).keys() - self._children:
            if time.monotonic() > deadline:
                break  # a connection still open: its time so far is counted
            time.sleep(0.01)
        own = _proc_stat(self.postmaster)
        if own is None:
            return None
        ticks = sum(map(int, own[11:15])) + sum(children.values())  # utime, stime, cutime, cstime
        return ticks / os.sysconf("SC_CLK_TCK")

    def since(self, began: float | None) -> float | None:
        now = self.seconds()
        return None if now is None or began is None else now - began

    def _ticks_of_children(self) -> dict[int, int]:
        ticks = {}
        for entry in Path("/proc").iterdir():
            stat = _proc_stat(int(entry.name)) if entry.name.isdigit() else None
            if stat is not None and int(stat[1]) == self.postmaster:
                ticks[int(entry.name)] = int(stat[11]) + int(stat[12])
        return ticks


def _proc_stat(pid: int) -> list[str] | None:
    """/proc/<pid>/stat's fields after the command (state, ppid, …), or None when unreadable
    (no such process, another machine's server, no /proc)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rpartition(")")[2].split()


def _rss_mb() -> float:
    """This process's peak RSS. Not `ru_maxrss`: Linux carries that across exec, so a spawned
    child would report its parent's peak; `VmHWM` is the child's own."""
    status = Path("/proc/self/status").read_text()
    return int(next(r for r in status.splitlines() if r.startswith("VmHWM:")).split()[1]) / 1024


def _stage_in_child(billing_url: str, window: Window, answer: Pipe) -> None:
    imports_mb = _rss_mb()
    mappings = load_mappings(MAPPINGS)
    with (
        open_exact(NO_EXACT, billing_url, "bench-staging") as exact,
        SyncEngine(
            billing_url=billing_url, state_url=billing_url, mappings=mappings, exact=exact
        ) as engine,
    ):
        versions = _version_sum(billing_url)
        began, cpu = time.perf_counter(), time.process_time()
        engine.stage(window)
        took, cpu = time.perf_counter() - began, time.process_time() - cpu
        written = _version_sum(billing_url) - versions
        documents = sum(engine.ledger_counts(window).values())
    answer.send(StageRun(took, cpu, None, documents, written, _rss_mb(), imports_mb))
    answer.close()


def _version_sum(state_url: str) -> int:
    """Rows plus their versions: grows by one per row inserted or updated."""
    query = sql.SQL("SELECT count(*) + coalesce(sum(version), 0) FROM {}.ledger_documents")
    with psycopg.connect(state_url) as conn:
        row = conn.execute(query.format(sql.Identifier(STATE_SCHEMA))).fetchone()
    assert row is not None
    return int(row[0])


def stage_in_child(billing_url: str, window: Window) -> StageRun:
    """`SyncEngine.stage(window)` in a fresh process (billing and the state in one database)."""
    spawn = multiprocessing.get_context("spawn")
    mine, theirs = spawn.Pipe(duplex=False)
    child = spawn.Process(target=_stage_in_child, args=(billing_url, window, theirs))
    server = ServerClock(billing_url)
    began = server.seconds()  # the child's imports and connections count too: a few ms
    child.start()
    theirs.close()
    try:
        run: StageRun = mine.recv()
    except EOFError as died:
        child.join()
        raise RuntimeError(f"the staging process died (exit code {child.exitcode})") from died
    child.join()
    return replace(run, server_cpu_seconds=server.since(began))


def measure_staging(billing_url: str, window: Window) -> StagingFigures:
    """Plain read, first stage (into an empty ledger), stage again, on `billing_url`, settled
    first: vacuumed as a production database is, so no autovacuum works through the freshly
    seeded tables on the CPU both measures need. The read and the first stage take turns,
    `ROUNDS` times, and each is its best run: on a shared machine the slowest run says more of
    the neighbours than of the work, and turns give both the same neighbours."""
    with psycopg.connect(billing_url, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")
    reads, firsts = [], []
    for _ in range(ROUNDS):
        reads.append(plain_read(billing_url, window))
        firsts.append(_first_stage(billing_url, window))
    read = min(reads, key=lambda r: r.seconds)
    first = min(firsts, key=lambda r: r.seconds)
    again = stage_in_child(billing_url, window)
    return StagingFigures(window, read, first, again)


ROUNDS = 3


def _first_stage(billing_url: str, window: Window) -> StageRun:
    with psycopg.connect(billing_url, autocommit=True) as conn:
        drop = sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE")
        conn.execute(drop.format(sql.Identifier(STATE_SCHEMA)))
    return stage_in_child(billing_url, window)


def year_window(today: date) -> Window:
    """The seeded year: every day up to and including `today`, in the mapping tables' zone."""
    zone = load_mappings(MAPPINGS).settings.zone
    end = datetime.combine(today + timedelta(days=1), datetime.min.time(), zone)
    return Window(end - timedelta(days=366), end)


def bench_staging(admin_url: str, customers: int, months: int, today: date) -> StagingFigures:
    """Seed `months` of billing (≈100k invoices a year at 8,500 customers) and measure."""
    url = create_database(admin_url, "bench_staging", drop_existing=True)
    seed_billing(url, customers=customers, months=months, today=today)
    return measure_staging(url, year_window(today))


def print_staging(figures: StagingFigures) -> None:
    read, first, again = figures.plain_read, figures.first, figures.again
    line(
        "staging",
        f"plain read (COPY, best of {ROUNDS}): {read.rows:,} rows, {read.megabytes:,.0f} MB in "
        f"{read.seconds:.1f} s"
        f" ({_cpu(read.cpu_seconds, read.server_cpu_seconds)})",
    )
    read_cpu = _total(read.cpu_seconds, read.server_cpu_seconds)
    for label, run in ((f"first (best of {ROUNDS})", first), ("unchanged", again)):
        run_cpu = _total(run.cpu_seconds, run.server_cpu_seconds)
        cpu_ratio = f", {run_cpu / read_cpu:.1f}× its CPU" if run_cpu and read_cpu else ""
        line(
            "",
            f"stage {label}: {run.documents:,} documents, {run.written:,} rows written in "
            f"{run.seconds:.1f} s ({run.seconds / read.seconds:.1f}× the plain read{cpu_ratio}; "
            f"{_cpu(run.cpu_seconds, run.server_cpu_seconds)}), "
            f"peak RSS {run.peak_mb:,.0f} MB ({run.imports_mb:,.0f} MB of it imports)",
        )


def _total(cpu: float, server: float | None) -> float | None:
    return None if server is None else cpu + server


def _cpu(cpu: float, server: float | None) -> str:
    if server is None:
        return f"{cpu:.1f} s CPU"
    return f"{cpu + server:.1f} s CPU: {cpu:.1f} s here, {server:.1f} s in Postgres"
