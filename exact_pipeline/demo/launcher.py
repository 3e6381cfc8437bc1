"""`exact-pipeline demo`: Postgres, the Exact sandbox and `dagster dev`, started and stopped as one.

The children run in their own sessions so that Ctrl-C reaches only this launcher, which then stops
each child exactly once, in order (a second SIGINT would abort `dagster dev`'s own shutdown).
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import click
import httpx

from exact_pipeline.demo.prepare import connect_to_sandbox, prepare_billing, prepare_sandbox
from exact_pipeline.postgres import EmbeddedPostgres, create_database, psycopg2_url, redacted
from exact_pipeline.settings import EnvSettings

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class DemoPaths:
    root: Path

    @property
    def pgdata(self) -> Path:
        return self.root / "pg"

    @property
    def dagster_home(self) -> Path:
        return self.root / "dagster_home"

    @property
    def sandbox_state(self) -> Path:
        return self.root / "sandbox-state.json"

    @property
    def token_key(self) -> Path:
        return self.root / "token.key"

    @property
    def env_file(self) -> Path:
        """The demo's settings, for commands run beside it (`exact-pipeline demo-payments`)."""
        return self.root / "demo.env"


def write_env_file(path: Path, env: dict[str, str]) -> None:
    names = [name.upper() for name in EnvSettings.model_fields]
    path.write_text("".join(f"{name}={env[name]}\n" for name in names if name in env))
    path.chmod(0o600)  # it holds the demo's token key


def settings_from(env: dict[str, str]) -> EnvSettings:
    """The settings the Dagster processes will see (they inherit `env`)."""
    names = EnvSettings.model_fields
    return EnvSettings(**{k.lower(): v for k, v in env.items() if k.lower() in names})


def port_is_free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def wait_until(check: Callable[[], bool], what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except httpx.TransportError:
            pass
        time.sleep(0.25)
    raise click.ClickException(f"{what} did not come up within {timeout:.0f} s")


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
    if proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def demo_token_key(paths: DemoPaths) -> str:
    """A per-checkout key for the demo's stored tokens (a real deployment sets EXACT_TOKEN_KEY)."""
    if not paths.token_key.exists():
        paths.token_key.write_text(secrets.token_urlsafe(32))
        paths.token_key.chmod(0o600)
    return paths.token_key.read_text().strip()


def database_urls(paths: DemoPaths, stack: ExitStack) -> tuple[str, str]:
    """(billing URL, Dagster storage URL): from the environment, or an embedded server."""
    billing, dagster = os.environ.get("BILLING_DATABASE_URL"), os.environ.get("DAGSTER_PG_URL")
    if billing and dagster:
        return billing, dagster
    server = EmbeddedPostgres(paths.pgdata)
    admin = server.start()
    stack.callback(server.stop)
    return (
        billing or create_database(admin, "billing"),
        dagster or psycopg2_url(create_database(admin, "dagster")),
    )


def run_demo(root: Path, dagster_port: int, sandbox_port: int, exact_limits: bool) -> None:
    paths = DemoPaths(root)
    paths.root.mkdir(parents=True, exist_ok=True)
    for port in (dagster_port, sandbox_port):
        if not port_is_free(port):
            raise click.ClickException(f"port {port} is in use: stop what uses it or pick another")

    with ExitStack() as stack:
        billing_url, dagster_url = database_urls(paths, stack)
        click.echo(f"billing database ready: {redacted(billing_url)}")
        prepare_billing(billing_url)

        sandbox_url = f"http://127.0.0.1:{sandbox_port}"
        env = {
            **os.environ,
            "BILLING_DATABASE_URL": billing_url,
            "DAGSTER_PG_URL": dagster_url,
            "DAGSTER_HOME": str(paths.dagster_home),
            "EXACT_BASE_URL": os.environ.get("EXACT_BASE_URL", sandbox_url),
            "EXACT_CLIENT_ID": os.environ.get("EXACT_CLIENT_ID", "exact-pipeline-demo"),
            "EXACT_CLIENT_SECRET": os.environ.get("EXACT_CLIENT_SECRET", "sandbox-secret"),
            "EXACT_REDIRECT_URI": os.environ.get(
                "EXACT_REDIRECT_URI", "http://127.0.0.1:8765/callback"
            ),
            "EXACT_TOKEN_KEY": os.environ.get("EXACT_TOKEN_KEY", demo_token_key(paths)),
        }
        write_env_file(paths.env_file, env)
        exe = [sys.executable, "-m", "exact_pipeline.cli"]
        sandbox = start_child(
            [*exe, "sandbox", "--port", str(sandbox_port), "--state", str(paths.sandbox_state)], env
        )
        stack.callback(stop_child, sandbox, signal.SIGTERM, 10)
        wait_until(
            lambda: httpx.get(f"{sandbox_url}/_sandbox/health").status_code == 200, "sandbox", 30
        )
        if env["EXACT_BASE_URL"] == sandbox_url:
            prepare_sandbox(sandbox_url, exact_limits)
            connect_to_sandbox(settings_from(env), sandbox_url)

        paths.dagster_home.mkdir(exist_ok=True)
        shutil.copy(REPO / "dagster.yaml", paths.dagster_home / "dagster.yaml")
        dagster = start_child(
            [
                sys.executable,
                "-m",
                "dagster",
                "dev",
                "-w",
                "workspace.yaml",
                "-p",
                str(dagster_port),
            ],
            env,
        )
        stack.callback(stop_child, dagster, signal.SIGINT, 60)
        dagster_url_ui = f"http://127.0.0.1:{dagster_port}"
        wait_until(
            lambda: httpx.get(f"{dagster_url_ui}/server_info").status_code == 200, "Dagster", 120
        )
        click.echo(
            "\n".join(
                [
                    "",
                    f"  Dagster UI:             {dagster_url_ui}",
                    f"  Exact sandbox (page):   {sandbox_url}/",
                    f"  Billing database:       {redacted(billing_url)}",
                    "",
                    "  Press Ctrl-C to stop everything.",
                ]
            )
        )
        wait_for_interrupt(dagster)


def wait_for_interrupt(dagster: subprocess.Popen[bytes]) -> None:
    stop = False

    def on_signal(signum: int, _frame: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    while not stop and dagster.poll() is None:
        time.sleep(0.5)
    click.echo(
        "stopping …" if stop else f"dagster dev exited with {dagster.returncode}; stopping …"
    )
