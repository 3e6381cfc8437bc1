"""The Exact REST API: `/api/v1/current/Me` and `/api/v1/{division}/{service}/{Entity}…`.

Every request goes through the same steps: access token → division grant → error block →
rate limit (headers on every answer from here on) → the generic entity handler.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from exact_pipeline.sandbox import records
from exact_pipeline.sandbox.auth import Grant
from exact_pipeline.sandbox.context import Ctx
from exact_pipeline.sandbox.core import Sandbox
from exact_pipeline.sandbox.errors import ExactError, request_stream_error, segment_not_found
from exact_pipeline.sandbox.odata import atom
from exact_pipeline.sandbox.odata.filter import FilterError, compatible, literal_text, parse_literal
from exact_pipeline.sandbox.odata.query import Query, paginate, parse_query
from exact_pipeline.sandbox.odata.wire import Entry, collection_json, entry_json
from exact_pipeline.sandbox.requestlog import endpoint_path
from exact_pipeline.sandbox.responses import error_response, json_response, wants_json, xml_response
from exact_pipeline.sandbox.schema import (
    Endpoint,
    EntitySet,
    Kind,
    Record,
    datetime_,
    guid,
    int32,
    string,
)
from exact_pipeline.sandbox.store import GLOBAL

_TAIL = re.compile(r"^(?:\((?P<key>[^)]*)\))?(?:/(?P<sub>[^/]+))?$")

ME = EntitySet(
    "current/Me",
    "Me",
    key="UserID",
    fields=(
        guid("UserID"),
        string("UserName"),
        string("FullName"),
        string("Email"),
        int32("CurrentDivision"),
        string("LanguageCode"),
        datetime_("ServerTime"),
        int32("ServerUtcOffset"),
    ),
)


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

    @classmethod
    async def read(cls, request: Request) -> Call:
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
        )


async def me(request: Request) -> Response:
    sandbox: Sandbox = request.app.state.sandbox
    call = await Call.read(request)
    with sandbox.transaction():
        try:
            grant = sandbox.oauth.authenticate(call.authorization)
            preferred = grant.user.divisions[0]
            current = preferred if preferred in grant.divisions else grant.divisions[0]
            record = {
                "UserID": grant.user.user_id,
                "UserName": grant.user.user_name,
                "FullName": grant.user.full_name,
                "Email": grant.user.email,
                "CurrentDivision": current,
                "LanguageCode": grant.user.language,
                "ServerTime": sandbox.clock.local_now(),
                "ServerUtcOffset": sandbox.clock.utc_offset_seconds(),
            }
            endpoint = Endpoint(ME.path, Kind.SINGLE, ME, {f.name: f for f in ME.fields}, None)
            query = parse_query(call.params, endpoint)
            uri = f"{call.base_url}/api/v1/current/Me(guid'{record['UserID']}')"
            entry = _project(call, endpoint, record, query, None, uri=uri)
            return _collection([entry], None, None, call, endpoint)
        except ExactError as error:
            return error_response(error, call.as_json)


async def entity(request: Request) -> Response:
    sandbox: Sandbox = request.app.state.sandbox
    call = await Call.read(request)
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
    key, sub = parts.group("key"), parts.group("sub")
    record = _lookup(ctx, endpoint, grant, key) if key is not None else None
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
        return _post(ctx, call, endpoint)
    if record is None or sub is not None:
        raise ExactError(400, f"{call.method} needs the entity's key: {endpoint.path}(guid'…').")
    if call.method == "PUT":
        records.update(ctx, endpoint.set, record, _json_body(call))
    else:
        records.delete(ctx, endpoint.set, record)
    return Response(status_code=204)


def _json_body(call: Call) -> Any:
    try:
        return json.loads(call.body or b"null", parse_float=Decimal)
    except ValueError as exc:
        raise request_stream_error("The request body is not valid JSON.") from exc


def _rows(ctx: Ctx, endpoint: Endpoint, grant: Grant) -> list[Record]:
    entity_set = endpoint.set
    rows = ctx.store.rows(GLOBAL if entity_set.global_scope else ctx.division, entity_set.path)
    if entity_set.grant_field:
        rows = [r for r in rows if r.get(entity_set.grant_field) in grant.divisions]
    if endpoint.kind is Kind.SYNC:
        rows = _sync_rows(ctx, endpoint, rows)
    return rows


def _sync_rows(ctx: Ctx, endpoint: Endpoint, rows: list[Record]) -> list[Record]:
    """Sync rows: constants added; flattened sets give the header (LineNumber 0) and, after
    it, one row per line carrying the line's own Timestamp."""
    constants = {name: value for name, (_, value) in endpoint.set.sync_constants.items()}
    out = [
        row | constants | ({"LineNumber": 0} if endpoint.set.sync_flatten else {}) for row in rows
    ]
    if endpoint.set.sync_flatten and endpoint.set.lines and endpoint.lines_set:
        lines = endpoint.set.lines
        by_header = {row[endpoint.set.key]: row for row in rows}
        for line in ctx.rows(lines.set_path):
            header = by_header.get(line[lines.parent_key])
            if header is not None:
                out.append(header | constants | line)
    return out


