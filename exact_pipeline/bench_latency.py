"""`exact-pipeline bench --only latency`: from an invoice's COMMIT in billing to its document in
the sandbox, through the real definitions (the `billing_changes` sensor, the `exact_sync` job) on
a Postgres-backed Dagster instance configured by the repository's dagster.yaml.

The daemons are played as Dagster 1.13 runs them: the sensor daemon loops every
`MIN_INTERVAL_LOOP_TIME` seconds and ticks the sensor once its `minimum_interval_seconds` have
passed since its last tick; the run queue daemon dequeues every `dequeue_interval_seconds` (at
an unknown phase: a uniform wait); the run launcher starts a fresh process per run, which imports
the definitions before its first step (here `dagster job execute` on `exact_pipeline.definitions`).
"""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

import click
import dagster as dg
import psycopg
import yaml
from dagster._daemon.sensor import MIN_INTERVAL_LOOP_TIME

from exact_pipeline import definitions
from exact_pipeline.bench_setup import BENCH_TOKEN_KEY, consent, line, sandbox_config
from exact_pipeline.billing.models import BillingDocument
from exact_pipeline.billing.read import read_documents
from exact_pipeline.billing.write import write_documents
from exact_pipeline.demo import catalog
from exact_pipeline.demo.prepare import EXACT_LIMITS
from exact_pipeline.demo.sandbox_process import SandboxProcess
from exact_pipeline.demo.seed import seed_billing
from exact_pipeline.mapping import Mappings, load_mappings
from exact_pipeline.postgres import create_database, psycopg2_url
from exact_pipeline.state.exact import open_exact

REPO = Path(__file__).resolve().parents[1]
SENSOR, DIVISION = "billing_changes", 310001
DOCUMENT_TIMEOUT = 180.0  # seconds from launch: beyond it the run is reported stuck
POLL = 0.25
MAX_TICKS = 4  # a commit no tick has seen by then counts as missed (the sensor should need 1-2)


@dataclass
class Sample:
    """One invoice's way, as epoch seconds."""

    number: str
    committed: float
    ticked: float = 0.0
    ticks: int = 0  # the ticks from the commit to the one that saw it
    launched: float = 0.0
    started: float = 0.0  # the run's RUN_START, written by the run's own process
    present: float | None = None  # first seen in the sandbox's store

    @property
    def latency(self) -> float:
        assert self.present is not None
        return self.present - self.committed


@contextmanager
def environment(env: dict[str, str]) -> Iterator[None]:
    """`env` as this process's environment for the block: the sensor's resources read it."""
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


class SensorDaemon:
    """The sensor daemon's loop for one sensor: cursor kept, ticks every minimum interval."""

    def __init__(self, defs: dg.Definitions, instance: dg.DagsterInstance) -> None:
        self.defs, self.instance = defs, instance
        self.sensor = defs.resolve_sensor_def(SENSOR)
        self.interval = float(self.sensor.minimum_interval_seconds or 30)
        self.cursor: str | None = None
        self.ticks, self.last_tick = 0, float("-inf")
        self.next_loop = time.time()

    def tick(self) -> list[dg.RunRequest]:
        context = dg.build_sensor_context(
            instance=self.instance,
            cursor=self.cursor,
            repository_def=self.defs.get_repository_def(),
            resources=self.defs.resources,
        )
        self.ticks, self.last_tick = self.ticks + 1, time.time()
        data = self.sensor.evaluate_tick(context)
        self.cursor = data.cursor
        return list(data.run_requests or [])

    def step(self) -> list[dg.RunRequest] | None:
        """One iteration of the daemon's loop when it is due: the sensor ticks if its interval
        has passed (None: no tick); the next iteration starts MIN_INTERVAL_LOOP_TIME after this
        one began, or when it ended if it took longer."""
        began = time.time()
        if began < self.next_loop:
            return None
        requests = self.tick() if began - self.last_tick >= self.interval else None
        self.next_loop = max(began + MIN_INTERVAL_LOOP_TIME, time.time())
        return requests


