"""Divisions in parallel (issue 13, item 1): documents per minute with one division against two,
under Exact's real minutely limit (60 calls a window) on a compressed clock (the sandbox's
`window_seconds`), with each window's use and the 429s from the sandbox's request log.

Each division is pushed as a step's worker pushes it (defs/per_division.py): its own engine
over the run's one `ExactClient`, one thread per division; the Dagster slot claims around it
cost no Exact call and are left out. Each division pushes about the same number of documents
(its latest ones), so neither runs alone at the end. The daily limit is lifted: a compressed
minute does not compress Exact's day. Nothing is asserted here (the tests do that).

The window must leave the sandbox time to answer 60 calls (PDF uploads included) per division:
at 5 s on a loaded machine the sandbox, not Exact's limit, sets the pace.

    python -m exact_pipeline.bench_divisions [--customers 300] [--documents 60] [--window 15]
"""

from __future__ import annotations

import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import click
import psycopg

from exact_pipeline.bench_setup import BENCH_TOKEN_KEY, consent, line, sandbox_config
from exact_pipeline.billing.read import read_documents
from exact_pipeline.demo.sandbox_process import SandboxProcess
from exact_pipeline.demo.seed import seed_billing
from exact_pipeline.mapping import Mappings, load_mappings
from exact_pipeline.postgres import create_database, scratch_server
from exact_pipeline.state.exact import open_exact
from exact_pipeline.sync.core.window import Window
from exact_pipeline.sync.documents.engine import SyncEngine

MINUTELY_LIMIT = 60  # Exact's, per division


@dataclass(frozen=True)
class DivisionRun:
    """One push of `divisions` side by side, as the sandbox saw it."""

    divisions: tuple[int, ...]
    documents: int  # pushed
    seconds: float  # wall time of the push, all divisions
    window_seconds: int  # the sandbox's minute
    calls: int  # answered (not refused) calls to the divisions
    utilisation: dict[int, float]  # per division: % of its full windows' calls used
    rate_limited: int  # 429 answers

    @property
    def per_minute(self) -> float:
        """Documents per Exact minute (one sandbox window)."""
        return self.documents / self.seconds * self.window_seconds


@dataclass(frozen=True)
class DivisionFigures:
    one: DivisionRun
    two: DivisionRun

    @property
    def speedup(self) -> float:
        return self.two.per_minute / self.one.per_minute


def measure_divisions(
    admin_url: str,
    customers: int = 300,
    documents: int = 60,
    window_seconds: int = 15,
    today: date | None = None,
) -> DivisionFigures:
    """Seed a month of billing, then push about `documents` of the latest documents of the
    first mapped division alone, and as many of each of the first two side by side (each on a
    fresh sandbox and state), with a minute of `window_seconds`."""
    today = today or date.today()
    billing_url = create_database(admin_url, "bench_divisions", drop_existing=True)
    seed_billing(billing_url, customers=customers, months=1, today=today)
    mappings = load_mappings(Path("mappings"))
    end = datetime.combine(today + timedelta(days=1), datetime.min.time(), mappings.settings.zone)
    windows = latest(billing_url, mappings, Window(end - timedelta(days=31), end), documents)
    divisions = sorted(windows)[:2]
    runs = [
        push_side_by_side(
            admin_url, billing_url, mappings, {d: windows[d] for d in chosen}, window_seconds
        )
        for chosen in (divisions[:1], divisions)
    ]
    return DivisionFigures(*runs)


def latest(
    billing_url: str, mappings: Mappings, month: Window, documents: int
) -> dict[int, Window]:
    """Per division, the window from the issue time of its `documents`-th latest document of
    `month` to the month's end."""
    with psycopg.connect(billing_url) as conn:
        found = read_documents(conn, month.start, month.end)
    issued: dict[int, list[datetime]] = {}
    for document in found:
        if entity := mappings.settings.entities.get(document.entity.id):
            issued.setdefault(entity.division, []).append(document.issued_at)
    return {
        division: Window(sorted(times)[-min(documents, len(times))], month.end)
        for division, times in issued.items()
    }


def push_side_by_side(
    admin_url: str,
    billing_url: str,
    mappings: Mappings,
    windows: dict[int, Window],
    window_seconds: int,
) -> DivisionRun:
    divisions = tuple(windows)
    state_url = create_database(admin_url, "bench_divisions_state", drop_existing=True)
    sandbox = SandboxProcess()
    try:
        sandbox.admin(
            "POST",
            "config",
            window_seconds=window_seconds,
            minutely_limit=MINUTELY_LIMIT,
            daily_limit=1_000_000,
        )
        config = sandbox_config(sandbox)
        with open_exact(config, state_url, BENCH_TOKEN_KEY, minute_seconds=window_seconds) as exact:
            exact.connect(consent(sandbox, config, mappings))
            sandbox.admin("DELETE", "requests")

            def push(division: int) -> int:
                with SyncEngine(
                    billing_url=billing_url, state_url=state_url, mappings=mappings, exact=exact
                ) as engine:
                    return engine.push_documents(windows[division], division).counts["pushed"]

            began = time.perf_counter()
            with ThreadPoolExecutor(len(divisions)) as pool:
                pushed = sum(pool.map(push, divisions))
            seconds = time.perf_counter() - began
        log = sandbox.admin("GET", "requests")
    finally:
        sandbox.stop()
    answered = [e for e in log["log"] if e["division"] in divisions and e["status"] != 429]
    return DivisionRun(
        divisions=divisions,
        documents=pushed,
        seconds=seconds,
        window_seconds=window_seconds,
        calls=len(answered),
        utilisation={
            d: window_use([e["at"] for e in answered if e["division"] == d], window_seconds)
            for d in divisions
        },
        rate_limited=log["by_status"].get("429", 0),
    )


def window_use(times: list[str], window_seconds: int) -> float:
    """% of the minutely limit used over the full windows between a division's first and last
    window (those two are partial: the push starts and ends inside them); 100 when the push
    fits in two windows."""
    windows = Counter(int(datetime.fromisoformat(at).timestamp() // window_seconds) for at in times)
    if not windows:
        return 0.0
    full = range(min(windows) + 1, max(windows))
    if not full:
        return 100.0
    return 100 * sum(windows[w] for w in full) / (len(full) * MINUTELY_LIMIT)


def print_divisions(figures: DivisionFigures) -> None:
    for run in (figures.one, figures.two):
        use = ", ".join(f"{d} {pct:.0f} %" for d, pct in run.utilisation.items())
        line(
            "divisions",
            f"{len(run.divisions)}: {run.documents} documents in {run.seconds:.1f} s = "
            f"{run.per_minute:.1f}/minute ({run.window_seconds} s minute, {MINUTELY_LIMIT} calls); "
            f"windows used {use}; {run.rate_limited} × 429",
        )
    line("", f"two divisions against one: {figures.speedup:.2f}×")


@click.command()
@click.option("--customers", default=300, show_default=True)
@click.option("--documents", default=60, show_default=True, help="per division")
@click.option("--window", default=15, show_default=True, help="the sandbox's minute, seconds")
def main(customers: int, documents: int, window: int) -> None:
    with scratch_server() as admin_url:
        print_divisions(measure_divisions(admin_url, customers, documents, window))


if __name__ == "__main__":
    main()
