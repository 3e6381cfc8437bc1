"""The vocabulary entity sets are declared in: EDM field types, references, defaults, sets.

`entities.py` uses it to declare every Exact entity set as data; one generic engine
(`records.py`, `api.py`) serves them all.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any

from exact_pipeline.sandbox.clock import parse_datetime

Record = dict[str, Any]


class Edm(Enum):
    """OData v2 types with the CLR names Exact's error messages use."""

    GUID = ("Edm.Guid", "System.Guid")
    STRING = ("Edm.String", "System.String")
    BYTE = ("Edm.Byte", "System.Byte")
    INT16 = ("Edm.Int16", "System.Int16")
    INT32 = ("Edm.Int32", "System.Int32")
    INT64 = ("Edm.Int64", "System.Int64")
    DOUBLE = ("Edm.Double", "System.Double")
    BOOLEAN = ("Edm.Boolean", "System.Boolean")
    DATETIME = ("Edm.DateTime", "System.DateTime")
    BINARY = ("Edm.Binary", "System.Byte[]")

    def __init__(self, edm: str, clr: str) -> None:
        self.edm = edm
        self.clr = clr

    @property
    def is_integer(self) -> bool:
        return self in (Edm.BYTE, Edm.INT16, Edm.INT32, Edm.INT64)

    @property
    def is_number(self) -> bool:
        return self.is_integer or self is Edm.DOUBLE


def coerce(edm: Edm, value: Any) -> Any:
    """A JSON value (floats parsed as Decimal) → the stored Python value. Raises ValueError."""
    if value is None:
        return None
    match edm:
        case Edm.GUID:
            if not isinstance(value, str):
                raise ValueError(value)
            return str(uuid.UUID(value))
        case Edm.STRING:
            if not isinstance(value, str):
                raise ValueError(value)
            return value
        case Edm.BYTE | Edm.INT16 | Edm.INT32 | Edm.INT64:
            number = _number(value)
            if number != number.to_integral_value():
                raise ValueError(value)
            return int(number)
        case Edm.DOUBLE:
            return _number(value)
        case Edm.BOOLEAN:
            # picqer sends IsSales='true': Exact's reader accepts boolean text.
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.lower() in ("true", "false"):
                return value.lower() == "true"
            raise ValueError(value)
        case Edm.DATETIME:
            if not isinstance(value, str):
                raise ValueError(value)
            return parse_datetime(value)
        case Edm.BINARY:
            if not isinstance(value, str):
                raise ValueError(value)
            try:
                base64.b64decode(value, validate=True)
            except binascii.Error as exc:
                raise ValueError(value) from exc
            return value
    raise AssertionError(edm)


def _number(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        raise ValueError(value)
    try:
        number = Decimal(value)
    except InvalidOperation as exc:
        raise ValueError(value) from exc
    if not number.is_finite():
        raise ValueError(value)
    return number


@dataclass(frozen=True)
class Ref:
    """A field that must name an existing record of `target` (matched on its field `by`)."""

    target: str
    by: str = "ID"
    trim: bool = False  # padded codes (VAT codes) compare trimmed
    allowed: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)  # target constraints
    invalid: str = "invalid_reference"  # message key when `allowed` is not met


@dataclass(frozen=True)
class FromRef:
    """The value of `target_field` on the record that reference field `ref_field` names."""

    ref_field: str
    target_field: str


@dataclass(frozen=True)
class Const:
    value: Any


class Today:
    """Exact's local date (midnight)."""


@dataclass(frozen=True)
class FirstOf:
    """`column` of the first record (in key order) of set `target` that matches `where`."""

    target: str
    column: str
    where: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)


Default = Const | FromRef | Today | FirstOf


@dataclass(frozen=True)
class Field:
    name: str
    edm: Edm
    max_length: int | None = None  # default limit; the admin config can override it
    required: bool = False
    # GET-only in Exact: accepted in a POST/PUT body and ignored, as Exact's business layer
    # skips read-only properties (exactonline/exactonline-api-dotnet-client#56).
    read_only: bool = False
    ref: Ref | None = None
    default: Default | None = None  # applied on POST when the body leaves the field out
    derive: FromRef | None = None  # always computed (read-only lookups such as CustomerName)


def guid(name: str, **kw: Any) -> Field:
    return Field(name, Edm.GUID, **kw)


def string(name: str, max_length: int | None = None, **kw: Any) -> Field:
    return Field(name, Edm.STRING, max_length, **kw)


def int32(name: str, **kw: Any) -> Field:
    return Field(name, Edm.INT32, **kw)


def int64(name: str, **kw: Any) -> Field:
    return Field(name, Edm.INT64, **kw)


def double(name: str, **kw: Any) -> Field:
    return Field(name, Edm.DOUBLE, **kw)


def boolean(name: str, **kw: Any) -> Field:
    return Field(name, Edm.BOOLEAN, **kw)


def datetime_(name: str, **kw: Any) -> Field:
    return Field(name, Edm.DATETIME, **kw)


def binary(name: str, **kw: Any) -> Field:
    return Field(name, Edm.BINARY, **kw)


@dataclass(frozen=True)
class Lines:
    """A deep-inserted child collection: navigation `nav`, stored in set `set_path`, pointing
    back to its header through `parent_key`."""

    nav: str
    set_path: str
    parent_key: str
    # Deleting the last line on its own deletes the header (sales entries); else it is refused.
    last_line_deletes_header: bool = False


