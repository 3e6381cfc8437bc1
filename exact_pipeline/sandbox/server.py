"""Serving the sandbox with uvicorn (one worker: the state lives in this process)."""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import uvicorn

from exact_pipeline.sandbox.app import create_app
from exact_pipeline.sandbox.core import Sandbox
from exact_pipeline.sandbox.gateway import ConnectionDropper
from exact_pipeline.sandbox.seed import World


def serve(host: str, port: int, world: World, state_file: Path | None) -> None:
    dropper = ConnectionDropper()
    sandbox = Sandbox(world, state_file)
    app = create_app(sandbox, dropper)
    server = uvicorn.Server(
        uvicorn.Config(app, host=host, port=port, log_level="warning", date_header=False)
    )
    dropper.server_state = server.server_state  # lets lost_response faults abort connections
    sandbox.start_writer()
    # uvicorn shuts down gracefully on SIGTERM, then re-raises it with this handler in place:
    # exit through `finally`, so the last changes reach the state file.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        server.run()
    finally:
        sandbox.stop_writer()
