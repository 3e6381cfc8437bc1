"""`/_sandbox/…`: the admin API (not part of Exact) that tests and the demo drive."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import TypeAdapter, ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from exact_pipeline.sandbox import rules
from exact_pipeline.sandbox.core import Sandbox
from exact_pipeline.sandbox.docs_routes import attachment_response
from exact_pipeline.sandbox.faults import FaultRule
from exact_pipeline.sandbox.store import GLOBAL

RULES = TypeAdapter(list[FaultRule])


def _raw(value: Any) -> Any:
    # Raw store values: exact decimals as strings, datetimes (Exact-local) as ISO text.
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def reply(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body, default=_raw), status, media_type="application/json")


def bad(message: str) -> Response:
    return reply({"error": message}, 400)


async def _json(request: Request) -> Any:
    raw = await request.body()
    return json.loads(raw) if raw.strip() else {}


def _sandbox(request: Request) -> Sandbox:
    return request.app.state.sandbox


async def health(request: Request) -> Response:
    return reply({"status": "ok"})


async def reset(request: Request) -> Response:
    sandbox = _sandbox(request)
    with sandbox.transaction():
        sandbox.reset()
    return reply({"status": "reset"})


async def seed(request: Request) -> Response:
    sandbox = _sandbox(request)
    with sandbox.transaction():
        sandbox.reseed()
    return reply({"status": "seeded"})


def _clock(sandbox: Sandbox) -> dict[str, Any]:
    return {
        "now": sandbox.clock.now().isoformat(),
        "local": sandbox.clock.local_now().isoformat(),
        "epoch_ms": sandbox.clock.epoch_ms(),
        "offset_seconds": sandbox.clock.offset_seconds,
    }


async def clock(request: Request) -> Response:
    sandbox = _sandbox(request)
    with sandbox.lock:
        return reply(_clock(sandbox))


async def clock_advance(request: Request) -> Response:
    sandbox = _sandbox(request)
    body = await _json(request)
    seconds = body.get("seconds") if isinstance(body, dict) else None
    if not isinstance(seconds, int | float) or isinstance(seconds, bool) or seconds < 0:
        return bad("POST {'seconds': n} with n >= 0: the clock only moves forward")
    with sandbox.transaction():
        sandbox.clock.advance(seconds)
        sandbox.revision += 1
        return reply(_clock(sandbox))


async def clock_set(request: Request) -> Response:
    sandbox = _sandbox(request)
    body = await _json(request)
    try:
        moment = datetime.fromisoformat(str(body.get("now")).replace("Z", "+00:00"))
        if moment.tzinfo is None:
            raise ValueError("give an offset, e.g. 2026-11-23T09:00:00+00:00")
    except (ValueError, AttributeError) as exc:
        return bad(f"POST {{'now': iso-8601 with offset}}: {exc}")
    with sandbox.transaction():
        sandbox.clock.set(moment)
        sandbox.revision += 1
        return reply(_clock(sandbox))


def _config(sandbox: Sandbox) -> dict[str, Any]:
    return sandbox.config.model_dump() | {"field_limits": sandbox.effective_field_limits()}


async def config(request: Request) -> Response:
    sandbox = _sandbox(request)
    if request.method == "GET":
        with sandbox.lock:
            return reply(_config(sandbox))
    patch = await _json(request)
    if not isinstance(patch, dict):
        return bad("POST a JSON object of settings")
    with sandbox.transaction():
        try:
            sandbox.update_config(patch)
        except (ValidationError, ValueError) as exc:
            return bad(str(exc))
        return reply(_config(sandbox))


async def faults(request: Request) -> Response:
    sandbox = _sandbox(request)
    with sandbox.lock:
        if request.method == "DELETE":
            sandbox.faults.clear()
        elif request.method == "POST":
            body = await _json(request)
            try:
                sandbox.faults.add(RULES.validate_python(body.get("rules", [])))
            except (ValidationError, AttributeError) as exc:
                return bad(str(exc))
        return reply({"rules": sandbox.faults.listing()})


async def requests(request: Request) -> Response:
    sandbox = _sandbox(request)
    with sandbox.lock:
        if request.method == "DELETE":
            sandbox.requests.clear()
        return reply(sandbox.requests.snapshot())


async def limits(request: Request) -> Response:
    sandbox = _sandbox(request)
    with sandbox.lock:
        epoch = sandbox.clock.epoch()
        return reply(
            {
                "usage": sandbox.limiter.snapshot(epoch, sandbox.config),
                "blocked": sandbox.blocker.snapshot(epoch),
            }
        )


async def store(request: Request) -> Response:
    sandbox = _sandbox(request)
    division, path = request.path_params["division"], request.path_params["path"]
    with sandbox.lock:
        endpoint = sandbox.registry.endpoint(path)
        entity_set = endpoint.set if endpoint else None
        if entity_set is None:
            return reply({"error": f"unknown entity set '{path}'"}, 404)
        rows = sandbox.store.rows(GLOBAL if entity_set.global_scope else division, entity_set.table)
        return reply({"results": rows})


async def oauth_code(request: Request) -> Response:
    sandbox = _sandbox(request)
    body = await _json(request)
    with sandbox.transaction():
        try:
            code = sandbox.oauth.issue_code(
                sandbox.config,
                body.get("client_id", ""),
                body.get("redirect_uri", ""),
                [int(d) for d in body.get("divisions", [])],
            )
        except (ValueError, TypeError, AttributeError) as exc:
            return bad(str(exc))
    return reply({"code": code})


async def outbox(request: Request) -> Response:
    sandbox = _sandbox(request)
    with sandbox.lock:
        return reply({"emails": sandbox.outbox})


async def attachment(request: Request) -> Response:
    sandbox = _sandbox(request)
    division, key = request.path_params["division"], request.path_params["id"].lower()
    with sandbox.lock:
        record = sandbox.store.get(division, "documents/DocumentAttachments", key)
        if record is None:
            return reply({"error": "no such attachment"}, 404)
        return attachment_response(record, download=request.query_params.get("download") == "1")


async def periods(request: Request) -> Response:
    """POST {"division", "journal", "year", "period", "closed": bool}: close a journal's
    period (or open it again), as an accountant does in Exact; read/financial/JournalStatusList
    shows it and bookings into a closed period are refused."""
    sandbox = _sandbox(request)
    body = await _json(request)
    try:
        division, journal = int(body["division"]), str(body["journal"])
        year, period, closed = int(body["year"]), int(body["period"]), bool(body["closed"])
        if not 1 <= period <= 12:
            raise ValueError("period is 1-12")
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        return bad(f"POST {{division, journal, year, period (1-12), closed}}: {exc}")
    with sandbox.transaction():
        ctx = sandbox.ctx(division, str(request.base_url))
        rules.set_period_status(ctx, journal, year, period, closed)
        closed_periods = ctx.rows(rules.JOURNAL_STATUS)
    return reply({"closed": [r["ID"] for r in closed_periods]})


async def webhook_deliveries(request: Request) -> Response:
    """The webhook deliveries posted so far (url, body, answer status); DELETE clears them."""
    sandbox = _sandbox(request)
    if request.method == "DELETE":
        sandbox.webhooks.clear()
    return reply({"deliveries": sandbox.webhooks.snapshot()})


routes = [
    Route("/health", health),
    Route("/reset", reset, methods=["POST"]),
    Route("/seed", seed, methods=["POST"]),
    Route("/clock", clock),
    Route("/clock/advance", clock_advance, methods=["POST"]),
    Route("/clock/set", clock_set, methods=["POST"]),
    Route("/config", config, methods=["GET", "POST"]),
    Route("/faults", faults, methods=["GET", "POST", "DELETE"]),
    Route("/requests", requests, methods=["GET", "DELETE"]),
    Route("/limits", limits),
    Route("/store/{division:int}/{path:path}", store),
    Route("/oauth/code", oauth_code, methods=["POST"]),
    Route("/outbox", outbox),
    Route("/attachments/{division:int}/{id}", attachment),
    Route("/periods", periods, methods=["POST"]),
    Route("/webhooks", webhook_deliveries, methods=["GET", "DELETE"]),
]
