"""A crashed run frees its division's slot without a human (issue 9, item 15).

The real `dagster-daemon` runs over a DAGSTER_HOME holding the repository's dagster.yaml (only
the monitoring intervals shortened) on a test Postgres database, and launches `pool_holder`'s
runs, each holding the slot until killed:
1. kill -9 of the run worker (its code server lives): the run fails, its step dies with it, and
   the next run gets the slot;
2. kill -9 of everything (code server, run worker, step, daemon), as a host crash does: a new
   daemon fails the run that was STARTED and the next run gets the slot.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import dagster as dg
import pytest
import yaml
from dagster._core.storage.tags import RUN_KEY_TAG

from exact_pipeline.postgres import psycopg2_url
from exact_pipeline_tests.conftest import REPO
from exact_pipeline_tests.platform.pool_holder import POOL

# Seconds to start a daemon or a run: generous, for 2 busy cores (a process start can take 30 s).
DEADLINE = 300
# Seconds from a crash to a failed run and a free slot: the production promise (3 min). With
# FAST_MONITORING it takes a few seconds on a quiet machine; the margin is for 2 loaded cores.
RECOVERY = 180
HOLDER_MODULE = "exact_pipeline_tests.platform.pool_holder"
FAST_MONITORING = {"poll_interval_seconds": 1, "free_slots_after_run_end_seconds": 1}


class Daemons:
    """`dagster-daemon run` over the holder's code location, each in its own process group
    (the daemon, its code server, run workers and steps), killed whole at the end."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env, self.logs, self.started = env, logs, []

    def start(self) -> subprocess.Popen[bytes]:
        log = (self.logs / f"daemon-{len(self.started)}.log").open("wb")
        daemon = subprocess.Popen(
            [sys.executable, "-m", "dagster._daemon", "run", "-m", HOLDER_MODULE],
            cwd=REPO,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.started.append(daemon)
        return daemon

    def crash(self, daemon: subprocess.Popen[bytes]) -> None:
        kill_group(daemon.pid)
        daemon.wait()

    def stop_all(self) -> None:
        for daemon in self.started:
            kill_group(daemon.pid)
            daemon.wait()


def kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)


@pytest.fixture
def home(
    tmp_path: Path, make_database: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> Path:
    """A DAGSTER_HOME: the repository's dagster.yaml, monitoring every second."""
    settings = yaml.safe_load((REPO / "dagster.yaml").read_text())
    assert settings["run_launcher"]["class"] == "LocalRunLauncher"
    settings["run_monitoring"] |= FAST_MONITORING
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(yaml.safe_dump(settings))
    monkeypatch.setenv("DAGSTER_PG_URL", psycopg2_url(make_database("run_monitoring")))
    return home


@pytest.fixture
def holder_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "holder"
    (folder / "requests").mkdir(parents=True)
    (folder / "holding").mkdir()
    return folder


@pytest.fixture
def daemons(home: Path, holder_dir: Path, tmp_path: Path) -> Iterator[Daemons]:
    env = {**os.environ, "DAGSTER_HOME": str(home), "HOLDER_DIR": str(holder_dir)}
    started = Daemons(env, tmp_path)
    yield started
    started.stop_all()


@pytest.fixture
def instance(home: Path) -> Iterator[dg.DagsterInstance]:
    with dg.DagsterInstance.from_config(str(home)) as instance:
        yield instance


def wait_for(
    check: Callable[[], object], what: str, daemons: Daemons, seconds: float = DEADLINE
) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            logs = "".join(p.read_text()[-3000:] for p in sorted(daemons.logs.glob("daemon-*")))
            pytest.fail(f"{what} not within {seconds} s; daemon log:\n{logs}")
        time.sleep(0.5)


def run_of(instance: dg.DagsterInstance, key: str) -> dg.DagsterRun | None:
    runs = instance.get_runs(filters=dg.RunsFilter(tags={RUN_KEY_TAG: key}))
    return runs[0] if runs else None


def holding(holder_dir: Path, run: dg.DagsterRun | None) -> tuple[int, int] | None:
    """(step pid, run worker pid) once `run`'s step holds the slot."""
    marker = holder_dir / "holding" / run.run_id if run else None
    if marker is None or not marker.exists() or not marker.read_text():
        return None
    step, worker = marker.read_text().split()
    return int(step), int(worker)


def slot_holders(instance: dg.DagsterInstance) -> set[str]:
    info = instance.event_log_storage.get_concurrency_info(POOL)
    return {slot.run_id for slot in info.claimed_slots if slot.run_id}


def request(holder_dir: Path, key: str) -> None:
    (holder_dir / "requests" / key).touch()


def wait_holding(
    instance: dg.DagsterInstance, holder_dir: Path, key: str, daemons: Daemons
) -> tuple[dg.DagsterRun, int, int]:
    """Once run `key`'s step holds the slot: (run, step pid, worker pid)."""
    wait_for(lambda: holding(holder_dir, run_of(instance, key)), f"run {key} holding", daemons)
    run = run_of(instance, key)
    assert run is not None
    step, worker = holding(holder_dir, run) or (0, 0)
    assert slot_holders(instance) == {run.run_id}
    return run, step, worker


def wait_recovered(instance: dg.DagsterInstance, run: dg.DagsterRun, daemons: Daemons) -> None:
    """`run` has failed and holds the slot no more."""
    wait_for(
        lambda: (
            status(instance, run) == dg.DagsterRunStatus.FAILURE
            and run.run_id not in slot_holders(instance)
        ),
        f"run {run.run_id} failed, its slot free",
        daemons,
        RECOVERY,
    )


def status(instance: dg.DagsterInstance, run: dg.DagsterRun) -> dg.DagsterRunStatus:
    return instance.get_run_by_id(run.run_id).status  # type: ignore[union-attr]


def parent_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def is_running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_a_crashed_run_is_failed_and_frees_the_pool(
    instance: dg.DagsterInstance, holder_dir: Path, daemons: Daemons
) -> None:
    daemon = daemons.start()
    request(holder_dir, "first")
    first, first_step, first_worker = wait_holding(instance, holder_dir, "first", daemons)
    request(holder_dir, "second")  # waits for the slot

    # 1. The run worker dies; its code server lives.
    os.kill(first_worker, signal.SIGKILL)
    wait_recovered(instance, first, daemons)
    assert not is_running(first_step)  # no orphan calling Exact beside the next run
    second, _, second_worker = wait_holding(instance, holder_dir, "second", daemons)

    # 2. The host crashes: nothing of the run or of Dagster is left to report it.
    os.kill(parent_of(second_worker), signal.SIGKILL)  # the code server: it must not see it
    daemons.crash(daemon)
    assert status(instance, second) == dg.DagsterRunStatus.STARTED
    request(holder_dir, "third")

    daemons.start()
    wait_recovered(instance, second, daemons)
    wait_holding(instance, holder_dir, "third", daemons)
