"""`exact-pipeline bench`: the figures behind "fast" and "frugal", side by side in one run —
seeding and reading, syncing, Exact calls per document over a realistic day and an idle run's
calls (bench_calls.py), two divisions against one (bench_divisions.py), a backfill against the
daily budget and its resume (bench_backfill.py), staging a year against a plain read
(bench_staging.py), the sensor's latency (bench_latency.py), the webhooks' latency
(bench_webhooks.py), memory.

Runs on an embedded Postgres (or `TEST_DATABASE_URL`'s server) and a sandbox child process,
and prints what it measured; nothing is asserted here (the tests do that).
"""

from __future__ import annotations

import resource
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import click
import psycopg

from exact_pipeline.bench_setup import BENCH_TOKEN_KEY, consent, line, sandbox_config
from exact_pipeline.billing.read import read_documents
from exact_pipeline.demo.sandbox_process import SandboxProcess
from exact_pipeline.demo.seed import seed_billing
from exact_pipeline.mapping import load_mappings
from exact_pipeline.postgres import create_database, scratch_server
from exact_pipeline.state.exact import open_exact
from exact_pipeline.sync.core.window import Window
from exact_pipeline.sync.documents.engine import SyncEngine

EXACT_CALLS_PER_MINUTE, EXACT_CALLS_PER_DAY = 60, 5_000


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_seed_and_read(admin_url: str, customers: int, months: int, today: date) -> None:
    url = create_database(admin_url, "bench_billing", drop_existing=True)
    report = seed_billing(url, customers=customers, months=months, today=today)
    rate = report.invoices / report.total_seconds
    line(
        "seed",
        f"{report.invoices:,} invoices, {report.credit_notes:,} credit notes, "
        f"{report.lines:,} lines, {report.pdfs:,} PDFs in {report.total_seconds:.1f} s "
        f"({rate:,.0f} invoices/s)",
    )
    zone = datetime.now().astimezone().tzinfo
    start = datetime.combine(today.replace(day=1), datetime.min.time(), zone)
    with psycopg.connect(url) as conn:
        began = time.perf_counter()
        documents = read_documents(conn, start - timedelta(days=31), start)
        took = time.perf_counter() - began
    line("read", f"one month: {len(documents):,} documents with lines and PDFs in {took:.2f} s")


def bench_sync(admin_url: str, customers: int, today: date) -> None:
    billing_url = create_database(admin_url, "bench_sync", drop_existing=True)
    seed_billing(billing_url, customers=customers, months=1, today=today)
    mappings = load_mappings(Path("mappings"))
    sandbox = SandboxProcess()
    try:
        sandbox.admin("POST", "config", minutely_limit=1_000_000, daily_limit=1_000_000)
        config = sandbox_config(sandbox)
        code = consent(sandbox, config, mappings)
        zone = mappings.settings.zone
        end = datetime.combine(today + timedelta(days=1), datetime.min.time(), zone)
        window = Window(end - timedelta(days=40), end)
        with open_exact(config, billing_url, BENCH_TOKEN_KEY) as exact:
            exact.connect(code)
            sandbox.admin("DELETE", "requests")
            engine_args = {"billing_url": billing_url, "state_url": billing_url}
            with SyncEngine(**engine_args, mappings=mappings, exact=exact) as engine:
                began = time.perf_counter()
                engine.sync_customers(window)
                report = engine.push_documents(window)
                took = time.perf_counter() - began
                pushed = report.counts["pushed"]
                calls = sandbox.admin("GET", "requests")["by_endpoint"]
                document_calls = sum(
                    n for k, n in calls.items() if k.startswith("POST") and "Accounts" not in k
                )
                per_document = document_calls / max(pushed, 1)
                line(
                    "sync",
                    f"{pushed:,} documents ({mappings.settings.invoice_push_mode}) in "
                    f"{took:.1f} s wall without rate limits ({pushed / took:,.1f} documents/s), "
                    f"{per_document:.2f} POSTs per document",
                )
                per_minute = EXACT_CALLS_PER_MINUTE / per_document
                line(
                    "",
                    f"at Exact's limits: {per_minute:.0f} documents/minute per division, "
                    f"{per_minute * 60:,.0f}/hour, {EXACT_CALLS_PER_DAY / per_document:,.0f}/day",
                )
                sandbox.admin("DELETE", "requests")
                began = time.perf_counter()
                engine.push_documents(window)
                again = time.perf_counter() - began
                posts = sum(
                    n
                    for k, n in sandbox.admin("GET", "requests")["by_endpoint"].items()
                    if k.startswith("POST")
                )
                line("re-run", f"{posts} POSTs, {again:.1f} s")
    finally:
        sandbox.stop()


PARTS = ("seed", "sync", "calls", "divisions", "backfill", "staging", "latency", "webhooks")


def print_webhooks(figures: dict[str, Any]) -> None:
    latency, parts = figures["latency_s"], ("to_stored_s", "to_run_request_s", "run_duration_s")
    line(
        "webhooks",
        f"payment registered in Exact → in billing: median {latency.get('median')} s, max "
        f"{latency.get('max')} s over {figures['in_billing']}/{figures['payments']} payments "
        f"(sensor every {figures['sensor_interval_s']:.0f} s, a process per run)",
    )
    spans = ", ".join(f"{p.removesuffix('_s')} {figures[p].get('median')} s" for p in parts)
    line(
        "",
        f"medians: {spans}; {figures['import_runs']} import runs, "
        f"{figures['sync_reads_per_run']} Exact reads per run",
    )


@click.command()
@click.option("--customers", default=8_500, show_default=True, help="≈100k invoices a year")
@click.option("--months", default=12, show_default=True)
@click.option("--sync-customers", default=300, show_default=True)
@click.option(
    "--latency-invoices",
    default=3,
    show_default=True,
    help="invoices followed from their commit to Exact",
)
@click.option(
    "--webhook-payments", default=3, show_default=True, help="payments followed to billing"
)
@click.option(
    "--only",
    type=click.Choice(PARTS),
    multiple=True,
    help="run these parts only (repeatable); default: all",
)
def bench(
    customers: int,
    months: int,
    sync_customers: int,
    latency_invoices: int,
    webhook_payments: int,
    only: tuple[str, ...],
) -> None:
    """Measure every figure of the README's performance table and print them."""
    parts = set(only or PARTS)
    today = date.today()
    # Imported per part: some load Dagster and the definitions, which the others skip.
    with scratch_server() as admin_url:
        if "seed" in parts:
            bench_seed_and_read(admin_url, customers, months, today)
        if "sync" in parts:
            bench_sync(admin_url, sync_customers, today)
        if "calls" in parts:
            from exact_pipeline.bench_calls import bench_calls, report

            report(bench_calls(admin_url))
        if "divisions" in parts:
            from exact_pipeline.bench_divisions import measure_divisions, print_divisions

            print_divisions(measure_divisions(admin_url))
        if "backfill" in parts:
            from exact_pipeline.bench_backfill import measure_backfill, print_backfill

            print_backfill(measure_backfill(admin_url))
        if "staging" in parts:
            from exact_pipeline.bench_staging import bench_staging, print_staging

            print_staging(bench_staging(admin_url, customers, months, today))
        if "latency" in parts:
            from exact_pipeline.bench_latency import bench_latency

            bench_latency(admin_url, latency_invoices)
        if "webhooks" in parts:
            from exact_pipeline.bench_webhooks import measure_webhook_latency

            print_webhooks(measure_webhook_latency(admin_url, webhook_payments))
    line("memory", f"peak RSS of this process {peak_rss_mb():,.0f} MB (stages: their own above)")
