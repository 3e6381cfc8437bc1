"""OAuth endpoints: the consent page (`/api/oauth2/auth`) and the token endpoint."""

from __future__ import annotations

import base64
import binascii
from urllib.parse import parse_qsl, unquote_plus, urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from exact_pipeline.sandbox.core import Sandbox
from exact_pipeline.sandbox.errors import OAuthError
from exact_pipeline.sandbox.html import e, layout
from exact_pipeline.sandbox.responses import oauth_error_response
from exact_pipeline.sandbox.store import GLOBAL


def _redirect(redirect_uri: str, **params: str) -> RedirectResponse:
    joiner = "&" if "?" in redirect_uri else "?"
    return RedirectResponse(f"{redirect_uri}{joiner}{urlencode(params)}", status_code=302)


def _page_error(message: str) -> HTMLResponse:
    return HTMLResponse(layout("Exact Online - error", f"<h1 class='error'>{e(message)}</h1>"), 400)


async def consent_page(request: Request) -> Response:
    sandbox: Sandbox = request.app.state.sandbox
    q = request.query_params
    client_id, redirect_uri = q.get("client_id", ""), q.get("redirect_uri", "")
    with sandbox.lock:
        try:
            app = sandbox.oauth.app(sandbox.config, client_id, redirect_uri)
        except ValueError as exc:
            return _page_error(str(exc))
        divisions = {
            r["Code"]: r["Description"] for r in sandbox.store.rows(GLOBAL, "system/Divisions")
        }
    if q.get("response_type") != "code":
        return _redirect(redirect_uri, error="unsupported_response_type", state=q.get("state", ""))
    boxes = "".join(
        f"<label><input type='checkbox' name='division' value='{d}' checked> "
        f"{d} - {e(divisions.get(d, ''))}</label>"
        for d in sandbox.world.user.divisions
    )
    login = (
        "<p class='muted'>force_login=1: signed in again as this user.</p>"
        if q.get("force_login") == "1"
        else ""
    )
    hidden = "".join(
        f"<input type='hidden' name='{name}' value='{e(q.get(name, ''))}'>"
        for name in ("client_id", "redirect_uri", "state")
    )
    body = (
        "<h1>Allow access to Exact Online</h1>"
        f"<form class='consent' method='post' action='/api/oauth2/auth'>{hidden}"
        f"<p><b>{e(app.name)}</b> <span class='muted'>({e(client_id)})</span> asks to read and "
        "write data in your administrations.</p>"
        f"<p>Signed in as <b>{e(sandbox.world.user.full_name)}</b> "
        f"<span class='muted'>{e(sandbox.world.user.email)}</span></p>{login}"
        f"<p>Administrations to grant:</p>{boxes}"
        "<p><button class='primary' name='decision' value='approve'>Allow</button> "
        "<button name='decision' value='deny'>Deny</button></p></form>"
    )
    return HTMLResponse(layout("Exact Online - allow access", body))


async def consent_decision(request: Request) -> Response:
    sandbox: Sandbox = request.app.state.sandbox
    form = parse_qsl((await request.body()).decode(), keep_blank_values=True)
    fields = dict(form)
    client_id, redirect_uri = fields.get("client_id", ""), fields.get("redirect_uri", "")
    state = fields.get("state", "")
    with sandbox.transaction():
        try:
            sandbox.oauth.app(sandbox.config, client_id, redirect_uri)
            if fields.get("decision") != "approve":
                return _redirect(redirect_uri, error="access_denied", state=state)
            divisions = [int(v) for k, v in form if k == "division" and v.isdigit()]
            code = sandbox.oauth.issue_code(sandbox.config, client_id, redirect_uri, divisions)
        except ValueError as exc:
            return _page_error(str(exc))
    return _redirect(redirect_uri, code=code, state=state)


async def token(request: Request) -> Response:
    sandbox: Sandbox = request.app.state.sandbox
    if "application/x-www-form-urlencoded" not in request.headers.get("content-type", ""):
        return oauth_error_response(
            OAuthError(400, "invalid_request", "Send the token request form-encoded.")
        )
    form = dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
    with sandbox.transaction():
        try:
            form |= _basic_client(request.headers.get("authorization"), form)
            return JSONResponse(sandbox.oauth.token(sandbox.config, form))
        except OAuthError as error:
            return oauth_error_response(error)


def _basic_client(authorization: str | None, form: dict[str, str]) -> dict[str, str]:
    """Client credentials sent with HTTP Basic (RFC 6749 §2.3.1: id and secret form-encoded,
    joined by ':', base64). A client uses one method only: Basic and a form secret together
    are refused, and a form client_id must name the same client."""
    scheme, _, encoded = (authorization or "").partition(" ")
    if scheme.lower() != "basic":
        return {}
    try:
        client_id, sep, secret = (
            base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
        )
    except (binascii.Error, UnicodeDecodeError):
        client_id, sep, secret = "", "", ""
    if not sep:
        raise OAuthError(401, "invalid_client", "Client authentication failed.")
    if "client_secret" in form:
        raise OAuthError(
            400, "invalid_request", "Use one client authentication method, not Basic and the form."
        )
    client_id, secret = unquote_plus(client_id), unquote_plus(secret)
    if form.get("client_id", client_id) != client_id:
        raise OAuthError(401, "invalid_client", "Client authentication failed.")
    return {"client_id": client_id, "client_secret": secret}
