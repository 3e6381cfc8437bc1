"""Webhook latency: from a payment registered in Exact to the payment in billing, through the
real path: the sandbox's signed delivery → `exact-pipeline webhooks serve`'s app (uvicorn, on a
free port) → the `exact_payment_events` sensor (ticked every `minimum_interval_seconds`, at a
random phase) → an `import_payments` run in a process of its own, as the daemon's launcher
starts it (after a uniform share of the run queue's dequeue interval).

`measure_webhook_latency(admin_url, payments)` returns the figures; it asserts nothing.
"""

from __future__ import annotations

import os
import random
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import psycopg
import uvicorn

from exact_pipeline import definitions
from exact_pipeline.bench_latency import (
    RunLauncher,
    commit_copy,
    connected_env,
    dagster_home,
    environment,
    mapping_folder,
    template,
)
from exact_pipeline.bench_setup import BENCH_TOKEN_KEY, sandbox_config
from exact_pipeline.demo.payments import register_demo_payments
from exact_pipeline.demo.sandbox_process import SandboxProcess, free_port
from exact_pipeline.demo.seed import seed_billing
from exact_pipeline.exact.endpoints import SYNC_DELETED, SYNC_PAYMENT_TERMS
from exact_pipeline.mapping import load_mappings
from exact_pipeline.postgres import create_database
from exact_pipeline.state.exact import open_exact
from exact_pipeline.webhooks.server import WEBHOOK_PATH, webhook_app
from exact_pipeline.webhooks.subscriptions import subscribe_payments

SENSOR, JOB = "exact_payment_events", "import_payments"
SECRET = "sandbox-webhook-secret"  # the sandbox's demo app signs with it (sandbox/config.py)
REPO = Path(__file__).resolve().parents[1]
TIMEOUT = 180.0  # seconds from registration: beyond it a payment counts as lost
POLL = 0.25


@dataclass
class Sample:
    invoice: str
    registered: float  # the bank entry's POST answered
    stored: float | None = None  # the event in the state database
    requested: float | None = None  # the sensor's tick that asked for the run
    present: float | None = None  # the payment in billing
    seen_before: int = 0  # events stored before it
    run_key: str | None = None
    run_started: float | None = None  # RUN_START, written by the run's own process
    run_ended: float | None = None


@contextmanager
def webhook_server(state_url: str) -> Iterator[str]:
    """The webhook app on a free port for the block; yields its callback URL."""
    port = free_port()
    config = uvicorn.Config(
        webhook_app(state_url, SECRET), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="webhooks", daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}{WEBHOOK_PATH}"
    finally:
        server.should_exit = True
        thread.join(10)


def stored_events(state_url: str) -> int:
    with psycopg.connect(state_url) as conn:
        row = conn.execute("SELECT count(*) FROM exact_sync.webhook_events").fetchone()
        return int(row[0]) if row else 0


def in_billing(billing_url: str, number: str) -> bool:
    with psycopg.connect(billing_url) as conn:
        row = conn.execute(
            "SELECT 1 FROM payments p JOIN invoices d ON d.id = p.invoice_id "
            "WHERE d.number = %s AND p.source = 'exact_online'",
            [number],
        ).fetchone()
        return row is not None


def sync_reads(sandbox: SandboxProcess) -> int:
    by_endpoint = sandbox.admin("GET", "requests")["by_endpoint"]
    return sum(by_endpoint.get(f"GET {e.path}", 0) for e in (SYNC_PAYMENT_TERMS, SYNC_DELETED))


def measure_webhook_latency(admin_url: str, payments: int = 3, seed: int = 11) -> dict[str, Any]:
    """`payments` payments registered in Exact one after another (each at a random moment of a
    sensor interval once the previous one is in billing); returns median/max latency and its
    parts, the runs started and Exact's sync reads per run."""
    billing_url = create_database(admin_url, "bench_webhooks", drop_existing=True)
    dagster_url = create_database(admin_url, "bench_webhooks_dagster", drop_existing=True)
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="bench-webhooks-") as scratch:
        zone = load_mappings(REPO / "mappings").settings.zone
        today = datetime.now(zone).date()
        folder = mapping_folder(Path(scratch), today.isoformat())
        settings = folder / "settings.yaml"
        settings.write_text(
            "\n".join(
                "payment_sync: exact_to_billing" if row.startswith("payment_sync:") else row
                for row in settings.read_text().splitlines()
            )
        )
        mappings = load_mappings(folder)
        midnight = datetime.combine(today, datetime.min.time(), zone)
        seed_billing(
            billing_url, customers=30, months=1, today=today - timedelta(days=1), now=midnight
        )
        original = template(billing_url, mappings, midnight - timedelta(days=7), midnight)
        numbers = [commit_copy(billing_url, original, i).number for i in range(1, payments + 1)]
        sandbox = SandboxProcess()
        try:
            env = connected_env(sandbox, billing_url, folder, mappings)
            config = sandbox_config(sandbox)
            with (
                dagster_home(dagster_url) as home,
                environment(env),
                webhook_server(billing_url) as callback,
            ):
                run_env = {**os.environ, "DAGSTER_HOME": str(home)}
                with dg.DagsterInstance.from_config(str(home)) as instance:
                    defs = definitions.defs()
                    defs.resolve_job_def("exact_sync").execute_in_process(
                        instance=instance, partition_key=today.isoformat()
                    )
                    with open_exact(config, billing_url, BENCH_TOKEN_KEY) as exact:
                        subscribe_payments(exact, mappings, callback)
                    launcher = RunLauncher(home, run_env, instance, SENSOR)
                    timeline = Timeline(defs, instance, launcher, rng)
                    before = sync_reads(sandbox)
                    samples, runs = timeline.run(
                        numbers, lambda: pay_one(config, billing_url, mappings, rng)
                    )
                    reads = sync_reads(sandbox) - before
        finally:
            sandbox.stop()
    return figures(samples, runs, reads, timeline)