@contextmanager
def dagster_home(dagster_url: str) -> Iterator[Path]:
    """A DAGSTER_HOME holding the repository's dagster.yaml, its storage on `dagster_url`."""
    config = yaml.safe_load((REPO / "dagster.yaml").read_text())
    config["storage"] = {"postgres": {"postgres_url": psycopg2_url(dagster_url)}}
    with tempfile.TemporaryDirectory(prefix="bench-dagster-") as home:
        (Path(home) / "dagster.yaml").write_text(yaml.safe_dump(config))
        yield Path(home)


def mapping_folder(target: Path, connection_date: str) -> Path:
    """The repository's mapping tables, connected today: automation handles today only."""
    folder = target / "mappings"
    folder.mkdir()
    for source in (REPO / "mappings").iterdir():
        text = source.read_text()
        if source.name == "settings.yaml":
            text = "\n".join(
                f"connection_date: {connection_date}" if row.startswith("connection_date:") else row
                for row in text.splitlines()
            )
        (folder / source.name).write_text(text)
    return folder


def template(
    billing_url: str, mappings: Mappings, start: datetime, end: datetime
) -> BillingDocument:
    """An unpaid Dutch invoice whose products are all mapped: it syncs without a block."""
    unmapped = {p.id for p in catalog.UNMAPPED_PRODUCTS}
    entity = next(e for e, s in mappings.settings.entities.items() if s.division == DIVISION)
    with psycopg.connect(billing_url) as conn:
        documents = read_documents(conn, start, end)
    return next(
        d
        for d in reversed(documents)
        if d.type == "invoice"
        and d.status == "to_pay"
        and d.entity.id == entity
        and d.lines
        and all(line.product and line.product.id not in unmapped for line in d.lines)
    )


def commit_copy(billing_url: str, original: BillingDocument, index: int) -> BillingDocument:
    """A new finalized invoice, issued and committed now (its time returned by the caller)."""
    now = datetime.now().astimezone()
    doc_id = f"bench_latency_{index}"
    document = replace(
        original,
        id=doc_id,
        number=f"BENCH-LAT-{index}",
        issued_at=now,
        due_at=now + timedelta(days=14),
        created_at=now,
        updated_at=now,
        lines=tuple(replace(line, id=f"{doc_id}_{line.position}") for line in original.lines),
        payments=(),
    )
    with psycopg.connect(billing_url) as conn:
        write_documents(conn, [document])
    return document


def in_sandbox(sandbox: SandboxProcess, number: str) -> bool:
    rows = sandbox.admin("GET", f"store/{DIVISION}/salesinvoice/SalesInvoices")["results"]
    return any(row.get("YourRef") == number for row in rows)


def connected_env(
    sandbox: SandboxProcess, billing_url: str, folder: Path, mappings: Mappings
) -> dict[str, str]:
    """The sandbox at Exact's real limits, the app connected to every division of the
    mapping tables, and the pipeline's environment for them."""
    sandbox.admin("POST", "config", **EXACT_LIMITS)
    config = sandbox_config(sandbox)
    with open_exact(config, billing_url, BENCH_TOKEN_KEY) as exact:
        exact.connect(consent(sandbox, config, mappings))
    return {
        "BILLING_DATABASE_URL": billing_url,
        "EXACT_BASE_URL": config.base_url,
        "EXACT_CLIENT_ID": config.client_id,
        "EXACT_CLIENT_SECRET": config.client_secret,
        "EXACT_REDIRECT_URI": config.redirect_uri,
        "EXACT_TOKEN_KEY": BENCH_TOKEN_KEY,
        "EXACT_MAPPINGS_DIR": str(folder),
    }


