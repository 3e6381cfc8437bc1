"""Quota-aware backfills (issue 13, item 3): how much of a division's daily budget a backfill
uses before it stops at the live reserve, how fully it uses each minute on the way (and how
many 429s it meets), and whether it resumes after Exact's daily reset.

One division's history is pushed as a backfill run pushes it (defs/documents/assets.py: day by
day, every call kept above `live_reserve_percent` of the daily limit, quota.py) under Exact's
real minutely limit on a compressed clock (the sandbox's `window_seconds`) and a small daily
limit; then the sandbox's clock is moved past the next UTC midnight and a new client (a new
run, as the resume sensor starts it) pushes again. Nothing is asserted here (the tests do that).

    python -m exact_pipeline.bench_backfill [--customers 150] [--daily-limit 600]
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import click

from exact_pipeline.bench_divisions import MINUTELY_LIMIT, window_use
from exact_pipeline.bench_setup import BENCH_TOKEN_KEY, consent, line, sandbox_config
from exact_pipeline.defs.quota import Quota, live_days
from exact_pipeline.demo.sandbox_process import SandboxProcess
from exact_pipeline.demo.seed import seed_billing
from exact_pipeline.exact.config import ExactConfig
from exact_pipeline.mapping import Mappings, load_mappings
from exact_pipeline.postgres import create_database, scratch_server
from exact_pipeline.state.exact import open_exact
from exact_pipeline.sync.core.window import Window
from exact_pipeline.sync.documents.engine import SyncEngine

PERCENT = 20  # the default live_reserve_percent
WINDOW_SECONDS = 5  # Exact's minute, compressed


@dataclass(frozen=True)
class BackfillFigures:
    division: int
    daily_limit: int
    reserve: int  # calls kept for live documents
    used_at_stop: int  # the division's daily calls when the backfill stopped
    stopped: str | None  # the run's sentence
    utilisation: float  # % of the minutely limit used over the backfill's full windows
    rate_limited: int  # 429 answers during the backfill
    seconds: float
    left_before: int  # documents staged after the first day's stop
    left_after: int  # after the resumed push, a sandbox day later
    used_after_resume: int  # the division's calls on the new budget day

    @property
    def use_of_usable(self) -> float:
        """The daily budget used before stopping, as % of what the reserve leaves."""
        return 100 * self.used_at_stop / (self.daily_limit - self.reserve)


def measure_backfill(
    admin_url: str, customers: int = 150, daily_limit: int = 600, today: date | None = None
) -> BackfillFigures:
    """Seed two months of billing and backfill the first mapped division's days before the
    live ones (more than a day's budget), then resume it a sandbox day later."""
    today = today or date.today()
    url = create_database(admin_url, "bench_backfill", drop_existing=True)
    seed_billing(url, customers=customers, months=2, today=today)
    mappings = load_mappings(Path("mappings"))
    division = min(e.division for e in mappings.settings.entities.values())
    zone = mappings.settings.zone
    quota = Quota(backfill=True, percent=PERCENT, live=live_days(datetime.now(zone), zone))
    first = datetime.combine(today - timedelta(days=40), datetime.min.time(), zone)
    days = [
        (day.date().isoformat(), Window(day, day + timedelta(days=1)))
        for day in (first + timedelta(days=n) for n in range(38))  # up to the day before yesterday
    ]
    sandbox = SandboxProcess()
    try:
        sandbox.admin(
            "POST",
            "config",
            window_seconds=WINDOW_SECONDS,
            minutely_limit=MINUTELY_LIMIT,
            daily_limit=daily_limit,
        )
        config = sandbox_config(sandbox)
        with open_exact(config, url, BENCH_TOKEN_KEY, minute_seconds=WINDOW_SECONDS) as exact:
            exact.connect(consent(sandbox, config, mappings))
        sandbox.admin("DELETE", "requests")
        began = time.perf_counter()
        stopped, left_before = backfill(config, url, mappings, quota, division, days)
        seconds = time.perf_counter() - began
        log = sandbox.admin("GET", "requests")
        used_at_stop = usage(sandbox, division)
        past_the_daily_reset(sandbox)
        _, left_after = backfill(config, url, mappings, quota, division, days)
        used_after = usage(sandbox, division)
    finally:
        sandbox.stop()
    answered = [e for e in log["log"] if e["division"] == division and e["status"] != 429]
    return BackfillFigures(
        division=division,
        daily_limit=daily_limit,
        reserve=-(-daily_limit * PERCENT // 100),
        used_at_stop=used_at_stop,
        stopped=stopped,
        utilisation=window_use([e["at"] for e in answered], WINDOW_SECONDS),
        rate_limited=log["by_status"].get("429", 0),
        seconds=seconds,
        left_before=left_before,
        left_after=left_after,
        used_after_resume=used_after,
    )


def backfill(
    config: ExactConfig,
    url: str,
    mappings: Mappings,
    quota: Quota,
    division: int,
    days: list[tuple[str, Window]],
) -> tuple[str | None, int]:
    """One backfill run's push of `division` with its own client, day by day until a stop:
    why it stopped, and the documents it left staged."""
    stopped = None
    with (
        open_exact(config, url, BENCH_TOKEN_KEY, minute_seconds=WINDOW_SECONDS) as exact,
        SyncEngine(billing_url=url, state_url=url, mappings=mappings, exact=exact) as engine,
    ):
        engine.stage(Window(days[0][1].start, days[-1][1].end))  # the payloads step, first
        for key, window in quota.live_first(days):
            with quota.spending(exact, division, key):
                stopped = engine.push_documents(window, division).stopped
            if stopped:
                break
        left = engine.backlog(date.fromisoformat(days[-1][0]) + timedelta(days=1))
        return stopped, left.by_division().get(division, 0)


def usage(sandbox: SandboxProcess, division: int) -> int:
    return sandbox.admin("GET", "limits")["usage"][str(division)]["daily_used"]


def past_the_daily_reset(sandbox: SandboxProcess) -> None:
    """The sandbox's clock a few seconds past the next UTC midnight (Exact's daily reset)."""
    now = sandbox.admin("GET", "clock")["epoch_ms"] / 1000
    midnight = datetime.fromtimestamp(now, UTC).date() + timedelta(days=1)
    reset = datetime.combine(midnight, datetime.min.time(), UTC).timestamp()
    sandbox.admin("POST", "clock/advance", seconds=reset + 5 - now)


def print_backfill(figures: BackfillFigures) -> None:
    line(
        "backfill",
        f"division {figures.division}, daily limit {figures.daily_limit}, live reserve "
        f"{figures.reserve} ({PERCENT} %): stopped after {figures.used_at_stop} calls = "
        f"{figures.use_of_usable:.1f} % of what the reserve leaves, in {figures.seconds:.0f} s",
    )
    line(
        "",
        f"minutes used {figures.utilisation:.0f} % ({WINDOW_SECONDS} s minute, "
        f"{MINUTELY_LIMIT} calls); {figures.rate_limited} × 429",
    )
    line(
        "",
        f"resumed a sandbox day later: {figures.left_before} documents left before, "
        f"{figures.left_after} after ({figures.used_after_resume} calls on the new day)",
    )


@click.command()
@click.option("--customers", default=150, show_default=True)
@click.option("--daily-limit", default=600, show_default=True)
def main(customers: int, daily_limit: int) -> None:
    with scratch_server() as admin_url:
        print_backfill(measure_backfill(admin_url, customers, daily_limit))


if __name__ == "__main__":
    main()
