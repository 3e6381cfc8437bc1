"""Serving the sandbox with uvicorn (one worker: the state lives in this process)."""

from __future__ import annotations

from pathlib import Path

import uvicorn

from exact_pipeline.sandbox.app import create_app
from exact_pipeline.sandbox.core import Sandbox
from exact_pipeline.sandbox.gateway import ConnectionDropper


def serve(host: str, port: int, state_file: Path | None) -> None:
    dropper = ConnectionDropper()
    app = create_app(Sandbox(state_file), dropper)
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))
    dropper.server_state = server.server_state  # lets lost_response faults abort connections
    server.run()
