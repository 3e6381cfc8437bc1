"""The sandbox's state and its one lock: clock, config, entity store, OAuth, limits,
faults, request log and outbox; persisted to a JSON file when one is given."""

from __future__ import annotations

import json
import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from exact_pipeline.sandbox.auth import OAuth
from exact_pipeline.sandbox.clock import Clock
from exact_pipeline.sandbox.config import SandboxConfig
from exact_pipeline.sandbox.context import Ctx
from exact_pipeline.sandbox.faults import FaultEngine
from exact_pipeline.sandbox.ratelimit import ErrorBlocker, RateLimiter
from exact_pipeline.sandbox.registry import Registry
from exact_pipeline.sandbox.requestlog import RequestLog
from exact_pipeline.sandbox.seed import World, seed
from exact_pipeline.sandbox.store import Store
from exact_pipeline.sandbox.webhooks import Dispatcher

STATE_VERSION = 1
# Changes are written to the state file at most this often, by a background thread, and once
# more at shutdown: rewriting the whole file after every request made a busy sandbox crawl.
PERSIST_INTERVAL_SECONDS = 1.0


class Sandbox:
    """Everything the HTTP layer serves. Callers hold `lock` (or use `transaction()`)."""

    def __init__(self, world: World, state_file: Path | None = None) -> None:
        self.world = world
        self.lock = threading.RLock()
        self.registry = Registry()
        self.state_file = state_file
        self._dirty = threading.Event()
        self._stopping = threading.Event()
        self._writer: threading.Thread | None = None
        self.webhooks = Dispatcher()  # one delivery thread for the process's life
        self.reset()
        if state_file is not None and state_file.exists():
            self._load(state_file)

    def reset(self) -> None:
        """Back to the seeded state: real time, default config, no tokens, faults or counts."""
        self.config = SandboxConfig()
        self.clock = Clock()
        self.store = Store()
        seed(self.store, self.world, self.clock.local_now())
        self.oauth = OAuth(self.clock, self.world.user)
        self.limiter = RateLimiter()
        self.blocker = ErrorBlocker()
        self.faults = FaultEngine(self.config.seed)
        self.requests = RequestLog()
        self.webhooks.clear()
        self.outbox: list[dict[str, Any]] = []
        self.revision = 0
        self._persisted = -1

    def reseed(self) -> None:
        """Restore the seeded master data; documents and added records stay."""
        seed(self.store, self.world, self.clock.local_now())

    def ctx(self, division: int, base_url: str) -> Ctx:
        return Ctx(
            store=self.store,
            registry=self.registry,
            config=self.config,
            division=division,
            now=self.clock.local_now(),
            base_url=base_url.rstrip("/"),
            outbox=self.outbox,
        )

    def update_config(self, patch: dict[str, Any]) -> SandboxConfig:
        """Merge a partial config (field_limits merge key by key). Raises ValueError."""
        limits = patch.get("field_limits")
        known = self.registry.string_fields()
        for name in limits or {}:
            if name not in known:
                raise ValueError(f"field_limits: unknown string field '{name}' (use Set.Field)")
        merged = self.config.model_dump() | patch
        if limits is not None:
            merged["field_limits"] = self.config.field_limits | limits
        config = SandboxConfig.model_validate(merged)
        if config.seed != self.config.seed:
            self.faults.reseed(config.seed)
        self.config = config
        self.revision += 1
        return config

    def effective_field_limits(self) -> dict[str, int | None]:
        declared = {name: f.max_length for name, f in self.registry.string_fields().items()}
        return {k: v for k, v in (declared | self.config.field_limits).items() if v is not None}

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Hold the lock; mark the state for writing if anything changed."""
        with self.lock:
            try:
                yield
            finally:
                if self.state_file is not None and self._changed():
                    self._dirty.set()

    # persistence -------------------------------------------------------------------------
    def _state_revision(self) -> tuple[int, int, int, int]:
        return (self.store.revision, self.oauth.revision, self.revision, len(self.outbox))

    def _changed(self) -> bool:
        return hash(self._state_revision()) != self._persisted

    def start_writer(self) -> None:
        """Write changes in the background (no-op without a state file)."""
        if self.state_file is None or self._writer is not None:
            return
        self._writer = threading.Thread(target=self._write_loop, name="state-writer", daemon=True)
        self._writer.start()

    def stop_writer(self) -> None:
        """Stop the background writer and write what is still unwritten."""
        self._stopping.set()
        self._dirty.set()
        if self._writer is not None:
            self._writer.join()
            self._writer = None
        self.persist()

    def _write_loop(self) -> None:
        while not self._stopping.is_set():
            self._dirty.wait()
            self._stopping.wait(PERSIST_INTERVAL_SECONDS)  # gather a burst into one write
            self._dirty.clear()
            self.persist()

    def persist(self) -> None:
        """Write the state file if anything changed: serialised under the lock (a consistent
        snapshot), written outside it, atomically."""
        if self.state_file is None:
            return
        with self.lock:
            if not self._changed():
                return
            revision = hash(self._state_revision())
            text = json.dumps(
                {
                    "version": STATE_VERSION,
                    "clock_offset": self.clock.offset_seconds,
                    "config": self.config.model_dump(),
                    "store": self.store.dump(),
                    "oauth": self.oauth.dump(),
                    "outbox": self.outbox,
                },
                default=_encode,
            )
        directory = self.state_file.parent
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=directory, delete=False, suffix=".tmp") as tmp:
            tmp.write(text)
        os.replace(tmp.name, self.state_file)
        self._persisted = revision

    def _load(self, path: Path) -> None:
        state = json.loads(path.read_text(), object_hook=_decode)
        if state.get("version") != STATE_VERSION:
            raise ValueError(f"{path}: unsupported sandbox state version {state.get('version')}")
        self.clock.offset_seconds = state["clock_offset"]
        self.config = SandboxConfig.model_validate(state["config"])
        self.store.load(state["store"], {p: s.key for p, s in self.registry.sets.items()})
        self.oauth.load(state["oauth"])
        self.outbox = state["outbox"]
        self.faults.reseed(self.config.seed)
        self._persisted = hash(self._state_revision())


def _encode(value: Any) -> Any:
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    raise TypeError(f"cannot persist {type(value).__name__}")


def _decode(obj: dict) -> Any:
    if len(obj) == 1 and "$decimal" in obj:
        return Decimal(obj["$decimal"])
    if len(obj) == 1 and "$datetime" in obj:
        return datetime.fromisoformat(obj["$datetime"])
    return obj
