"""The webhook endpoint: verifies each delivery's HashCode, stores the event, answers at once.

Exact waits for the answer and may give up on a slow callback, so nothing is read from Exact
here: one INSERT (idempotent on the HashCode), then 200. A wrong or missing signature answers
401 and stores nothing; a signed body that is no event answers 400. Payments follow from the
`exact_payment_events` sensor, which reads the stored events.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import psycopg
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from exact_pipeline.exact.webhooks import MalformedDelivery, WebhookEvent, verified_event
from exact_pipeline.sync.payments import events

WEBHOOK_PATH = "/exact/webhooks"  # the path of EXACT_WEBHOOK_URL
HEALTH_PATH = "/health"
log = logging.getLogger(__name__)


def webhook_app(state_url: str, secret: str) -> Starlette:
    """The endpoint, storing into the state database at `state_url`; `secret` is the app's
    webhook secret (never logged)."""
    if not secret:
        raise ValueError("EXACT_WEBHOOK_SECRET is not set: no delivery could be verified")

    def save(event: WebhookEvent) -> bool:
        with psycopg.connect(state_url, autocommit=True) as conn:
            return events.store(conn, event)

    async def receive(request: Request) -> Response:
        body = await request.body()
        try:
            event = verified_event(body, secret)
        except MalformedDelivery as odd:
            log.warning("signed webhook delivery that is no event: %s", odd)
            return JSONResponse({"error": "not an event"}, status_code=400)
        if event is None:
            log.warning("webhook delivery refused: wrong or missing HashCode")
            return JSONResponse({"error": "invalid signature"}, status_code=401)
        stored = await run_in_threadpool(save, event)
        log.info(
            "webhook %s %s %s in division %s%s",
            event.topic,
            event.action,
            event.key,
            event.division,
            "" if stored else " (delivered before)",
        )
        return Response(status_code=200)

    async def health(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        with psycopg.connect(state_url, autocommit=True) as conn:
            events.ensure_schema(conn)
        yield

    return Starlette(
        routes=[
            Route(WEBHOOK_PATH, receive, methods=["POST"]),
            Route(HEALTH_PATH, health, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
