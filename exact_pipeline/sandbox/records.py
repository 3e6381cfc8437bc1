"""The generic record engine: one create / update / delete for every declared entity set.

A body is read like Exact's OData reader (unknown properties and type errors → 400; GET-only
properties are skipped, as Exact's business layer skips them), then validated like its business
layer (mandatory fields, max lengths, references and their constraints → 500, newline-joined),
then handed to the set's hooks and stored. A line set (SalesEntryLines …) is also written on
its own: the line names its header by the parent key, and the header is recalculated.
"""

from __future__ import annotations

import base64
import uuid
from typing import Any

from exact_pipeline.sandbox.context import Ctx
from exact_pipeline.sandbox.errors import (
    ExactError,
    conversion_error,
    request_stream_error,
    unknown_property_error,
)
from exact_pipeline.sandbox.schema import (
    Const,
    Default,
    Edm,
    EntitySet,
    Field,
    FirstOf,
    FromRef,
    Record,
    Today,
    coerce,
)


def read_body(
    entity_set: EntitySet, body: Any, ctx: Ctx, *, deep: bool
) -> tuple[Record, list[Record] | None]:
    """Writable values of a JSON body (GET-only fields are accepted and ignored) and, when
    `deep`, the bodies of its deep-inserted lines."""
    if not isinstance(body, dict):
        raise request_stream_error("The payload must be a JSON object.")
    values: Record = {}
    lines: list[Record] | None = None
    type_name = f"Exact.Web.Api.Models.{entity_set.type_name}"
    for name, raw in body.items():
        if name == "__metadata":
            continue
        if entity_set.lines and name == entity_set.lines.nav:
            if not deep:
                raise request_stream_error("Deep updates are not supported in PUT operations.")
            items = raw.get("results") if isinstance(raw, dict) else raw
            if not isinstance(items, list):
                raise request_stream_error(f"The value of navigation property '{name}' is invalid.")
            line_set = ctx.registry.sets[entity_set.lines.set_path]
            lines = [read_body(line_set, item, ctx, deep=False)[0] for item in items]
            continue
        f = entity_set.field(name)
        if f is None and name in entity_set.unserved:
            if entity_set.unserved[name]:
                raise ExactError(
                    400, f"The sandbox does not simulate the property '{name}' of '{type_name}'."
                )
            continue  # documented GET-only: skipped like any GET-only property
        if f is None:
            raise unknown_property_error(name, type_name)
        try:
            value = coerce(f.edm, raw)
        except ValueError as exc:
            raise conversion_error(name, f.edm.clr) from exc
        if not f.read_only:
            values[name] = value
    return values, lines


def _generated_key(entity_set: EntitySet) -> bool:
    key = entity_set.field(entity_set.key)
    return key is not None and key.read_only


def validate(ctx: Ctx, entity_set: EntitySet, record: Record, *, creating: bool) -> list[str]:
    """Fill defaults and lookups in declared order, check references, mandatory fields and
    lengths. Returns the business-rule messages (empty when valid)."""
    errors: list[str] = []
    resolved: dict[str, Record] = {}
    if creating and _generated_key(entity_set):
        record[entity_set.key] = str(uuid.uuid4())
    # References given first, then defaults (which may read them: the item's GL account),
    # then derived lookups; fields are in Exact's (alphabetical) order, not dependency order.
    given = [f for f in entity_set.fields if record.get(f.name) is not None]
    for f in given:
        _resolve(ctx, f, record, resolved, errors)
    for f in entity_set.fields:
        if creating and record.get(f.name) is None and f.default is not None:
            record[f.name] = _default(ctx, f.default, resolved)
            _resolve(ctx, f, record, resolved, errors)
    for f in entity_set.fields:
        if f.derive is not None:
            record[f.name] = resolved.get(f.derive.ref_field, {}).get(f.derive.target_field)
    for f in entity_set.fields:
        value = record.get(f.name)
        if f.required and (value is None or value == ""):
            errors.append(ctx.text("mandatory", label=ctx.label(f.name)))
        limit = ctx.max_length(entity_set, f)
        if f.edm is Edm.STRING and limit is not None and value is not None and len(value) > limit:
            errors.append(ctx.text("too_long", label=ctx.label(f.name), max=limit))
        if f.edm is Edm.BINARY and value is not None:
            size = len(base64.b64decode(value))
            if size > ctx.config.attachment_max_bytes:
                raise ExactError(
                    413,
                    f"Request Entity Too Large: the file is {size} bytes, the maximum is "
                    f"{ctx.config.attachment_max_bytes} bytes.",
                )
    return errors


