"""Exact's OData v2 wire format: JSON bodies, `/Date(ms)/` dates, filter literals, pages.

Numbers are read as `Decimal` and written from `Decimal` without passing through float, so
amounts stay exact end to end; `bytes` are written base64-encoded (attachments). Dates are
naive: Exact's epoch values are local (CET/CEST) wall-clock times, and it wants ISO-8601
without an offset back (a `Z` can shift a date into the previous VAT period).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")
_EPOCH = datetime(1970, 1, 1)


def parse_date(value: Any) -> Any:
    """`/Date(1351209600000)/` → naive `datetime(2012, 10, 26)`; anything else unchanged."""
    if isinstance(value, str) and (match := _DATE.match(value)):
        return _EPOCH + timedelta(milliseconds=int(match.group(1)))
    return value


def exact_day(moment: datetime, zone: ZoneInfo) -> datetime:
    """The local day of `moment`, as the naive midnight Exact wants for a date."""
    return datetime.combine(moment.astimezone(zone).date(), time())


def from_exact_day(value: datetime | date | None, zone: ZoneInfo, default: datetime) -> datetime:
    """Exact's naive local date → the aware midnight of that day in `zone`."""
    if value is None:
        return default
    day = value.date() if isinstance(value, datetime) else value
    return datetime.combine(day, time(), zone)


def decode(content: bytes) -> Any:
    return json.loads(content, parse_float=Decimal) if content else None


def encode(payload: Any) -> bytes:
    return _encode(payload).encode()


def _encode(value: Any) -> str:
    if isinstance(value, Mapping):
        items = (f"{json.dumps(str(k))}:{_encode(v)}" for k, v in value.items())
        return "{" + ",".join(items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_encode(v) for v in value) + "]"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return json.dumps(value.replace(tzinfo=None).isoformat(timespec="seconds"))
    if isinstance(value, date):
        return json.dumps(f"{value.isoformat()}T00:00:00")
    if isinstance(value, UUID):
        return json.dumps(str(value))
    if isinstance(value, bytes):
        return json.dumps(base64.b64encode(value).decode())  # Edm.Binary, e.g. an attachment
    return json.dumps(value)


def literal(value: str | int | bool | UUID | datetime | date) -> str:
    """A `$filter` literal: 'text' (quotes doubled), guid'…', datetime'…', numbers, booleans."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, UUID):
        return f"guid'{value}'"
    if isinstance(value, datetime):
        return f"datetime'{value.replace(tzinfo=None).isoformat(timespec='seconds')}'"
    if isinstance(value, date):
        return f"datetime'{value.isoformat()}T00:00:00'"
    return "'" + str(value).replace("'", "''") + "'"


def eq(field: str, value: str | int | bool | UUID | datetime | date) -> str:
    return f"{field} eq {literal(value)}"


@dataclass(frozen=True)
class Page:
    rows: list[dict[str, Any]]
    next_url: str | None


def page_of(body: Any) -> Page:
    """`{"d": {"results": [...], "__next": url}}`, `{"d": [...]}` or `{"d": {one record}}`."""
    d = body.get("d") if isinstance(body, dict) else None
    if isinstance(d, list):
        return Page(d, None)
    if isinstance(d, dict) and isinstance(d.get("results"), list):
        return Page(d["results"], d.get("__next"))
    if isinstance(d, dict):
        return Page([d], None)
    return Page([], None)


def record_of(body: Any) -> dict[str, Any]:
    """The single record of a GET-by-key or POST reply."""
    rows = page_of(body).rows
    return rows[0] if rows else {}


def error_message(body: Any) -> str | None:
    """`{"error": {"message": {"value": "…"}}}` → the text (several messages newline-joined)."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return None
    message = error.get("message")
    if isinstance(message, dict):
        message = message.get("value")
    return str(message).strip() or None if message else None
