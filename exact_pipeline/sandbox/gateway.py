"""ASGI middleware in front of the Exact-facing routes: fault injection and the request log.

Lost responses really are lost: the request runs (a write commits), then the connection is
aborted before a single byte of the answer is sent (or a gateway status replaces it).
"""

from __future__ import annotations

import asyncio
import logging
from email.utils import format_datetime
from typing import Any

from starlette.responses import HTMLResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from exact_pipeline.sandbox.core import Sandbox
from exact_pipeline.sandbox.errors import ExactError, OAuthError
from exact_pipeline.sandbox.faults import Body, Plan
from exact_pipeline.sandbox.requestlog import Entry, division_of, endpoint_path
from exact_pipeline.sandbox.responses import error_response, oauth_error_response

EXACT_PREFIXES = ("/api/", "/docs/")
log = logging.getLogger(__name__)


async def _read_body(receive: Receive) -> bytes | None:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands the app the buffered body, then listens for the disconnect."""
    delivered = False

    async def replay() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


class ConnectionDropper:
    """Aborts the TCP connection a request came in on. Needs the uvicorn server's state
    (its set of live connections), attached by `server.serve`."""

    def __init__(self) -> None:
        self.server_state: Any = None

    async def drop(self, scope: Scope) -> None:
        client = tuple(scope.get("client") or ())
        connections = getattr(self.server_state, "connections", ())
        for protocol in list(connections):
            if tuple(getattr(protocol, "client", None) or ()) == client:
                protocol.transport.abort()
                await asyncio.sleep(0.01)  # let uvicorn notice the disconnect
                return
        log.warning("no connection found to drop for %s", client)


class Gateway:
    def __init__(self, app: ASGIApp, sandbox: Sandbox, dropper: ConnectionDropper) -> None:
        self.app = app
        self.sandbox = sandbox
        self.dropper = dropper

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(EXACT_PREFIXES):
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        # The request is received in full first: a slow server still does the work even
        # when the client gives up waiting (a timed-out POST may well have been committed).
        body = await _read_body(receive)
        if body is None:
            return  # the client left before sending its request
        receive = _replay(body, receive)
        with self.sandbox.lock:
            self.sandbox.requests.arrive(method, path)
            plan = self.sandbox.faults.plan(method, path, body)
        if plan.latency_ms:
            await asyncio.sleep(plan.latency_ms / 1000)
        injected = plan.answer_status or plan.burst_429 or plan.too_early
        if injected and not self._blocked(path):  # a blocked endpoint answers only that
            response = self._injected(plan, path)
            self._count_error(path, response.status_code)
            await response(scope, receive, send)
            self._log(method, path, response.status_code, response.status_code, plan)
            return
        sent: list[Message] = []

        async def capture(message: Message) -> None:
            sent.append(message)
            if not plan.lose:
                await send(message)

        await self.app(scope, receive, capture)
        status = next((m["status"] for m in sent if m["type"] == "http.response.start"), None)
        if not plan.lose:
            self._log(method, path, status, status, plan)
            return
        if plan.lost_status is not None:
            gateway = _fault_response(plan.lost_status, plan.body, "Gateway Timeout")
            await gateway(scope, receive, send)
            self._log(method, path, plan.lost_status, status, plan)
            return
        # Logged first: the client sees the drop at once and may ask the log right away.
        self._log(method, path, None, status, plan)
        await self.dropper.drop(scope)

    def _injected(self, plan: Plan, path: str) -> Response:
        division = division_of(path)
        if plan.too_early:
            return oauth_error_response(
                OAuthError(
                    self.sandbox.config.too_early_refresh_status,
                    "access_denied",
                    "Rate limit exceeded: access_token not expired",
                    reason="TooEarlyToRefreshTokens",
                )
            )
        if plan.burst_429:
            with self.sandbox.lock:
                refusal = self.sandbox.limiter.minutely_refusal(
                    division or 0, self.sandbox.clock.epoch(), self.sandbox.config
                )
            return error_response(
                ExactError(429, "Too many requests", headers=refusal.headers), True
            )
        assert plan.answer_status is not None
        return _fault_response(plan.answer_status, plan.body, "Injected fault (sandbox)")

    def _block_key(self, path: str) -> str | None:
        division = division_of(path)
        return None if division is None else f"{division} {endpoint_path(path)}"

    def _blocked(self, path: str) -> bool:
        key = self._block_key(path)
        with self.sandbox.lock:
            epoch, config = self.sandbox.clock.epoch(), self.sandbox.config
            return (
                key is not None
                and self.sandbox.blocker.blocked_until(key, epoch, config) is not None
            )

    def _count_error(self, path: str, status: int) -> None:
        """An injected 4xx counts towards the error block like any other Exact answers."""
        key = self._block_key(path)
        if key is None:
            return
        with self.sandbox.lock:
            epoch, config = self.sandbox.clock.epoch(), self.sandbox.config
            self.sandbox.blocker.record(key, status, epoch, config)

    def _log(
        self, method: str, path: str, status: int | None, committed: int | None, plan: Plan
    ) -> None:
        with self.sandbox.lock:
            self.sandbox.requests.record(
                Entry(
                    method=method,
                    path=path,
                    division=division_of(path),
                    status=status,
                    at=self.sandbox.clock.now().isoformat(),
                    committed_status=committed,
                    fault=plan.fault,
                )
            )


def _fault_response(status: int, body: Body, message: str) -> Response:
    if body == "html":  # what a gateway or a login redirect answers: not Exact's JSON
        page = f"<html><head><title>{status}</title></head><body><h1>{message}</h1></body></html>"
        return HTMLResponse(page, status)
    if body == "empty":
        return Response(b"", status)
    return error_response(ExactError(status, message), True)


class ClockDate:
    """Every answer's `Date` header tells the sandbox clock, as Exact's tells its own: clients
    learn the server's time from it (uvicorn's wall-clock header is switched off)."""

    def __init__(self, app: ASGIApp, sandbox: Sandbox) -> None:
        self.app = app
        self.sandbox = sandbox

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def dated(message: Message) -> None:
            if message["type"] == "http.response.start":
                stamp = format_datetime(self.sandbox.clock.now(), usegmt=True)
                message["headers"] = [*message.get("headers", []), (b"date", stamp.encode())]
            await send(message)

        await self.app(scope, receive, dated)
