"""Query options ($filter, $select, $expand, $orderby, $top, $skiptoken, $inlinecount) and paging.

Paging follows Exact: rows in key order (Timestamp order on sync/), a page of 60 (1000 on
bulk/ and sync/), and `__next` carrying `$skiptoken=<last key>`. A single-field `$orderby`
(asc or desc) sorts by that field, then the key; `$skiptoken` then carries both, as WCF Data
Services writes it (`$skiptoken='Name',guid'…'`). `$skip` is refused: Exact supports it only
on endpoints older than 2017-03-01 (Pi-Systems/exact-online's notes on Exact's query-options
page), and none of the sandbox's is known to be one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from exact_pipeline.sandbox.errors import ExactError
from exact_pipeline.sandbox.odata import filter as odata_filter
from exact_pipeline.sandbox.odata.filter import FilterError, Node
from exact_pipeline.sandbox.schema import Edm, Endpoint, Kind, Record

KNOWN_OPTIONS = {
    "$filter",
    "$select",
    "$expand",
    "$orderby",
    "$top",
    "$skiptoken",
    "$inlinecount",
    "$format",
}
UNSUPPORTED_OPTIONS = {"$skip"}


@dataclass(frozen=True)
class OrderBy:
    field: str
    descending: bool = False


@dataclass(frozen=True)
class Query:
    filter: Node | None = None
    select: tuple[str, ...] | None = None  # top-level properties; None = all
    line_select: tuple[str, ...] | None = None  # properties of expanded lines; None = all
    expand: frozenset[str] = frozenset()
    top: int | None = None
    skiptoken: Any = None  # the key; (sort value, key) with $orderby
    orderby: OrderBy | None = None
    inlinecount: bool = False
    params: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Page:
    rows: list[Record]
    total: int  # all matching rows (for $inlinecount)
    next_token: str | None  # literal for the next $skiptoken, None on the last page
    next_top: int | None


def _bad(message: str) -> ExactError:
    return ExactError(400, message)


def parse_query(params: Mapping[str, str], endpoint: Endpoint, *, collection: bool = True) -> Query:
    """Parse and check the options. `collection=False` (a read by key, or $count on bulk and
    sync) skips the rules that only guard full reads: mandatory filters and $select."""
    for name in params:
        if name in UNSUPPORTED_OPTIONS:
            raise _bad(f"The query parameter '{name}' is not supported by this endpoint.")
        if name.startswith("$") and name not in KNOWN_OPTIONS:
            raise _bad(
                f"The query parameter '{name}' begins with a system-reserved '$' character "
                f"but is not recognized."
            )
    expand = _parse_expand(params.get("$expand"), endpoint)
    select, line_select = _parse_select(params.get("$select"), endpoint, expand)
    top = _parse_top(params.get("$top"))
    orderby = _parse_orderby(params.get("$orderby"), endpoint)
    node = _parse_filter(params.get("$filter"), endpoint, collection)
    if collection and endpoint.select_required and select is None and top != 1:
        raise _bad("Please add a $select or a $top=1 statement to the query string.")
    inlinecount = params.get("$inlinecount", "none")
    if inlinecount not in ("allpages", "none"):
        raise _bad(f"Invalid $inlinecount value '{inlinecount}'.")
    return Query(
        filter=node,
        select=select,
        line_select=line_select,
        expand=expand,
        top=top,
        skiptoken=_parse_skiptoken(params.get("$skiptoken"), endpoint, orderby),
        orderby=orderby,
        inlinecount=inlinecount == "allpages",
        params=params,
    )


def _parse_expand(text: str | None, endpoint: Endpoint) -> frozenset[str]:
    if not text:
        return frozenset()
    names = frozenset(n.strip() for n in text.split(",") if n.strip())
    lines = endpoint.expandable
    for name in names:
        if lines is None or name != lines.nav:
            raise _bad(f"No property '{name}' exists in type '{endpoint.type_name}' at position 0.")
    return names


def _parse_select(
    text: str | None, endpoint: Endpoint, expand: frozenset[str]
) -> tuple[tuple[str, ...] | None, tuple[str, ...] | None]:
    if not text or text.strip() == "*":
        return None, None
    top_level: list[str] = []
    nested: list[str] = []
    lines = endpoint.expandable
    for raw in text.split(","):
        name = raw.strip()
        nav, _, sub = name.partition("/")
        if sub:
            if lines is None or nav != lines.nav or nav not in expand or endpoint.lines_set is None:
                raise _bad(
                    f"Only properties specified in $expand can be traversed in $select query "
                    f"options. Selected item: '{name}'."
                )
            if sub != "*" and endpoint.lines_set.field(sub) is None:
                raise _bad(
                    f"No property '{sub}' exists in type "
                    f"'Exact.Web.Api.Models.{endpoint.lines_set.type_name}' at position 0."
                )
            nested.append(sub)
            top_level.append(nav)
        elif name == "*" or name in endpoint.fields or (lines and name == lines.nav):
            top_level.append(name)
        else:
            raise _bad(f"No property '{name}' exists in type '{endpoint.type_name}' at position 0.")
    if "*" in top_level:
        return None, (None if not nested or "*" in nested else tuple(nested))
    return tuple(dict.fromkeys(top_level)), (None if not nested or "*" in nested else tuple(nested))


def _parse_top(text: str | None) -> int | None:
    if text is None:
        return None
    if not text.strip().isdigit():
        raise _bad(f"Incorrect format for $top argument '{text}'.")
    return int(text)


def _parse_filter(text: str | None, endpoint: Endpoint, collection: bool) -> Node | None:
    node = None
    if text is not None and text.strip():
        try:
            node = odata_filter.parse(text)
            odata_filter.check(node, endpoint.fields, endpoint.type_name)
        except FilterError as exc:
            raise _bad(str(exc)) from exc
    if not collection:
        return node
    if endpoint.kind is Kind.SYNC:
        _check_sync_filter(node)
        return node
    mandatory = endpoint.set.mandatory_filter
    if mandatory and (node is None or not set(odata_filter.properties(node)) & set(mandatory)):
        raise _bad(_mandatory_message(mandatory))
    return node


def _mandatory_message(fields: tuple[str, ...]) -> str:
    return (
        "This endpoint has mandatory filtering applied. A GET request for this endpoint must "
        f"have a $filter parameter with one of the following fields in the url: {', '.join(fields)}"
    )


def _check_sync_filter(node: Node | None) -> None:
    if node is None:
        raise _bad(_mandatory_message(("Timestamp",)))
    others = sorted(set(odata_filter.properties(node)) - {"Timestamp"})
    if others:
        raise _bad(f"Filtering on these fields is not supported: {', '.join(others)}")
    if not odata_filter.is_timestamp_gt(node):
        raise _bad("This $filter parameter is not supported for this resource")


def _parse_orderby(text: str | None, endpoint: Endpoint) -> OrderBy | None:
    if text is None or not text.strip():
        return None
    if endpoint.kind is Kind.SYNC:
        raise _bad("The query parameter '$orderby' is not supported by this endpoint.")
    if "," in text:
        raise _bad("The sandbox supports a $orderby on one field only.")
    name, _, direction = text.strip().partition(" ")
    direction = direction.strip().lower() or "asc"
    if direction not in ("asc", "desc"):
        raise _bad(f"Syntax error at position {len(name) + 1}.")
    if name not in endpoint.fields or endpoint.fields[name].edm is Edm.BINARY:
        raise _bad(f"No property '{name}' exists in type '{endpoint.type_name}' at position 0.")
    return OrderBy(name, direction == "desc")


def _parse_skiptoken(text: str | None, endpoint: Endpoint, orderby: OrderBy | None) -> Any:
    if text is None:
        return None
    edms = [endpoint.fields[name].edm for name in endpoint.keys]
    if orderby is not None:
        edms.insert(0, endpoint.fields[orderby.field].edm)
    try:
        literals = odata_filter.parse_literals(text)
    except FilterError as exc:
        raise _bad(f"Invalid $skiptoken '{text}'.") from exc
    pairs = zip(literals, edms, strict=False)
    if len(literals) != len(edms) or not all(odata_filter.compatible(a.edm, b) for a, b in pairs):
        raise _bad(f"Invalid $skiptoken '{text}'.")
    if literals[-1].value is None:
        raise _bad(f"Invalid $skiptoken '{text}'.")
    values = [literal.value for literal in literals]
    if orderby is not None:
        values[0] = _sortable(values[0])
    return tuple(values)


def _sortable(value: Any) -> tuple[bool, Any]:
    """NULL first, strings case-insensitive (SQL Server's collation)."""
    if value is None:
        return (False, 0)
    return (True, value.casefold() if isinstance(value, str) else value)


def _position(row: Record, endpoint: Endpoint, orderby: OrderBy | None) -> tuple[Any, ...]:
    """Where a row sorts: the $orderby value (if any), then the key's fields."""
    keys = tuple(row.get(name) for name in endpoint.keys)
    return keys if orderby is None else (_sortable(row.get(orderby.field)), *keys)


def paginate(rows: list[Record], endpoint: Endpoint, query: Query) -> Page:
    if query.filter is not None:
        rows = [r for r in rows if odata_filter.evaluate(query.filter, r) is True]
    order = query.orderby
    descending = order is not None and order.descending
    rows = sorted(rows, key=lambda r: _position(r, endpoint, order), reverse=descending)
    total = len(rows)
    if query.skiptoken is not None:
        token = query.skiptoken
        rows = [r for r in rows if _after(_position(r, endpoint, order), token, descending)]
    size = endpoint.page_size if query.top is None else min(endpoint.page_size, query.top)
    page, rest = rows[:size], rows[size:]
    remaining_top = None if query.top is None else query.top - len(page)
    more = bool(rest) and (remaining_top is None or remaining_top > 0)
    token_text = _token_text(page[-1], endpoint, order) if more and page else None
    return Page(page, total, token_text, remaining_top)


def _after(position: Any, token: Any, descending: bool) -> bool:
    return position < token if descending else position > token


def _token_text(row: Record, endpoint: Endpoint, orderby: OrderBy | None) -> str:
    names = ([orderby.field] if orderby is not None else []) + list(endpoint.keys)
    return ",".join(_literal(row.get(name), endpoint.fields[name].edm) for name in names)


def _literal(value: Any, edm: Edm) -> str:
    return "null" if value is None else odata_filter.literal_text(value, edm)
