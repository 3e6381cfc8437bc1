"""A local webhook receiver for the alert tests: a real HTTP server on a free port that keeps
every JSON body posted to it, and answers an error status while told to."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from exact_pipeline_tests.conftest import free_port


class Receiver:
    def __init__(self, secret_path: str) -> None:
        self.posts: list[dict[str, Any]] = []
        self.paths: list[str] = []
        self.failures: list[int] = []  # statuses to answer next, one per post
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}{secret_path}"
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status = receiver.failures.pop(0) if receiver.failures else 200
                if status == 200:
                    receiver.posts.append(json.loads(body))
                    receiver.paths.append(self.path)
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:  # quiet: not part of what is tested
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def texts(self) -> list[str]:
        return [post["text"] for post in self.posts]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


SECRET_PATH = "/services/T0SECRET/B0SECRET/hush-hush-0123456789"
UI = "http://dagster.example:3000"
LINK = f"{UI}/assets/exact_documents"


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    """A receiver whose URL is ALERT_WEBHOOK_URL (its path is the secret part, as Slack's),
    with the UI's links pointing at `UI`."""
    server = Receiver(SECRET_PATH)
    monkeypatch.setenv("ALERT_WEBHOOK_URL", server.url)
    monkeypatch.setenv("DAGSTER_WEBSERVER_URL", f"{UI}/")
    yield server
    server.close()
