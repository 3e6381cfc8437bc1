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
from exact_pipeline.billing.models import BillingDocument
from exact_pipeline.billing.read import read_documents
from exact_pipeline.billing.write import write_documents
from exact_pipeline.demo import catalog
from exact_pipeline.demo.prepare import EXACT_LIMITS
from exact_pipeline.demo.seed import seed_billing
from exact_pipeline.exact.config import ExactConfig
from exact_pipeline.mapping import Mappings, load_mappings
from exact_pipeline.postgres import create_database, psycopg2_url
from exact_pipeline.sandbox.process import SandboxProcess, consent_code
from exact_pipeline.state.exact import open_exact

REPO = Path(__file__).resolve().parents[1]
SENSOR, DIVISION = "billing_changes", 310001
DOCUMENT_TIMEOUT = 180.0  # seconds from launch: beyond it the run is reported stuck
POLL = 0.25


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

    def loop_until(self, moment: float) -> list[dg.RunRequest]:
        """The daemon's iterations up to `moment`; stops early at a tick requesting runs."""
        while True:
            time.sleep(max(0.0, min(self.next_loop, moment) - time.time()))
            if time.time() >= moment:
                return []
            self.next_loop += MIN_INTERVAL_LOOP_TIME
            if time.time() - self.last_tick >= self.interval and (requests := self.tick()):
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


class RunLauncher:
    """A fresh `dagster job execute` process per run request, as the daemon's launcher."""

    def __init__(self, home: Path, env: dict[str, str], instance: dg.DagsterInstance) -> None:
        self.home, self.env, self.instance = home, env, instance
        coordinator = instance.run_coordinator
        self.dequeue_interval = float(getattr(coordinator, "dequeue_interval_seconds", 0))

    def launch(self, job: str, request: dg.RunRequest) -> subprocess.Popen[bytes]:
        tags = {
            **request.tags,
            "dagster/partition": request.partition_key,
            "dagster/run_key": request.run_key,
            "dagster/sensor_name": SENSOR,
        }
        command = [sys.executable, "-m", "dagster", "job", "execute"]
        command += ["-m", "exact_pipeline.definitions", "-a", "defs", "-j", job]
        log = (self.home / f"{request.run_key}.log".replace(":", "_").replace("|", "_")).open("wb")
        return subprocess.Popen(
            [*command, "--tags", json.dumps(tags)],
            env=self.env,
            cwd=self.home,  # no stray .env file from the caller's folder
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def start_time(self, run_key: str) -> float:
        [record] = self.instance.get_run_records(dg.RunsFilter(tags={"dagster/run_key": run_key}))
        if record.dagster_run.status != dg.DagsterRunStatus.SUCCESS:
            raise click.ClickException(f"run {run_key}: {record.dagster_run.status.value}")
        return float(record.start_time or 0)


def follow(
    sample: Sample,
    daemon: SensorDaemon,
    launcher: RunLauncher,
    present: Callable[[str], bool],
    rng: random.Random,
) -> None:
    """The commit's tick, its run launched after the queue's wait, the document's arrival."""
    ticks_before = daemon.ticks
    while not (requests := daemon.loop_until(time.time() + daemon.interval)):
        pass
    sample.ticked, sample.ticks = daemon.last_tick, daemon.ticks - ticks_before
    time.sleep(rng.uniform(0, launcher.dequeue_interval))
    sample.launched = time.time()
    job = daemon.sensor.job_name
    processes = [(r.run_key, launcher.launch(job, r)) for r in requests]
    deadline = sample.launched + DOCUMENT_TIMEOUT
    while sample.present is None and time.time() < deadline:
        if present(sample.number):
            sample.present = time.time()
        else:
            # The daemon ticks on meanwhile; nothing new is committed, so nothing is requested.
            daemon.loop_until(time.time() + POLL)
    for run_key, process in processes:
        process.wait(DOCUMENT_TIMEOUT)
        sample.started = launcher.start_time(run_key or "")


def report(samples: list[Sample], interval: float) -> None:
    def seconds(values: list[float]) -> str:
        return f"median {statistics.median(values):.1f} s, max {max(values):.1f} s"

    done = [s for s in samples if s.present is not None]
    line = "{:<10}{}".format
    if len(done) < len(samples):
        click.echo(line("latency", f"{len(samples) - len(done)} invoice(s) never reached Exact"))
    if not done:
        return
    click.echo(
        line(
            "latency",
            f"commit → document in Exact, {len(done)} invoices: "
            f"{seconds([s.latency for s in done])} (sensor every {interval:.0f} s)",
        )
    )
    splits = {
        "to tick": [s.ticked - s.committed for s in done],
        "queue": [s.launched - s.ticked for s in done],
        "run start": [s.started - s.launched for s in done],
        "to Exact": [(s.present or 0) - s.started for s in done],
    }
    click.echo(line("", "; ".join(f"{k} {seconds(v)}" for k, v in splits.items())))
    click.echo(line("", f"ticks to see a commit: {', '.join(str(s.ticks) for s in done)}"))


def bench_latency(admin_url: str, invoices: int, seed: int = 7) -> None:
    """`invoices` invoices, each committed at a random moment of a tick interval."""
    billing_url = create_database(admin_url, "bench_latency", drop_existing=True)
    dagster_url = create_database(admin_url, "bench_latency_dagster", drop_existing=True)
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="bench-latency-") as scratch:
        folder = mapping_folder(Path(scratch), datetime.now().date().isoformat())
        mappings = load_mappings(folder)
        zone = mappings.settings.zone
        midnight = datetime.combine(datetime.now(zone).date(), datetime.min.time(), zone)
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
            sandbox.admin("POST", "config", **EXACT_LIMITS)
            config = ExactConfig(
                base_url=sandbox.url,
                client_id="exact-pipeline-demo",
                client_secret="sandbox-secret",
                redirect_uri="http://127.0.0.1:8765/callback",
                token_key="bench",
            )
            divisions = [e.division for e in mappings.settings.entities.values()]
            with open_exact(config, billing_url) as exact:
                exact.connect(
                    consent_code(sandbox.url, config.client_id, config.redirect_uri, divisions)
                )
            env = {
                **os.environ,
                "BILLING_DATABASE_URL": billing_url,
                "EXACT_BASE_URL": config.base_url,
                "EXACT_CLIENT_ID": config.client_id,
                "EXACT_CLIENT_SECRET": config.client_secret,
                "EXACT_REDIRECT_URI": config.redirect_uri,
                "EXACT_TOKEN_KEY": config.token_key,
                "EXACT_MAPPINGS_DIR": str(folder),
            }
            with dagster_home(dagster_url) as home, environment(env):
                env["DAGSTER_HOME"] = str(home)
                with dg.DagsterInstance.from_config(str(home)) as instance:
                    # The definitions as the code server loads them, in the run's environment.
                    defs = definitions.defs()
                    daemon = SensorDaemon(defs, instance)
                    launcher = RunLauncher(home, env, instance)
                    daemon.tick()  # the first tick starts at the head (its catch-up is not run)
                    samples = []
                    for index in range(1, invoices + 1):
                        daemon.loop_until(time.time() + rng.uniform(0, daemon.interval))
                        document = commit_copy(billing_url, original, index)
                        sample = Sample(document.number, committed=time.time())
                        follow(sample, daemon, launcher, lambda n: in_sandbox(sandbox, n), rng)
                        samples.append(sample)
                    report(samples, daemon.interval)
        finally:
            sandbox.stop()