class RunLauncher:
    """A fresh `dagster job execute` process per run request of `sensor`, as the daemon's
    launcher starts one."""

    def __init__(
        self, home: Path, env: dict[str, str], instance: dg.DagsterInstance, sensor: str
    ) -> None:
        self.home, self.env, self.instance, self.sensor = home, env, instance, sensor
        coordinator = instance.run_coordinator
        self.dequeue_interval = float(getattr(coordinator, "dequeue_interval_seconds", 0))

    def launch(self, job: str, request: dg.RunRequest) -> subprocess.Popen[bytes]:
        tags = {**request.tags, "dagster/run_key": request.run_key}
        tags["dagster/sensor_name"] = self.sensor
        if request.partition_key is not None:
            tags["dagster/partition"] = request.partition_key
        command = [sys.executable, "-m", "dagster", "job", "execute"]
        command += ["-m", "exact_pipeline.definitions", "-a", "defs", "-j", job]
        # Named after the run key, or numbered when the request has none.
        log = self.log(request.run_key or str(len(os.listdir(self.home)))).open("wb")
        return subprocess.Popen(
            [*command, "--tags", json.dumps(tags)],
            env=self.env,
            cwd=self.home,  # no stray .env file from the caller's folder
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def log(self, run_key: str) -> Path:
        return self.home / f"run-{run_key.replace(':', '_').replace('|', '_')}.log"

    def start_time(self, run_key: str) -> float:
        """When the run's process started it; a run that did not succeed stops the bench."""
        records = self.instance.get_run_records(dg.RunsFilter(tags={"dagster/run_key": run_key}))
        if not records or records[0].dagster_run.status != dg.DagsterRunStatus.SUCCESS:
            tail = self.log(run_key).read_text(errors="replace").splitlines()[-30:]
            raise click.ClickException(f"run {run_key} did not succeed:\n" + "\n".join(tail))
        return float(records[0].start_time or 0)


class Timeline:
    """Invoices committed one at a time, each at a random moment of a tick interval once the
    previous one is in Exact; the daemon's loop, the queue and the runs played meanwhile."""

    def __init__(
        self,
        daemon: SensorDaemon,
        launcher: RunLauncher,
        commit: Callable[[int], str],
        present: Callable[[str], bool],
        rng: random.Random,
    ) -> None:
        self.daemon, self.launcher, self.rng = daemon, launcher, rng
        self.commit, self.present = commit, present
        self.samples: list[Sample] = []
        self.runs: list[tuple[Sample, str, subprocess.Popen[bytes]]] = []
        self.queued: list[tuple[float, Sample, list[dg.RunRequest]]] = []
        self.next_commit: float | None = None
        self.unseen: Sample | None = None  # committed, no tick has requested its run yet

    def run(self, invoices: int) -> list[Sample]:
        self.next_commit = time.time() + self.rng.uniform(0, self.daemon.interval)
        try:
            while len(self.samples) < invoices or self.in_flight():
                due = self.next_commit is not None and time.time() >= self.next_commit
                if due and len(self.samples) < invoices:
                    number = self.commit(len(self.samples) + 1)
                    self.unseen = Sample(number, committed=time.time())
                    self.samples.append(self.unseen)
                    self.next_commit = None
                self.on_tick(self.daemon.step())
                self.launch_dequeued()
                self.look_in_sandbox()
                time.sleep(POLL)
            for sample, run_key, process in self.runs:
                if sample.present is None:
                    process.kill()
                process.wait(DOCUMENT_TIMEOUT)
                sample.started = self.launcher.start_time(run_key)
        finally:
            for _, _, process in self.runs:
                if process.poll() is None:
                    process.kill()
        return self.samples

    def in_flight(self) -> bool:
        deadline = time.time() - DOCUMENT_TIMEOUT
        return self.unseen is not None or any(
            s.present is None and (not s.launched or s.launched > deadline) for s in self.samples
        )

    def on_tick(self, requests: list[dg.RunRequest] | None) -> None:
        if requests is None or (sample := self.unseen) is None:
            return
        sample.ticks += 1
        if not requests:
            if sample.ticks >= MAX_TICKS:
                self.unseen = None
                self.next_commit = time.time()
            return
        sample.ticked, self.unseen = self.daemon.last_tick, None
        # The run queue daemon dequeues at its own pace: a uniform share of its interval.
        waited = self.rng.uniform(0, self.launcher.dequeue_interval)
        self.queued.append((sample.ticked + waited, sample, requests))

    def launch_dequeued(self) -> None:
        for entry in [q for q in self.queued if q[0] <= time.time()]:
            self.queued.remove(entry)
            _, sample, requests = entry
            sample.launched = time.time()
            for request in requests:
                process = self.launcher.launch(self.daemon.sensor.job_name, request)
                self.runs.append((sample, request.run_key or "", process))

    def look_in_sandbox(self) -> None:
        for sample in self.samples:
            if sample.launched and sample.present is None and self.present(sample.number):
                sample.present = time.time()
                # The next invoice only now: a run already under way would take it along.
                self.next_commit = sample.present + self.rng.uniform(0, self.daemon.interval)


def report(samples: list[Sample], interval: float, dequeue_interval: float) -> None:
    def seconds(values: list[float]) -> str:
        return f"median {statistics.median(values):.1f} s, max {max(values):.1f} s"

    done = [s for s in samples if s.present is not None]
    if missed := [s.number for s in samples if not s.ticked]:
        line("latency", f"not seen by the sensor in {MAX_TICKS} ticks: {missed}")
    if stuck := [s.number for s in samples if s.ticked and s.present is None]:
        line("latency", f"not in Exact {DOCUMENT_TIMEOUT:.0f} s after launch: {stuck}")
    if not done:
        return
    line(
        "latency",
        f"commit → document in Exact, {len(done)} invoices: "
        f"{seconds([s.latency for s in done])} (sensor every {interval:.0f} s, "
        f"run queue every {dequeue_interval:.0f} s, a process per run)",
    )
    splits = {
        "to tick": [s.ticked - s.committed for s in done],
        "queue": [s.launched - s.ticked for s in done],
        "run start": [s.started - s.launched for s in done],
        "to Exact": [(s.present or 0) - s.started for s in done],
    }
    line("", "; ".join(f"{k} {seconds(v)}" for k, v in splits.items()))
    line("", f"ticks to see a commit: {', '.join(str(s.ticks) for s in done)}")


def bench_latency(admin_url: str, invoices: int, seed: int = 7) -> None:
    """`invoices` invoices, each committed at a random moment of a tick interval."""
    billing_url = create_database(admin_url, "bench_latency", drop_existing=True)
    dagster_url = create_database(admin_url, "bench_latency_dagster", drop_existing=True)
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="bench-latency-") as scratch:
        zone = load_mappings(REPO / "mappings").settings.zone
        today = datetime.now(zone).date()
        folder = mapping_folder(Path(scratch), today.isoformat())
        mappings = load_mappings(folder)
        midnight = datetime.combine(today, datetime.min.time(), zone)
        # History up to midnight: today's partition holds only the invoices measured.
        seed_billing(
            billing_url,
            customers=30,
            months=1,
            today=midnight.date() - timedelta(days=1),
            now=midnight,
        )
        original = template(billing_url, mappings, midnight - timedelta(days=7), midnight)
        sandbox = SandboxProcess()
        try:
            env = {**os.environ, **connected_env(sandbox, billing_url, folder, mappings)}
            with dagster_home(dagster_url) as home, environment(env):
                env["DAGSTER_HOME"] = str(home)
                with dg.DagsterInstance.from_config(str(home)) as instance:
                    # The definitions as the code server loads them, in the run's environment.
                    defs = definitions.defs()
                    daemon = SensorDaemon(defs, instance)
                    launcher = RunLauncher(home, env, instance, SENSOR)
                    daemon.tick()  # the first tick starts at the head (its catch-up is not run)
                    timeline = Timeline(
                        daemon,
                        launcher,
                        lambda index: commit_copy(billing_url, original, index).number,
                        lambda number: in_sandbox(sandbox, number),
                        rng,
                    )
                    report(timeline.run(invoices), daemon.interval, launcher.dequeue_interval)
        finally:
            sandbox.stop()