@dataclass(frozen=True)
class Locked:
    """Records whose `field` has one of `values` can no longer be changed or deleted."""

    field: str
    values: tuple[Any, ...]
    message: str  # message key


Hook = Callable[..., None]


@dataclass(frozen=True)
class EntitySet:
    """One Exact entity set, declared as data."""

    path: str  # service path, e.g. "salesentry/SalesEntries"
    type_name: str  # Exact.Web.Api.Models.<type_name>
    key: str
    fields: tuple[Field, ...]
    # Documented fields not served (name → writable on Exact's page): see reference.documented.
    unserved: Mapping[str, bool] = field(default_factory=dict)
    stored_in: str | None = None  # the store table, when another set's (hrm/Divisions)
    # A documented key of several fields (JournalStatusList); `key` then names the store's.
    composite_key: tuple[str, ...] = ()
    methods: frozenset[str] = frozenset({"GET"})
    page_size: int = 60
    mandatory_filter: tuple[str, ...] = ()  # a GET $filter must use one of these fields
    lines: Lines | None = None
    cascade: tuple[str, ...] = ()  # sets whose records referencing this one go with it
    unique: tuple[str, ...] = ()  # fields unique per division (compared trimmed)
    updatable: tuple[str, ...] | None = None  # PUT may change only these (None: all writable)
    locked: Locked | None = None
    on_create: Hook | None = None  # business rules before the insert: (ctx, record, lines)
    after_create: Hook | None = None  # effects after the insert: (ctx, record, lines)
    on_delete: Hook | None = None  # (ctx, record) before the delete
    after_update: Hook | None = None  # (ctx, record, changed field names) after a PUT
    # (ctx, header, the line or None when deleted, its changed fields) after a line was
    # POSTed, PUT or DELETEd on its own
    on_lines_changed: Hook | None = None
    # (ctx, record, its changed values or None for a line change) before a change: raises
    # when the booked record may no longer change that way
    guard: Hook | None = None
    view: Hook | None = None  # (ctx, stored rows) → served rows, for read/ views of a table
    global_scope: bool = False  # one table for all divisions (system/Divisions)
    grant_field: str | None = None  # rows visible only when this field is a granted division
    bulk: str | None = None  # path of the bulk/ twin
    sync: str | None = None  # path of the sync/ twin
    sync_flatten: bool = False  # sync rows: header (LineNumber 0) followed by its lines
    sync_constants: Mapping[str, tuple[Edm, Any]] = field(default_factory=dict)
    deleted_type: int | None = None  # EntityType in sync/Deleted

    def field(self, name: str) -> Field | None:
        return next((f for f in self.all_fields if f.name == name), None)

    @property
    def all_fields(self) -> tuple[Field, ...]:
        return self.fields

    @property
    def table(self) -> str:
        return self.stored_in or self.path

    @property
    def name(self) -> str:
        """The set's last path segment (`SalesEntries`): how config keys name it."""
        return self.path.rsplit("/", 1)[-1]


class Kind(Enum):
    SINGLE = "single"
    BULK = "bulk"
    SYNC = "sync"


TIMESTAMP = int64("Timestamp", read_only=True)


@dataclass(frozen=True)
class Endpoint:
    """How one URL serves an entity set: as itself, as its bulk twin or as its sync twin."""

    path: str
    kind: Kind
    set: EntitySet
    fields: Mapping[str, Field]
    lines_set: EntitySet | None

    @property
    def key(self) -> str:
        return "Timestamp" if self.kind is Kind.SYNC else self.set.key

    @property
    def key_field(self) -> Field:
        return self.fields[self.key]

    @property
    def keys(self) -> tuple[str, ...]:
        """The served key: one field, or several in the documented order."""
        if self.kind is not Kind.SYNC and self.set.composite_key:
            return self.set.composite_key
        return (self.key,)

    @property
    def type_name(self) -> str:
        prefix = {Kind.SINGLE: "", Kind.BULK: "Bulk.", Kind.SYNC: "Sync."}[self.kind]
        return f"Exact.Web.Api.Models.{prefix}{self.set.type_name}"

    @property
    def methods(self) -> frozenset[str]:
        return self.set.methods if self.kind is Kind.SINGLE else frozenset({"GET"})

    @property
    def page_size(self) -> int:
        return self.set.page_size if self.kind is Kind.SINGLE else 1000

    @property
    def select_required(self) -> bool:
        return self.kind is not Kind.SINGLE

    @property
    def expandable(self) -> Lines | None:
        return None if self.kind is Kind.SYNC else self.set.lines


def sync_fields(entity_set: EntitySet, lines_set: EntitySet | None) -> dict[str, Field]:
    """The columns of a sync twin: the header's, its lines' when flattened, constants and
    Timestamp."""
    columns = {f.name: f for f in entity_set.all_fields}
    if entity_set.sync_flatten and lines_set is not None:
        columns.update(
            {f.name: f for f in lines_set.all_fields} | {"LineNumber": int32("LineNumber")}
        )
    columns.update({name: Field(name, edm) for name, (edm, _) in entity_set.sync_constants.items()})
    columns["Timestamp"] = TIMESTAMP
    return columns
