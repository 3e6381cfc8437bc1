"""The Exact REST API: `/api/v1/current/Me` and `/api/v1/{division}/{service}/{Entity}…`.

Every request goes through the same steps: access token → division grant → error block →
rate limit (headers on every answer from here on) → the generic entity handler.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from exact_pipeline.sandbox import records, views, webhooks
from exact_pipeline.sandbox.auth import Grant
from exact_pipeline.sandbox.clock import to_json_date
from exact_pipeline.sandbox.context import Ctx
from exact_pipeline.sandbox.core import Sandbox
from exact_pipeline.sandbox.entities import ME
from exact_pipeline.sandbox.errors import ExactError, request_stream_error, segment_not_found
from exact_pipeline.sandbox.odata import atom
from exact_pipeline.sandbox.odata.query import Query, paginate, parse_query
from exact_pipeline.sandbox.odata.wire import Entry, collection_json, entry_json
from exact_pipeline.sandbox.requestlog import endpoint_path
from exact_pipeline.sandbox.responses import error_response, json_response, wants_json, xml_response
from exact_pipeline.sandbox.schema import Endpoint, Kind
from exact_pipeline.sandbox.store import GLOBAL

_TAIL = re.compile(r"^(?:\((?P<key>[^)]*)\))?(?:/(?P<sub>[^/]+))?$")
_ME = Endpoint(ME.path, Kind.SINGLE, ME, {f.name: f for f in ME.fields}, None)


@dataclass(frozen=True)
class Call:
    """One API request, read before taking the sandbox lock."""

    method: str
    division: int
    rest: str
    params: dict[str, str]
    body: bytes
    as_json: bool
    prefer_representation: bool
    authorization: str | None
    base_url: str
    path: str
    at: datetime  # the sandbox clock when the request came in (Atom's <updated>)

    @classmethod
    async def read(cls, request: Request, sandbox: Sandbox) -> Call:
        return cls(
            method=request.method,
            division=request.path_params.get("division", GLOBAL),
            rest=request.path_params.get("rest", ""),
            params=dict(request.query_params),
            body=await request.body(),
            as_json=wants_json(request),
            prefer_representation="return=representation" in request.headers.get("prefer", ""),
            authorization=request.headers.get("authorization"),
            base_url=str(request.base_url).rstrip("/"),
            path=request.url.path,
            at=sandbox.clock.now(),
        )

    @property
    def base(self) -> str:
        return f"{self.base_url}/api/v1/{self.division}"


async def me(request: Request) -> Response:
    """current/Me: the user behind the token; needs no division and is not rate limited."""
    sandbox: Sandbox = request.app.state.sandbox
    call = await Call.read(request, sandbox)
    with sandbox.lock:
        try:
            grant = sandbox.oauth.authenticate(call.authorization)
            preferred = grant.user.divisions[0]
            record = {
                "UserID": grant.user.user_id,
                "UserName": grant.user.user_name,
                "FullName": grant.user.full_name,
                "Email": grant.user.email,
                "CurrentDivision": preferred
                if preferred in grant.divisions
                else grant.divisions[0],
                "LanguageCode": grant.user.language,
                # Edm.String on Exact's page, written as a `/Date(ms)/` text.
                "ServerTime": to_json_date(sandbox.clock.local_now()),
                "ServerUtcOffset": sandbox.clock.utc_offset_seconds(),
            }
            query = parse_query(call.params, _ME)
            uri = f"{call.base_url}/api/v1/current/Me(guid'{record['UserID']}')"
            entry = views.project(call.base, _ME, record, query, None, uri=uri)
            return _collection([entry], None, None, call, _ME)
        except ExactError as error:
            return error_response(error, call.as_json)


async def entity(request: Request) -> Response:
    sandbox: Sandbox = request.app.state.sandbox
    call = await Call.read(request, sandbox)
    with sandbox.transaction():
        return _handle(sandbox, call)


def _handle(sandbox: Sandbox, call: Call) -> Response:
    epoch = sandbox.clock.epoch()
    config = sandbox.config
    block_key = f"{call.division} {endpoint_path(call.path)}"
    rate_headers: dict[str, str] = {}
    try:
        grant = sandbox.oauth.authenticate(call.authorization)
        if call.division not in grant.divisions:
            raise ExactError(403, "Forbidden", reason="NoDivisionAccess")
        if (until := sandbox.blocker.blocked_until(block_key, epoch, config)) is not None:
            raise ExactError(
                429,
                "API rate limit exceeded: more than "
                f"{config.error_block_threshold} errors on this endpoint within an hour; "
                f"blocked until {datetime.fromtimestamp(until):%Y-%m-%d %H:%M:%S}.",
                reason="TooManyErrors",
            )
        decision = sandbox.limiter.consume(call.division, epoch, config)
        rate_headers = decision.headers
        if not decision.allowed:
            raise ExactError(429, "Too many requests", headers=rate_headers)
        response = _dispatch(sandbox, call, grant)
    except ExactError as error:
        response = error_response(error, call.as_json)
    sandbox.blocker.record(block_key, response.status_code, epoch, config)
    for name, value in rate_headers.items():
        response.headers.setdefault(name, value)
    return response


def _dispatch(sandbox: Sandbox, call: Call, grant: Grant) -> Response:
    matched = sandbox.registry.match(call.rest)
    if matched is None:
        raise segment_not_found(call.rest.split("/")[0].split("(")[0])
    endpoint, tail = matched
    parts = _TAIL.match(tail)
    if parts is None:
        raise ExactError(400, "Bad Request - Error in query syntax.")
    if call.method not in endpoint.methods:
        raise ExactError(
            405, f"The HTTP method '{call.method}' is not allowed on '{endpoint.path}'."
        )
    ctx = sandbox.ctx(call.division, call.base_url)
    ctx.client_id = grant.client_id
    key, sub = parts.group("key"), parts.group("sub")
    record = views.lookup(ctx, endpoint, grant, key) if key is not None else None
    if call.method == "GET":
        if record is not None:
            return _get_one(ctx, call, endpoint, record, sub)
        if sub == "$count":
            return _count(ctx, call, endpoint, grant)
        if sub is not None:
            raise segment_not_found(sub)
        return _get_many(ctx, call, endpoint, grant)
    if call.method == "POST":
        if key is not None or sub is not None:
            raise ExactError(405, "POST is only allowed on the entity set.")
        return _post(sandbox, ctx, call, endpoint)
    if record is None or sub is not None:
        raise ExactError(400, f"{call.method} needs the entity's key: {endpoint.path}(guid'…').")
    if call.method == "PUT":
        records.update(ctx, endpoint.set, record, _json_body(call))
        _notify(sandbox, ctx, endpoint, record, "Update")
    else:
        records.delete(ctx, endpoint.set, record)
        _notify(sandbox, ctx, endpoint, record, "Delete")
    return Response(status_code=204)


def _notify(sandbox: Sandbox, ctx: Ctx, endpoint: Endpoint, record: dict, action: str) -> None:
    """Webhook deliveries for a write (sent after the answer, by a background thread)."""
    found = webhooks.events(ctx, endpoint.set, record, action)
    if found:
        secrets = {client: app.webhook_secret for client, app in sandbox.config.apps.items()}
        sandbox.webhooks.send(webhooks.deliveries(ctx, found, secrets))


def _json_body(call: Call) -> Any:
    try:
        return json.loads(call.body or b"null", parse_float=Decimal)
    except ValueError as exc:
        raise request_stream_error("The request body is not valid JSON.") from exc


def _get_one(ctx: Ctx, call: Call, endpoint: Endpoint, record: dict, sub: str | None) -> Response:
    nav = endpoint.expandable
    if sub is not None:  # Entity(key)/Lines
        if nav is None or sub != nav.nav:
            raise segment_not_found(sub)
        lines = views.line_endpoint(endpoint)
        query = parse_query(call.params, lines)
        entries = [
            views.project(call.base, lines, line, query, None)
            for line in views.lines_of(ctx, endpoint, record)
        ]
        return _collection(entries, None, None, call, lines)
    query = parse_query(call.params, endpoint, collection=False)
    lines_ = views.lines_of(ctx, endpoint, record) if nav and nav.nav in query.expand else None
    return _single(views.project(call.base, endpoint, record, query, lines_), call, 200)


def _get_many(ctx: Ctx, call: Call, endpoint: Endpoint, grant: Grant) -> Response:
    query = parse_query(call.params, endpoint)
    page = paginate(views.rows(ctx, endpoint, grant), endpoint, query)
    nav = endpoint.expandable
    expand = nav is not None and nav.nav in query.expand
    entries = [
        views.project(
            call.base, endpoint, row, query, views.lines_of(ctx, endpoint, row) if expand else None
        )
        for row in page.rows
    ]
    next_url = None
    if page.next_token is not None:
        params = dict(call.params) | {"$skiptoken": page.next_token}
        if page.next_top is not None:
            params["$top"] = str(page.next_top)
        query_string = urlencode(params, safe="$',()")
        next_url = f"{call.base_url}{call.path}?{query_string}"
    return _collection(entries, next_url, page.total if query.inlinecount else None, call, endpoint)


def _count(ctx: Ctx, call: Call, endpoint: Endpoint, grant: Grant) -> Response:
    """Entity/$count: a plain integer."""
    params = {k: v for k, v in call.params.items() if k == "$filter"}
    query = parse_query(params, endpoint, collection=not endpoint.select_required)
    page = paginate(views.rows(ctx, endpoint, grant), endpoint, Query(filter=query.filter))
    return PlainTextResponse(str(page.total))


def _post(sandbox: Sandbox, ctx: Ctx, call: Call, endpoint: Endpoint) -> Response:
    record = records.create(ctx, endpoint.set, _json_body(call))
    _notify(sandbox, ctx, endpoint, record, "Create")
    full = call.prefer_representation
    lines = views.lines_of(ctx, endpoint, record) if endpoint.set.lines and full else None
    entry = views.project(call.base, endpoint, record, Query(), lines, blank=not full)
    return _single(entry, call, 201, {"Location": entry.uri})


def _single(
    entry: Entry, call: Call, status: int, headers: dict[str, str] | None = None
) -> Response:
    if call.as_json:
        return json_response({"d": entry_json(entry)}, status, headers)
    body = atom.entry_xml(entry, _updated(call))
    return xml_response(body, atom.ENTRY_CONTENT_TYPE, status, headers)


def _collection(
    entries: list[Entry], next_url: str | None, count: int | None, call: Call, endpoint: Endpoint
) -> Response:
    if call.as_json:
        return json_response(collection_json(entries, next_url, count))
    self_url = f"{call.base_url}{call.path}"
    body = atom.feed_xml(endpoint.set.name, self_url, entries, next_url, _updated(call))
    return xml_response(body, atom.CONTENT_TYPE)


def _updated(call: Call) -> str:
    return call.at.replace(microsecond=0, tzinfo=None).isoformat() + "Z"
