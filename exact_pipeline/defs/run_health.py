"""A crashed run must not hold its division slots (defs/division_slots.py) for ever.

Dagster's `DefaultRunLauncher` (runs as subprocesses of the code server) cannot tell the
monitoring daemon whether a run's processes live (`supports_check_run_worker_health` is False),
so run monitoring never fails a STARTED run whose processes died together with their code server
(kill -9 of the process tree, OOM of the container, a host restart); the run and its slots
then stay taken and every later run waits. The code server does fail a run whose worker died
while it lives, but the worker's step subprocesses survive it and keep calling Exact.

`LocalRunLauncher` is the `DefaultRunLauncher` plus that health check (dagster.yaml selects it),
and `stop_with_run_worker` makes a step subprocess die with its run worker.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import socket
import sys
from pathlib import Path

from dagster import DagsterEventType, DagsterRun, DefaultRunLauncher
from dagster._core.launcher import CheckRunHealthResult, LaunchRunContext, WorkerStatus

# The host whose processes run the run: pids say nothing about another machine's processes.
HOST_TAG = "exact_pipeline/run_host"
# RUN_START is written by the run worker, STEP_START by each step subprocess (event.pid).
PROCESS_EVENTS = {DagsterEventType.RUN_START, DagsterEventType.STEP_START}
PR_SET_PDEATHSIG = 1
# /proc's start times are in clock ticks; allow a tick of rounding against event timestamps.
CLOCK_SLACK_SECONDS = 1.0


class LocalRunLauncher(DefaultRunLauncher):
    """Launches like `DefaultRunLauncher`; a run is healthy while one of its processes lives."""

    def launch_run(self, context: LaunchRunContext) -> None:
        self._instance.add_run_tags(context.dagster_run.run_id, {HOST_TAG: socket.gethostname()})
        super().launch_run(context)

    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def check_run_worker_health(self, run: DagsterRun) -> CheckRunHealthResult:
        host = run.tags.get(HOST_TAG)
        if host != socket.gethostname():
            # Not launched here (another host, or before this launcher): cannot judge.
            return CheckRunHealthResult(WorkerStatus.RUNNING, f"run launched on {host}")
        processes = {
            (record.dagster_event.pid, record.timestamp)
            for record in self._instance.all_logs(run.run_id, of_type=PROCESS_EVENTS)
            if record.dagster_event and record.dagster_event.pid
        }
        alive = [pid for pid, since in processes if is_alive(pid, since)]
        if alive or not processes:
            return CheckRunHealthResult(WorkerStatus.RUNNING, f"processes alive: {alive}")
        pids = sorted(pid for pid, _ in processes)
        return CheckRunHealthResult(WorkerStatus.FAILED, f"every process of the run died: {pids}")


def is_alive(pid: int, since: float) -> bool:
    """Whether process `pid`, which wrote an event at `since`, still runs (and is not a later
    process that reused its pid). Without /proc it cannot tell, and says alive."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        boot_time = next(
            float(line.split()[1])
            for line in Path("/proc/stat").read_text().splitlines()
            if line.startswith("btime ")
        )
    except FileNotFoundError:
        return not Path("/proc/self/stat").exists()
    # Fields after the command name (which may hold spaces): state is 3rd, starttime 22nd.
    fields = stat.rsplit(")", 1)[1].split()
    state, start_ticks = fields[0], int(fields[19])
    started = boot_time + start_ticks / os.sysconf("SC_CLK_TCK")
    return state not in {"Z", "X"} and started <= since + CLOCK_SLACK_SECONDS


def stop_with_run_worker() -> None:
    """In a process started by `multiprocessing` (a step subprocess of the multiprocess
    executor): have Linux SIGKILL it when the process that started it dies. An orphaned step
    would keep calling Exact after its run was failed and its slots given to the next run."""
    parent = multiprocessing.parent_process()
    if sys.platform != "linux" or parent is None:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL) != 0:
        return
    if os.getppid() != parent.pid:  # the parent died before prctl took effect
        os.kill(os.getpid(), signal.SIGKILL)
