"""`exact-pipeline demo`: Postgres, the Exact sandbox and Dagster, started and stopped as one.

Order (each line is printed as it happens, with the seconds since the start):
  1. Postgres (embedded, or the servers named in the environment);
  2. the sandbox and Dagster's code server and web server start in the background (neither can
     start a run), while the billing database is seeded on a first start;
  3. the sandbox gets its limits and the demo's consent (the Exact connection);
  4. the Dagster daemon starts last: its sensors find seeded billing data and a live connection.
Ctrl-C stops the children in reverse order, each exactly once.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import time
import warnings
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import click
import httpx

from exact_pipeline.demo import services
from exact_pipeline.demo.sandbox_process import free_port
from exact_pipeline.postgres import EmbeddedPostgres, create_database, psycopg2_url, redacted
from exact_pipeline.settings import EnvSettings
from exact_pipeline.webhooks.server import HEALTH_PATH, WEBHOOK_PATH

REPO = services.REPO
# Beside the pipeline's own settings, what `dagster asset materialize` needs to run against the
# demo's Dagster instance (README, "Backfilling history").
DAGSTER_ENV = ("DAGSTER_HOME", "DAGSTER_PG_URL")


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
        """The demo's settings, for commands run beside it (`exact-pipeline demo-payments`,
        `uv run --env-file .demo/demo.env dagster asset materialize …`)."""
        return self.root / "demo.env"


@dataclass
class Progress:
    """One line per phase, with the seconds since the launcher started."""

    started: float = field(default_factory=time.monotonic)

    def __call__(self, message: str) -> None:
        click.echo(f"[{self.elapsed():5.1f} s] {message}")

    def elapsed(self) -> float:
        return time.monotonic() - self.started


def env_file_names() -> list[str]:
    return [*(name.upper() for name in EnvSettings.model_fields), *DAGSTER_ENV]


def write_env_file(path: Path, env: dict[str, str]) -> None:
    names = env_file_names()
    path.write_text("".join(f"{name}={env[name]}\n" for name in names if name in env))
    path.chmod(0o600)  # it holds the demo's token key


def settings_from(env: dict[str, str]) -> EnvSettings:
    """The settings the Dagster processes will see (they inherit `env`)."""
    names = EnvSettings.model_fields
    return EnvSettings(**{k.lower(): v for k, v in env.items() if k.lower() in names})


def wait_until(
    check: Callable[[], bool],
    what: str,
    timeout: float,
    progress: Progress | None = None,
    every: float = 15,
) -> None:
    """Poll `check`; with `progress`, say every `every` seconds that it is still waiting."""
    started = time.monotonic()
    said = started
    while time.monotonic() - started < timeout:
        try:
            if check():
                return
        except httpx.TransportError:
            pass
        if progress and time.monotonic() - said >= every:
            said = time.monotonic()
            progress(f"  … {what}: still loading ({said - started:.0f} s)")
        time.sleep(0.25)
    raise click.ClickException(f"{what} did not come up within {timeout:.0f} s")


def answers(url: str) -> bool:
    return httpx.get(url, timeout=2).status_code == 200


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
    with warnings.catch_warnings():
        # platformdirs, imported by the server's wheel, warns when XDG_RUNTIME_DIR is unset (a
        # container, sudo); the server keeps its socket in the data folder anyway.
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
        admin = server.start()
    stack.callback(server.stop)
    return (
        billing or create_database(admin, "billing"),
        dagster or psycopg2_url(create_database(admin, "dagster")),
    )


def demo_env(
    paths: DemoPaths, billing_url: str, dagster_url: str, sandbox_url: str, webhook_url: str
) -> dict:
    return {
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
        # The sandbox's demo app signs its deliveries with this (sandbox/config.py).
        "EXACT_WEBHOOK_SECRET": os.environ.get("EXACT_WEBHOOK_SECRET", "sandbox-webhook-secret"),
        "EXACT_WEBHOOK_URL": os.environ.get("EXACT_WEBHOOK_URL", webhook_url),
    }


def prepare_dagster_home(paths: DemoPaths) -> None:
    paths.dagster_home.mkdir(exist_ok=True)
    shutil.copy(REPO / "dagster.yaml", paths.dagster_home / "dagster.yaml")


def run_demo(root: Path, dagster_port: int, sandbox_port: int, exact_limits: bool) -> None:
    from exact_pipeline.demo.prepare import connect_to_sandbox, prepare_billing, prepare_sandbox

    progress = Progress()
    paths = DemoPaths(root)
    paths.root.mkdir(parents=True, exist_ok=True)
    for port in (dagster_port, sandbox_port):
        if services.port_is_open(port):
            raise click.ClickException(f"port {port} is in use: stop what uses it or pick another")

    with ExitStack() as stack:
        progress("starting Postgres …")
        billing_url, dagster_url = database_urls(paths, stack)
        progress(f"Postgres ready: {redacted(billing_url)}")
        sandbox_url = f"http://127.0.0.1:{sandbox_port}"
        webhook_port = free_port()
        webhook_url = f"http://127.0.0.1:{webhook_port}{WEBHOOK_PATH}"
        env = demo_env(paths, billing_url, dagster_url, sandbox_url, webhook_url)
        write_env_file(paths.env_file, env)
        prepare_dagster_home(paths)

        progress("starting the Exact sandbox and Dagster's code server in the background …")
        start = _starter(stack, env)
        sandbox = start(services.sandbox_args(sandbox_port, paths.sandbox_state), signal.SIGTERM)
        code_port = free_port()
        workspace = services.write_workspace(paths.dagster_home, code_port)
        code_server = start(services.code_server_args(code_port), signal.SIGTERM)
        prepare_billing(billing_url, progress)

        progress("waiting for Dagster's code server (it loads exact_pipeline.definitions) …")
        wait_until(lambda: services.port_is_open(code_port), "the code server", 600, progress)
        progress("starting Dagster's web server …")
        webserver = start(services.webserver_args(workspace, dagster_port), signal.SIGINT)
        wait_until(lambda: answers(f"{sandbox_url}/_sandbox/health"), "the sandbox", 60)
        if env["EXACT_BASE_URL"] == sandbox_url:
            prepare_sandbox(sandbox_url, exact_limits, progress)
            connect_to_sandbox(settings_from(env), sandbox_url, progress)
        progress("starting the webhook server (payments pushed by Exact) …")
        webhooks = start(services.webhooks_args(webhook_port), signal.SIGTERM)
        health = f"http://127.0.0.1:{webhook_port}{HEALTH_PATH}"
        wait_until(lambda: answers(health), "the webhook server", 60)
        subscribe_demo_webhooks(settings_from(env), progress)
        progress("starting Dagster's daemon (schedules and sensors) …")
        daemon = start(services.daemon_args(workspace), signal.SIGINT)

        ui = f"http://127.0.0.1:{dagster_port}"
        wait_until(lambda: answers(f"{ui}/server_info"), "the Dagster UI", 600, progress)
        progress("ready")
        click.echo(
            "\n".join(
                [
                    "",
                    f"  Dagster UI:             {ui}",
                    f"  Exact sandbox (page):   {sandbox_url}/",
                    f"  Billing database:       {redacted(billing_url)}",
                    f"  Settings for the CLI:   {paths.env_file}",
                    "",
                    "  Press Ctrl-C to stop everything.",
                    "",
                ]
            )
        )
        wait_for_interrupt(
            {
                "the sandbox": sandbox,
                "the webhook server": webhooks,
                "the code server": code_server,
                "the web server": webserver,
                "the daemon": daemon,
            }
        )
        progress("stopping …")


def subscribe_demo_webhooks(settings: EnvSettings, progress: Progress) -> None:
    """The mapped divisions subscribed to the payment topics at the local server (only with
    payment_sync exact_to_billing; idempotent, so each start costs a GET per division)."""
    from exact_pipeline.mapping import load_mappings
    from exact_pipeline.state.exact import exact_from_settings
    from exact_pipeline.webhooks.subscriptions import subscribe_payments

    with exact_from_settings(settings) as exact:
        done = subscribe_payments(
            exact, load_mappings(settings.exact_mappings_dir), settings.exact_webhook_url
        )
    if done:
        progress(f"webhooks: divisions {sorted(done)} send payments to the local server")


def _starter(
    stack: ExitStack, env: dict[str, str]
) -> Callable[[list[str], int], subprocess.Popen[bytes]]:
    """Start a child now, stop it (with `sig`) when the stack closes: last started, first
    stopped."""

    def start(args: list[str], sig: int) -> subprocess.Popen[bytes]:
        proc = services.start_child(args, env)
        stack.callback(services.stop_child, proc, sig, 30)
        return proc

    return start


def wait_for_interrupt(children: dict[str, subprocess.Popen[bytes]]) -> None:
    stop = False

    def on_signal(signum: int, _frame: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    while not stop:
        for name, proc in children.items():
            if proc.poll() is not None:
                click.echo(f"{name} exited with {proc.returncode}")
                return
        time.sleep(0.5)
