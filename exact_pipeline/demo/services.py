"""The demo's child processes: the Exact sandbox and Dagster's three services.

Dagster runs as in production (README, "Running beyond one machine"): one code server, the web
server and the daemon, all reading `DAGSTER_HOME`. The launcher starts them itself rather than
through `dagster dev` so that each starts as soon as it is safe, which `dagster dev` cannot
know: the code server and the web server never start a run, so they load while the billing
database is seeded; only the daemon (schedules, sensors) waits until billing and the Exact
connection are ready. Each child runs in its own session, so Ctrl-C reaches only the launcher,
which stops them in order.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
LOCATION = "exact_pipeline"  # as in workspace.yaml: run history and sensor state are keyed by it
# The console scripts of this environment (`dagster`, `dagster-webserver`, `dagster-daemon`).
BIN = Path(sys.executable).parent


def default_signals() -> None:
    """In the child: a launcher started in the background inherits SIGINT/SIGTERM ignored, and
    a child that keeps them ignored could not be stopped gracefully."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_DFL)


def start_child(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        args, cwd=REPO, env=env, start_new_session=True, preexec_fn=default_signals
    )


def stop_child(proc: subprocess.Popen[bytes], sig: int, timeout: float) -> None:
    """`sig` to the child's whole process group (a code server's run workers included), then
    SIGKILL to what is left after `timeout`."""
    if proc.poll() is None:
        _signal_group(proc.pid, sig)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            _signal_group(proc.pid, signal.SIGKILL)
            proc.wait()
    _signal_group(proc.pid, signal.SIGKILL)  # children that outlived their leader


def _signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, sig)


def port_is_open(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def write_workspace(dagster_home: Path, code_port: int) -> Path:
    """The web server's and the daemon's workspace: the one code server, over gRPC."""
    path = dagster_home / "workspace.yaml"
    server = {"host": "127.0.0.1", "port": code_port, "location_name": LOCATION}
    path.write_text(yaml.safe_dump({"load_from": [{"grpc_server": server}]}))
    return path


def code_server_args(code_port: int) -> list[str]:
    """`dagster code-server start`: a proxy that loads the definitions in a child process, so
    "Reload definitions" in the UI works as under `dagster dev`."""
    return [
        str(BIN / "dagster"),
        "code-server",
        "start",
        "-m",
        "exact_pipeline.definitions",
        "-d",
        str(REPO),
        "--location-name",
        LOCATION,
        "-h",
        "127.0.0.1",
        "-p",
        str(code_port),
        "--log-level",
        "warning",
    ]


def webserver_args(workspace: Path, port: int) -> list[str]:
    return [
        str(BIN / "dagster-webserver"),
        "-w",
        str(workspace),
        "-h",
        "127.0.0.1",
        "-p",
        str(port),
        "--dagster-log-level",
        "warning",
    ]


def daemon_args(workspace: Path) -> list[str]:
    # Its INFO lines are one "checking for new runs" per sensor tick; runs print their own.
    return [str(BIN / "dagster-daemon"), "run", "-w", str(workspace), "--log-level", "warning"]


def webhooks_args(port: int) -> list[str]:
    """`exact-pipeline webhooks serve`: Exact's (the sandbox's) deliveries into the state DB."""
    return [sys.executable, "-m", "exact_pipeline.cli", "webhooks", "serve", "--port", str(port)]


def sandbox_args(port: int, state: Path) -> list[str]:
    exe = [sys.executable, "-m", "exact_pipeline.cli"]
    return [*exe, "sandbox", "--port", str(port), "--state", str(state)]