def _lookup(ctx: Ctx, endpoint: Endpoint, grant: Grant, text: str) -> Record:
    try:
        literal = parse_literal(text)
    except FilterError as exc:
        raise ExactError(400, "Bad Request - Error in query syntax.") from exc
    if endpoint.kind is not Kind.SINGLE or not compatible(literal.edm, endpoint.key_field.edm):
        raise ExactError(400, "Bad Request - Error in query syntax.")
    record = next(
        (r for r in _rows(ctx, endpoint, grant) if r.get(endpoint.key) == literal.value), None
    )
    if record is None:
        raise segment_not_found(endpoint.set.name)
    return record


def _uri(call: Call, endpoint: Endpoint, record: Record) -> str:
    key = literal_text(record.get(endpoint.key), endpoint.key_field.edm)
    return f"{call.base_url}/api/v1/{call.division}/{endpoint.path}({key})"


def _project(
    call: Call,
    endpoint: Endpoint,
    record: Record,
    query: Query,
    lines: list[Record] | None,
    *,
    uri: str | None = None,
    blank: bool = False,
) -> Entry:
    """A record as output: selected fields (or, for a POST without return=representation,
    nulls except the key), lines expanded or deferred."""
    uri = uri or _uri(call, endpoint, record)
    fields = [f for f in endpoint.fields.values() if query.select is None or f.name in query.select]
    values = [(f, None if blank and f.name != endpoint.key else record.get(f.name)) for f in fields]
    entry = Entry(uri, endpoint.type_name, values)
    nav = endpoint.expandable
    if nav is not None and (query.select is None or nav.nav in query.select):
        if lines is not None and not blank:
            line_endpoint = _line_endpoint(endpoint)
            line_query = Query(select=query.line_select)
            entry.expanded[nav.nav] = [
                _project(call, line_endpoint, line, line_query, None) for line in lines
            ]
        else:
            entry.deferred[nav.nav] = f"{uri}/{nav.nav}"
    return entry


def _line_endpoint(endpoint: Endpoint) -> Endpoint:
    assert endpoint.lines_set is not None
    lines_set = endpoint.lines_set
    return Endpoint(
        lines_set.path, Kind.SINGLE, lines_set, {f.name: f for f in lines_set.all_fields}, None
    )


def _lines_of(ctx: Ctx, endpoint: Endpoint, record: Record) -> list[Record]:
    nav = endpoint.set.lines
    assert nav is not None
    lines = [r for r in ctx.rows(nav.set_path) if r[nav.parent_key] == record[endpoint.set.key]]
    return sorted(lines, key=lambda r: r.get("LineNumber") or 0)


def _get_one(ctx: Ctx, call: Call, endpoint: Endpoint, record: Record, sub: str | None) -> Response:
    nav = endpoint.expandable
    if sub is not None:
        if nav is None or sub != nav.nav:
            raise segment_not_found(sub)
        line_endpoint = _line_endpoint(endpoint)
        query = parse_query(call.params, line_endpoint)
        entries = [
            _project(call, line_endpoint, line, query, None)
            for line in _lines_of(ctx, endpoint, record)
        ]
        return _collection(entries, None, None, call, line_endpoint)
    query = parse_query(
        {k: v for k, v in call.params.items() if k in ("$select", "$expand", "$format")},
        _lenient(endpoint),
    )
    lines = _lines_of(ctx, endpoint, record) if nav and nav.nav in query.expand else None
    return _single(_project(call, endpoint, record, query, lines), call, 200)


def _lenient(endpoint: Endpoint) -> Endpoint:
    """The endpoint without mandatory filters (a key lookup needs none)."""
    return replace(endpoint, set=replace(endpoint.set, mandatory_filter=()))


def _get_many(ctx: Ctx, call: Call, endpoint: Endpoint, grant: Grant) -> Response:
    query = parse_query(call.params, endpoint)
    page = paginate(_rows(ctx, endpoint, grant), endpoint, query)
    nav = endpoint.expandable
    entries = [
        _project(
            call,
            endpoint,
            row,
            query,
            _lines_of(ctx, endpoint, row) if nav and nav.nav in query.expand else None,
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
    params = {k: v for k, v in call.params.items() if k == "$filter"}
    if endpoint.select_required:
        params["$top"] = "1"
    query = parse_query(params, endpoint)
    page = paginate(_rows(ctx, endpoint, grant), endpoint, Query(filter=query.filter))
    return PlainTextResponse(str(page.total))


def _post(ctx: Ctx, call: Call, endpoint: Endpoint) -> Response:
    record = records.create(ctx, endpoint.set, _json_body(call))
    full = call.prefer_representation
    lines = _lines_of(ctx, endpoint, record) if endpoint.set.lines else None
    entry = _project(call, endpoint, record, Query(), lines if full else None, blank=not full)
    return _single(entry, call, 201, {"Location": entry.uri})


def _single(
    entry: Entry, call: Call, status: int, headers: dict[str, str] | None = None
) -> Response:
    if call.as_json:
        return json_response({"d": entry_json(entry)}, status, headers)
    return xml_response(atom.entry_xml(entry, _updated()), atom.ENTRY_CONTENT_TYPE, status, headers)


def _collection(
    entries: list[Entry], next_url: str | None, count: int | None, call: Call, endpoint: Endpoint
) -> Response:
    if call.as_json:
        return json_response(collection_json(entries, next_url, count))
    title = endpoint.set.name
    self_url = f"{call.base_url}{call.path}"
    return xml_response(
        atom.feed_xml(title, self_url, entries, next_url, _updated()), atom.CONTENT_TYPE
    )


def _updated() -> str:
    return datetime.now().replace(microsecond=0).isoformat() + "Z"
