"""The webhook server for real: uvicorn on a free port, in a thread of the test process, storing
into the test's state database; the sandbox (another process) posts to it over HTTP."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
import uvicorn

from exact_pipeline.webhooks.server import WEBHOOK_PATH, webhook_app
from exact_pipeline_tests.conftest import free_port
from exact_pipeline_tests.defs.conftest import *  # noqa: F403  (Dagster and sync fixtures)

SECRET = "sandbox-webhook-secret"  # the demo app's, sandbox/config.py
WAIT = 30.0  # seconds a delivery may take to arrive (a wait, never an assertion on time)


@dataclass
class WebhookServer:
    url: str
    state_url: str

    def events(self) -> list[dict[str, Any]]:
        with psycopg.connect(self.state_url) as conn, conn.cursor() as cur:
            cur.execute("SELECT * FROM exact_sync.webhook_events ORDER BY seq")
            names = [c.name for c in cur.description or ()]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def wait_for_events(self, count: int) -> list[dict[str, Any]]:
        deadline = time.monotonic() + WAIT
        while len(found := self.events()) < count and time.monotonic() < deadline:
            time.sleep(0.1)
        return found


@contextmanager
def serving(state_url: str, port: int) -> Iterator[None]:
    """The webhook server on `port` for the block (down before and after it)."""
    server = uvicorn.Server(
        uvicorn.Config(
            webhook_app(state_url, SECRET), host="127.0.0.1", port=port, log_level="warning"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture
def webhook_server(state_url: str) -> Iterator[WebhookServer]:
    port = free_port()
    with serving(state_url, port):
        yield WebhookServer(f"http://127.0.0.1:{port}{WEBHOOK_PATH}", state_url)
