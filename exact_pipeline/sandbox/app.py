"""The sandbox as one ASGI application."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount, Route

from exact_pipeline.sandbox import admin, api, docs_routes, oauth_routes, page
from exact_pipeline.sandbox.core import Sandbox
from exact_pipeline.sandbox.gateway import ClockDate, ConnectionDropper, Gateway

API_METHODS = ["GET", "POST", "PUT", "DELETE"]


def create_app(sandbox: Sandbox, dropper: ConnectionDropper | None = None) -> Starlette:
    routes = [
        Route("/", page.index),
        Route("/divisions/{division:int}", page.division_page),
        Route("/api/oauth2/auth", oauth_routes.consent_page, methods=["GET"]),
        Route("/api/oauth2/auth", oauth_routes.consent_decision, methods=["POST"]),
        Route("/api/oauth2/token", oauth_routes.token, methods=["POST"]),
        Route("/api/v1/current/Me", api.me, methods=["GET"]),
        Route("/api/v1/{division:int}/{rest:path}", api.entity, methods=API_METHODS),
        Route("/docs/SysAttachment.aspx", docs_routes.attachment),
        Route("/docs/DocView.aspx", docs_routes.document_view),
        Mount("/_sandbox", routes=admin.routes),
    ]
    middleware = [
        Middleware(ClockDate, sandbox=sandbox),
        Middleware(Gateway, sandbox=sandbox, dropper=dropper or ConnectionDropper()),
    ]
    app = Starlette(routes=routes, middleware=middleware)
    app.state.sandbox = sandbox
    return app
