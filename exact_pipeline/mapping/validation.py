"""Pydantic's validation errors said in the mapping tables' words: what was expected, what was got.

The expectation comes from the value's `Shape` (see `shapes`), from the choices of a Literal, or
from the model's fields (an unknown key: which keys exist; a missing key: what belongs there).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from exact_pipeline.mapping.errors import expected_got
from exact_pipeline.mapping.shapes import expectation_of

# Errors for a value that should have been a block of `key: value` lines.
_NOT_A_MAPPING = frozenset({"dict_type", "model_type", "model_attributes_type"})


@dataclass(frozen=True)
class Complaint:
    path: tuple[str, ...]  # field names and dict keys from the top of the validated data
    message: str


def complaints(error: ValidationError, model: type[BaseModel]) -> list[Complaint]:
    return [
        Complaint(
            tuple(str(part) for part in detail["loc"] if part != "[key]"),
            _describe(detail, model),
        )
        for detail in error.errors()
    ]


def _describe(detail: ErrorDetails, model: type[BaseModel]) -> str:
    kind, path = detail["type"], detail["loc"]
    if kind == "missing":
        return f"missing; expected {_field_expectation(model, path)}"
    if kind == "extra_forbidden":
        owner = _owner(model, path)
        known = ", ".join(owner.model_fields) if owner else "none"
        return f"unknown key; expected one of {known}"
    if kind in _NOT_A_MAPPING:
        return expected_got("indented `key: value` lines", detail["input"])
    context: dict[str, Any] = dict(detail.get("ctx") or {})
    expected = context.get("expected") or detail["msg"].removeprefix("Input should be ")
    return expected_got(str(expected), detail["input"])


def _field_expectation(model: type[BaseModel], path: tuple[Any, ...]) -> str:
    owner = _owner(model, path)
    field = owner.model_fields.get(str(path[-1])) if owner else None
    if field is None:
        return "a value"
    return expectation_of(field.metadata) or field.description or f"a value for {path[-1]}"


def _owner(model: type[BaseModel], path: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model whose field the last part of `path` names, walking fields and dict values."""
    current: Any = model
    for part in path[:-1]:
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(part))
            if field is None:
                return None
            current = field.annotation
        elif get_origin(current) is dict:
            current = get_args(current)[1]  # `part` is a key; go to the value's type
        else:
            return None
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None