def _resolve(
    ctx: Ctx, f: Field, record: Record, resolved: dict[str, Record], errors: list[str]
) -> None:
    """Check reference field `f` and remember the record it names."""
    if f.ref is None or record.get(f.name) is None:
        return
    target = ctx.find(f.ref.target, f.ref.by, record[f.name], trim=f.ref.trim)
    target_name = ctx.registry.sets[f.ref.target].name
    if target is None:
        errors.append(ctx.text("invalid_reference", target=target_name))
    elif any(target.get(k) not in allowed for k, allowed in f.ref.allowed.items()):
        errors.append(ctx.text(f.ref.invalid, target=target_name, label=ctx.label(f.name)))
    else:
        resolved[f.name] = target


def _default(ctx: Ctx, default: Default, resolved: dict[str, Record]) -> Any:
    match default:
        case Const():
            return default.value
        case Today():
            return ctx.today
        case FromRef():
            return resolved.get(default.ref_field, {}).get(default.target_field)
        case FirstOf():
            matches = [
                r[default.column]
                for r in ctx.rows(default.target)
                if all(r.get(k) in allowed for k, allowed in default.where.items())
            ]
            return min(matches, default=None)
    raise AssertionError(default)


def _check_unique(ctx: Ctx, entity_set: EntitySet, record: Record) -> None:
    key = entity_set.key
    for name in entity_set.unique:
        value = record.get(name)
        clash = value is not None and any(
            other[key] != record[key]
            for other in ctx.store.where(ctx.division, entity_set.path, name, value, trim=True)
        )
        if clash:
            raise ctx.fail(ctx.text("exists", label=ctx.label(name)))


def create(ctx: Ctx, entity_set: EntitySet, body: Any) -> Record:
    header_set = ctx.registry.parents.get(entity_set.path)
    if header_set is not None:
        return _create_line(ctx, header_set, entity_set, body)
    values, line_bodies = read_body(entity_set, body, ctx, deep=True)
    record = dict(values)
    errors = validate(ctx, entity_set, record, creating=True)
    lines: list[Record] = []
    if entity_set.lines is not None:
        line_set = ctx.registry.sets[entity_set.lines.set_path]
        if not line_bodies:
            errors.append(ctx.text("mandatory", label=ctx.label(entity_set.lines.nav)))
        for line_body in line_bodies or []:
            line = dict(line_body) | {entity_set.lines.parent_key: record[entity_set.key]}
            errors.extend(validate(ctx, line_set, line, creating=True))
            lines.append(line)
    if errors:
        raise ctx.fail(*errors)
    if entity_set.on_create is not None:
        entity_set.on_create(ctx, record, lines)
    _check_unique(ctx, entity_set, record)
    ctx.insert(entity_set.path, record)
    if entity_set.lines is not None:
        for number, line in enumerate(lines, start=1):
            line["LineNumber"] = number
            ctx.insert(entity_set.lines.set_path, line)
    if entity_set.after_create is not None:
        entity_set.after_create(ctx, record, lines)
    return record


def _check_locked(ctx: Ctx, entity_set: EntitySet, record: Record) -> None:
    locked = entity_set.locked
    if locked is not None and record.get(locked.field) in locked.values:
        raise ctx.fail(ctx.text(locked.message))


def update(ctx: Ctx, entity_set: EntitySet, record: Record, body: Any) -> None:
    header_set = ctx.registry.parents.get(entity_set.path)
    header = _header_of(ctx, header_set, record) if header_set else None
    _check_locked(ctx, entity_set, record)
    values, _ = read_body(entity_set, body, ctx, deep=False)
    values.pop(entity_set.key, None)
    changed = {n for n, v in values.items() if v != record.get(n)}
    frozen = set() if entity_set.updatable is None else changed - set(entity_set.updatable)
    if header_set is not None and header_set.lines is not None:
        frozen |= changed & {header_set.lines.parent_key}  # a line stays on its header
    if frozen:
        raise ctx.fail(*(ctx.text("not_updatable", label=ctx.label(n)) for n in sorted(frozen)))
    if entity_set.guard is not None:
        entity_set.guard(ctx, record, {n: values[n] for n in changed})
    merged = record | values
    errors = validate(ctx, entity_set, merged, creating=False)
    if errors:
        raise ctx.fail(*errors)
    _check_unique(ctx, entity_set, merged)
    record.update(merged)
    ctx.touch(record)
    if entity_set.after_update is not None:
        entity_set.after_update(ctx, record, changed)
    if header_set is not None and header_set.on_lines_changed is not None:
        header_set.on_lines_changed(ctx, header, record, changed)