def pay_one(config: Any, billing_url: str, mappings: Any, rng: random.Random) -> str:
    """One open invoice paid in Exact (a bank entry through the API): its billing number."""
    with open_exact(config, billing_url, BENCH_TOKEN_KEY) as exact:
        [paid] = register_demo_payments(exact, mappings, count=1, seed=rng.randrange(1 << 30))
    return str(paid["invoice"])


class Timeline:
    """The sensor daemon's ticks, the run queue and the launched runs, played while payments
    are registered one at a time."""

    def __init__(
        self,
        defs: dg.Definitions,
        instance: dg.DagsterInstance,
        launcher: RunLauncher,
        rng: random.Random,
    ) -> None:
        self.defs, self.instance, self.launcher, self.rng = defs, instance, launcher, rng
        self.sensor = defs.resolve_sensor_def(SENSOR)
        self.interval = float(self.sensor.minimum_interval_seconds or 30)
        self.cursor: str | None = None
        self.runs: list[Any] = []
        self.run_keys: set[str] = set()

    def tick(self) -> list[dg.RunRequest]:
        context = dg.build_sensor_context(
            instance=self.instance,
            cursor=self.cursor,
            repository_def=self.defs.get_repository_def(),
            resources=self.defs.resources,
        )
        data = self.sensor.evaluate_tick(context)
        self.cursor = data.cursor
        # Dagster starts one run per run key, however many ticks ask for it.
        fresh = [r for r in data.run_requests or [] if r.run_key not in self.run_keys]
        self.run_keys.update(r.run_key or "" for r in fresh)
        return fresh

    def run(self, numbers: list[str], pay: Any) -> tuple[list[Sample], int]:
        billing_url = self.launcher.env["BILLING_DATABASE_URL"]
        samples: list[Sample] = []
        next_tick = time.time() + self.rng.uniform(0, self.interval)
        next_payment: float | None = time.time() + self.rng.uniform(0, self.interval)
        queued: list[tuple[float, dg.RunRequest]] = []
        current: Sample | None = None
        try:
            while len(samples) < len(numbers) or (current and current.present is None):
                now = time.time()
                if next_payment is not None and now >= next_payment:
                    seen = stored_events(billing_url)
                    number = pay()
                    current = Sample(number, registered=time.time(), seen_before=seen)
                    samples.append(current)
                    next_payment = None
                if (
                    current
                    and current.stored is None
                    and (stored_events(billing_url) > current.seen_before)
                ):
                    current.stored = time.time()
                if now >= next_tick:
                    next_tick += self.interval
                    for request in self.tick():
                        if current and current.requested is None:
                            current.requested, current.run_key = time.time(), request.run_key
                        wait = self.rng.uniform(0, self.launcher.dequeue_interval)
                        queued.append((time.time() + wait, request))
                for entry in [q for q in queued if q[0] <= now]:
                    queued.remove(entry)
                    self.runs.append(self.launcher.launch(JOB, entry[1]))
                if current and current.present is None:
                    if in_billing(billing_url, current.invoice):
                        current.present = time.time()
                        next_payment = current.present + self.rng.uniform(0, self.interval)
                    elif now - current.registered > TIMEOUT:
                        next_payment, current = time.time(), None
                time.sleep(POLL)
        finally:
            for process in self.runs:
                if process.poll() is None:
                    process.wait(TIMEOUT)
        for sample in samples:
            runs = self.instance.get_run_records(
                dg.RunsFilter(tags={"dagster/run_key": sample.run_key or "-"})
            )
            if runs:
                sample.run_started, sample.run_ended = runs[0].start_time, runs[0].end_time
        return samples, len(self.runs)


def figures(samples: list[Sample], runs: int, reads: int, timeline: Timeline) -> dict[str, Any]:
    done = [s for s in samples if s.present is not None]

    def spread(values: list[float]) -> dict[str, float]:
        if not values:
            return {}
        return {"median": round(statistics.median(values), 1), "max": round(max(values), 1)}

    return {
        "payments": len(samples),
        "in_billing": len(done),
        "latency_s": spread([(s.present or 0) - s.registered for s in done]),
        "to_stored_s": spread([(s.stored or 0) - s.registered for s in done if s.stored]),
        "to_run_request_s": spread(
            [(s.requested or 0) - s.registered for s in done if s.requested]
        ),
        # queue wait + the run process's start (imports) until its RUN_START
        "request_to_run_start_s": spread(
            [(s.run_started or 0) - (s.requested or 0) for s in done if s.run_started]
        ),
        "run_duration_s": spread(
            [(s.run_ended or 0) - (s.run_started or 0) for s in done if s.run_ended]
        ),
        "sensor_interval_s": timeline.interval,
        "dequeue_interval_s": timeline.launcher.dequeue_interval,
        "import_runs": runs,
        "sync_reads_per_run": round(reads / runs, 2) if runs else None,
    }
