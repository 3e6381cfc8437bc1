"""The sandbox as a child process, for the tests and the benchmark (they talk to it over HTTP)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def consent_code(sandbox_url: str, client_id: str, redirect_uri: str, divisions: list[int]) -> str:
    """An authorization code for `divisions`, as approving the sandbox's consent page gives
    (admin API; the code is then exchanged like any other)."""
    response = httpx.post(
        f"{sandbox_url}/_sandbox/oauth/code",
        json={"client_id": client_id, "redirect_uri": redirect_uri, "divisions": divisions},
        timeout=10,
    )
    response.raise_for_status()
    return response.json()["code"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# The sandbox serving the demo company, started alone (no other command group loads).
MODULE = "exact_pipeline.demo.sandbox_main"


class SandboxProcess:
    """`python -m exact_pipeline.demo.sandbox_main` on a port, started and answering
    `/_sandbox/health`."""

    def __init__(self, port: int | None = None, state_file: Path | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        state = ["--state", str(state_file)] if state_file else []
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "exact_pipeline.demo.sandbox_main",
                "--port",
                str(self.port),
                *state,
            ]
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/_sandbox/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
            if self.proc.poll() is not None:
                raise RuntimeError(f"the sandbox exited with {self.proc.returncode}")
        self.stop()
        raise RuntimeError("the sandbox did not answer /_sandbox/health within 30 s")

    def admin(self, method: str, path: str, **json: object) -> dict:
        """Call the admin API (`/_sandbox/<path>`)."""
        response = httpx.request(method, f"{self.url}/_sandbox/{path}", json=json or None)
        response.raise_for_status()
        return response.json() if response.content else {}

    def reset(self) -> None:
        self.admin("POST", "reset")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