def _header_of(ctx: Ctx, header_set: EntitySet, line: Record) -> Record:
    """The header of a line about to change: it must still be changeable."""
    assert header_set.lines is not None
    header = ctx.get(header_set.path, line[header_set.lines.parent_key])
    assert header is not None  # lines go with their header
    _check_locked(ctx, header_set, header)
    if header_set.guard is not None:
        header_set.guard(ctx, header, None)
    return header


def _create_line(ctx: Ctx, header_set: EntitySet, line_set: EntitySet, body: Any) -> Record:
    """A line POSTed on its own: its parent key (mandatory) names the header it joins."""
    assert header_set.lines is not None
    parent_key = header_set.lines.parent_key
    values, _ = read_body(line_set, body, ctx, deep=False)
    line = dict(values)
    errors = validate(ctx, line_set, line, creating=True)
    parent = line.get(parent_key)
    if parent is not None and ctx.get(header_set.path, parent) is None:
        errors.append(ctx.text("invalid_reference", target=header_set.name))
    if errors:
        raise ctx.fail(*errors)
    header = _header_of(ctx, header_set, line)
    siblings = ctx.store.where(ctx.division, line_set.path, parent_key, parent)
    line["LineNumber"] = max((r.get("LineNumber") or 0 for r in siblings), default=0) + 1
    ctx.insert(line_set.path, line)
    if header_set.on_lines_changed is not None:
        header_set.on_lines_changed(ctx, header, line, set(values))
    return line


def delete(ctx: Ctx, entity_set: EntitySet, record: Record) -> None:
    header_set = ctx.registry.parents.get(entity_set.path)
    if header_set is not None:
        _delete_line(ctx, header_set, entity_set, record)
        return
    _check_locked(ctx, entity_set, record)
    lines_path = entity_set.lines.set_path if entity_set.lines else None
    for referrer in ctx.registry.referrers(entity_set.path):
        if referrer.set.path in (*entity_set.cascade, lines_path):
            continue
        ref = referrer.field.ref
        assert ref is not None
        users = ctx.store.where(
            ctx.division, referrer.set.path, referrer.field.name, record[ref.by], trim=ref.trim
        )
        if any(users):
            raise ctx.fail(ctx.text("in_use", target=referrer.set.name))
    if entity_set.on_delete is not None:
        entity_set.on_delete(ctx, record)
    if entity_set.lines is not None:
        parent_key = entity_set.lines.parent_key
        for line in [
            r
            for r in ctx.rows(entity_set.lines.set_path)
            if r[parent_key] == record[entity_set.key]
        ]:
            ctx.remove(entity_set.lines.set_path, line)
    for path in entity_set.cascade:
        for f in ctx.registry.sets[path].fields:
            if f.ref is not None and f.ref.target == entity_set.path:
                for child in list(ctx.store.where(ctx.division, path, f.name, record[f.ref.by])):
                    ctx.remove(path, child)
    ctx.remove(entity_set.path, record)


def _delete_line(ctx: Ctx, header_set: EntitySet, line_set: EntitySet, line: Record) -> None:
    """A line DELETEd on its own. Deleting a sales entry's last line deletes the entry; other
    headers cannot lose their last line."""
    assert header_set.lines is not None
    header = _header_of(ctx, header_set, line)
    siblings = list(
        ctx.store.where(
            ctx.division, line_set.path, header_set.lines.parent_key, header[header_set.key]
        )
    )
    if len(siblings) == 1:
        if not header_set.lines.last_line_deletes_header:
            raise ctx.fail(ctx.text("mandatory", label=ctx.label(header_set.lines.nav)))
        delete(ctx, header_set, header)
        return
    ctx.remove(line_set.path, line)
    if header_set.on_lines_changed is not None:
        header_set.on_lines_changed(ctx, header, None, set())
