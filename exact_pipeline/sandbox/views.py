"""What an endpoint shows: its rows (grant-filtered, sync rows flattened) and records
projected for output (selected fields, lines expanded or deferred)."""

from __future__ import annotations

from exact_pipeline.sandbox.auth import Grant
from exact_pipeline.sandbox.context import Ctx
from exact_pipeline.sandbox.errors import ExactError, segment_not_found
from exact_pipeline.sandbox.odata.filter import FilterError, compatible, literal_text, parse_literal
from exact_pipeline.sandbox.odata.query import Query
from exact_pipeline.sandbox.odata.wire import Entry
from exact_pipeline.sandbox.schema import Endpoint, Kind, Record
from exact_pipeline.sandbox.store import GLOBAL


def rows(ctx: Ctx, endpoint: Endpoint, grant: Grant) -> list[Record]:
    entity_set = endpoint.set
    found = ctx.store.rows(GLOBAL if entity_set.global_scope else ctx.division, entity_set.table)
    if entity_set.grant_field:
        found = [r for r in found if r.get(entity_set.grant_field) in grant.divisions]
    if entity_set.view is not None:
        found = entity_set.view(ctx, found)
    if endpoint.kind is Kind.SYNC:
        found = _sync_rows(ctx, endpoint, found)
    return found


def _sync_rows(ctx: Ctx, endpoint: Endpoint, headers: list[Record]) -> list[Record]:
    """Sync rows: constants added; flattened sets give the header (LineNumber 0) and one row
    per line (header fields overlaid by the line's, with the line's own Timestamp)."""
    entity_set = endpoint.set
    constants = {name: value for name, (_, value) in entity_set.sync_constants.items()}
    flat = {"LineNumber": 0} if entity_set.sync_flatten else {}
    out = [row | constants | flat for row in headers]
    if entity_set.sync_flatten and entity_set.lines is not None:
        lines = entity_set.lines
        by_key = {row[entity_set.key]: row for row in headers}
        for line in ctx.rows(lines.set_path):
            header = by_key.get(line[lines.parent_key])
            if header is not None:
                out.append(header | constants | line)
    return out


def lookup(ctx: Ctx, endpoint: Endpoint, grant: Grant, text: str) -> Record:
    """The record a key literal such as `guid'…'` (or, for a key of several fields,
    `Journal='70',Period=1,Year=2026`) names (404 when there is none)."""
    if endpoint.kind is not Kind.SINGLE:
        raise ExactError(400, "Bad Request - Error in query syntax.")
    wanted = _key_values(endpoint, text)
    found = next(
        (
            r
            for r in rows(ctx, endpoint, grant)
            if all(r.get(name) == value for name, value in wanted.items())
        ),
        None,
    )
    if found is None:
        raise segment_not_found(endpoint.set.name)
    return found


def _key_values(endpoint: Endpoint, text: str) -> dict[str, object]:
    parts = [text] if len(endpoint.keys) == 1 else text.split(",")
    values: dict[str, object] = {}
    try:
        for name, part in zip(endpoint.keys, parts, strict=True):
            if len(endpoint.keys) > 1:
                given, _, part = part.partition("=")
                if given.strip() != name:
                    raise FilterError(given)
            literal = parse_literal(part.strip())
            if not compatible(literal.edm, endpoint.fields[name].edm):
                raise FilterError(part)
            values[name] = literal.value
    except (FilterError, ValueError) as exc:
        raise ExactError(400, "Bad Request - Error in query syntax.") from exc
    return values


def key_text(endpoint: Endpoint, record: Record) -> str:
    """A record's key as written in its URI."""
    if len(endpoint.keys) == 1:
        return literal_text(record.get(endpoint.key), endpoint.key_field.edm)
    return ",".join(
        f"{name}={literal_text(record.get(name), endpoint.fields[name].edm)}"
        for name in endpoint.keys
    )


def lines_of(ctx: Ctx, endpoint: Endpoint, record: Record) -> list[Record]:
    nav = endpoint.set.lines
    assert nav is not None
    found = [r for r in ctx.rows(nav.set_path) if r[nav.parent_key] == record[endpoint.set.key]]
    return sorted(found, key=lambda r: r.get("LineNumber") or 0)


def line_endpoint(endpoint: Endpoint) -> Endpoint:
    assert endpoint.lines_set is not None
    lines_set = endpoint.lines_set
    fields = {f.name: f for f in lines_set.all_fields}
    return Endpoint(lines_set.path, Kind.SINGLE, lines_set, fields, None)


def project(
    base: str,
    endpoint: Endpoint,
    record: Record,
    query: Query,
    lines: list[Record] | None,
    *,
    uri: str | None = None,
    blank: bool = False,
) -> Entry:
    """A record as output under `base` (…/api/v1/{division}): selected fields (or, for a POST
    without return=representation, nulls except the key), lines expanded or deferred."""
    uri = uri or f"{base}/{endpoint.path}({key_text(endpoint, record)})"
    fields = [f for f in endpoint.fields.values() if query.select is None or f.name in query.select]
    values = [(f, None if blank and f.name != endpoint.key else record.get(f.name)) for f in fields]
    entry = Entry(uri, endpoint.type_name, values)
    nav = endpoint.expandable
    if nav is not None and (query.select is None or nav.nav in query.select):
        if lines is not None and not blank:
            children, line_query = line_endpoint(endpoint), Query(select=query.line_select)
            entry.expanded[nav.nav] = [
                project(base, children, line, line_query, None) for line in lines
            ]
        else:
            entry.deferred[nav.nav] = f"{uri}/{nav.nav}"
    return entry
