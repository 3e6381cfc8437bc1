"""`$filter`: a tokenizer, a recursive-descent parser, a type check and an evaluator.

Supports what Exact's clients send: eq ne gt ge lt le, and or not, parentheses, literals
('text' with '' escapes, guid'…', datetime'…', 123, 123L, 1.5, true/false, null) and the
functions substringof, startswith, endswith, trim, tolower, toupper, length, year, month, day.
String comparison follows SQL Server's default collation, as Exact's database does:
case-insensitive and blind to trailing spaces (leading spaces count: `Code eq '25'` misses
the padded account code '                25').
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from exact_pipeline.sandbox.clock import parse_datetime
from exact_pipeline.sandbox.schema import Edm, Field, Record


class FilterError(ValueError):
    """A query the OData parser rejects (answered as 400 with this message)."""


@dataclass(frozen=True)
class Literal:
    value: Any
    edm: Edm | None  # None: the null literal
    pos: int


@dataclass(frozen=True)
class Prop:
    name: str
    pos: int


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Node, ...]
    pos: int


@dataclass(frozen=True)
class Binary:
    op: str
    left: Node
    right: Node
    pos: int


@dataclass(frozen=True)
class Not:
    operand: Node
    pos: int


Node = Literal | Prop | Call | Binary | Not

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<typed>(?:guid|datetime|datetimeoffset)'[^']*')
    | (?P<string>'(?:[^']|'')*')
    | (?P<number>-?\d+(?:\.\d+)?[LlMmDdFf]?)
    | (?P<name>[A-Za-z_][A-Za-z0-9_/]*)
    | (?P<punct>[(),])
    )""",
    re.VERBOSE,
)
COMPARISONS = {"eq", "ne", "gt", "ge", "lt", "le"}


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    pos: int


def tokenize(text: str) -> list[Token]:
    tokens, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            start = len(text) - len(text[pos:].lstrip())
            raise FilterError(f"Syntax error at position {start}.")
        kind = match.lastgroup or ""
        tokens.append(Token(kind, match.group(kind), match.start(kind)))
        pos = match.end()
    return tokens


def parse_literal(text: str, pos: int = 0) -> Literal:
    """A single literal such as guid'…', 123L, 'x' (also used for keys and $skiptoken)."""
    tokens = tokenize(text)
    if len(tokens) != 1:
        raise FilterError(f"Syntax error at position {pos}.")
    node = _literal(tokens[0])
    if node is None:
        raise FilterError(f"Syntax error at position {pos}.")
    return node


def parse_literals(text: str) -> list[Literal]:
    """Comma-separated literals (a $skiptoken after $orderby: the sort value, then the key)."""
    tokens = tokenize(text)
    values = tokens[0::2]
    if not tokens or any(t.kind != "punct" or t.text != "," for t in tokens[1::2]):
        raise FilterError("Syntax error at position 0.")
    literals = [_literal(t) for t in values]
    if any(literal is None for literal in literals) or len(tokens) % 2 == 0:
        raise FilterError("Syntax error at position 0.")
    return [literal for literal in literals if literal is not None]


def _literal(token: Token) -> Literal | None:
    text, pos = token.text, token.pos
    try:
        if token.kind == "typed":
            prefix, _, rest = text.partition("'")
            body = rest[:-1]
            if prefix == "guid":
                return Literal(str(uuid.UUID(body)), Edm.GUID, pos)
            return Literal(parse_datetime(body), Edm.DATETIME, pos)
        if token.kind == "string":
            return Literal(text[1:-1].replace("''", "'"), Edm.STRING, pos)
        if token.kind == "number":
            suffix = text[-1].upper() if text[-1].isalpha() else ""
            digits = text.rstrip("LlMmDdFf")
            if suffix == "L":
                return Literal(int(digits), Edm.INT64, pos)
            if suffix or "." in digits:
                return Literal(Decimal(digits), Edm.DOUBLE, pos)
            value = int(digits)
            return Literal(value, Edm.INT32 if abs(value) < 2**31 else Edm.INT64, pos)
    except ValueError as exc:
        raise FilterError(f"Unrecognized '{text}' literal at position {pos}.") from exc
    if token.kind == "name" and token.text in ("true", "false"):
        return Literal(token.text == "true", Edm.BOOLEAN, pos)
    if token.kind == "name" and token.text == "null":
        return Literal(None, None, pos)
    return None


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.i = 0
        self.end = len(text)

    def parse(self) -> Node:
        node = self.or_expr()
        if self.i < len(self.tokens):
            raise FilterError(f"Syntax error at position {self.tokens[self.i].pos}.")
        return node

    def peek(self) -> Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, text: str) -> bool:
        token = self.peek()
        if token is not None and token.text == text and token.kind in ("name", "punct"):
            self.i += 1
            return True
        return False

    def expect(self, text: str) -> None:
        if not self.take(text):
            token = self.peek()
            raise FilterError(f"'{text}' expected at position {token.pos if token else self.end}.")

    def or_expr(self) -> Node:
        node = self.and_expr()
        while (token := self.peek()) is not None and self.take("or"):
            node = Binary("or", node, self.and_expr(), token.pos)
        return node

    def and_expr(self) -> Node:
        node = self.unary()
        while (token := self.peek()) is not None and self.take("and"):
            node = Binary("and", node, self.unary(), token.pos)
        return node

    def unary(self) -> Node:
        token = self.peek()
        if token is not None and self.take("not"):
            return Not(self.unary(), token.pos)
        return self.comparison()

    def comparison(self) -> Node:
        node = self.primary()
        token = self.peek()
        if token is not None and token.kind == "name" and token.text in COMPARISONS:
            self.i += 1
            node = Binary(token.text, node, self.primary(), token.pos)
        return node

    def primary(self) -> Node:
        token = self.peek()
        if token is None:
            raise FilterError(f"Expression expected at position {self.end}.")
        self.i += 1
        if token.text == "(" and token.kind == "punct":
            node = self.or_expr()
            self.expect(")")
            return node
        if (literal := _literal(token)) is not None:
            return literal
        if token.kind != "name":
            raise FilterError(f"Expression expected at position {token.pos}.")
        if self.take("("):
            args: list[Node] = []
            if not self.take(")"):
                args.append(self.or_expr())
                while self.take(","):
                    args.append(self.or_expr())
                self.expect(")")
            return Call(token.text, tuple(args), token.pos)
        return Prop(token.text, token.pos)


def parse(text: str) -> Node:
    return _Parser(text).parse()


# typing ----------------------------------------------------------------------------------
_FUNCTIONS: dict[str, tuple[tuple[Edm, ...], Edm, Callable[..., Any]]] = {
    "substringof": (
        (Edm.STRING, Edm.STRING),
        Edm.BOOLEAN,
        lambda a, b: a.lower() in b.lower(),
    ),
    "startswith": (
        (Edm.STRING, Edm.STRING),
        Edm.BOOLEAN,
        lambda a, b: a.lower().startswith(b.lower()),
    ),
    "endswith": (
        (Edm.STRING, Edm.STRING),
        Edm.BOOLEAN,
        lambda a, b: a.lower().rstrip().endswith(b.lower().rstrip()),
    ),
    "trim": ((Edm.STRING,), Edm.STRING, str.strip),
    "tolower": ((Edm.STRING,), Edm.STRING, str.lower),
    "toupper": ((Edm.STRING,), Edm.STRING, str.upper),
    "length": ((Edm.STRING,), Edm.INT32, len),
    "year": ((Edm.DATETIME,), Edm.INT32, lambda d: d.year),
    "month": ((Edm.DATETIME,), Edm.INT32, lambda d: d.month),
    "day": ((Edm.DATETIME,), Edm.INT32, lambda d: d.day),
}


def check(node: Node, fields: Mapping[str, Field], type_name: str) -> None:
    """Raise FilterError unless `node` is a well-typed boolean expression over `fields`."""
    edm = _infer(node, fields, type_name)
    if edm is not Edm.BOOLEAN:
        raise FilterError("Expression of type 'System.Boolean' expected at position 0.")


def compatible(a: Edm | None, b: Edm | None) -> bool:
    return a is None or b is None or a is b or (a.is_number and b.is_number)


def _infer(node: Node, fields: Mapping[str, Field], type_name: str) -> Edm | None:
    match node:
        case Literal():
            return node.edm
        case Prop():
            if node.name not in fields:
                raise FilterError(
                    f"No property '{node.name}' exists in type '{type_name}' "
                    f"at position {node.pos}."
                )
            return fields[node.name].edm
        case Not():
            if _infer(node.operand, fields, type_name) is not Edm.BOOLEAN:
                raise FilterError(f"Operator 'not' incompatible with operand type at {node.pos}.")
            return Edm.BOOLEAN
        case Binary():
            left = _infer(node.left, fields, type_name)
            right = _infer(node.right, fields, type_name)
            if node.op in ("and", "or"):
                ok = left is Edm.BOOLEAN and right is Edm.BOOLEAN
            else:
                ok = compatible(left, right) and (
                    node.op in ("eq", "ne") or Edm.BOOLEAN not in (left, right)
                )
            if not ok:
                raise FilterError(
                    f"Operator '{node.op}' incompatible with operand types "
                    f"'{_clr(left)}' and '{_clr(right)}' at position {node.pos}."
                )
            return Edm.BOOLEAN
        case Call():
            if node.name not in _FUNCTIONS:
                raise FilterError(f"Unknown function '{node.name}' at position {node.pos}.")
            params, result, _ = _FUNCTIONS[node.name]
            args = [_infer(arg, fields, type_name) for arg in node.args]
            if len(args) != len(params) or any(
                a is not None and a is not p for a, p in zip(args, params, strict=False)
            ):
                raise FilterError(
                    f"No applicable function found for '{node.name}' at position {node.pos} "
                    f"with the specified arguments."
                )
            return result
    raise AssertionError(node)


def _clr(edm: Edm | None) -> str:
    return edm.clr if edm else "<null>"


# evaluation -------------------------------------------------------------------------------
def evaluate(node: Node, record: Record) -> Any:
    match node:
        case Literal():
            return node.value
        case Prop():
            return record.get(node.name)
        case Not():
            return not evaluate(node.operand, record)
        case Binary(op="and"):
            return bool(evaluate(node.left, record)) and bool(evaluate(node.right, record))
        case Binary(op="or"):
            return bool(evaluate(node.left, record)) or bool(evaluate(node.right, record))
        case Binary():
            return _compare(node.op, evaluate(node.left, record), evaluate(node.right, record))
        case Call():
            args = [evaluate(arg, record) for arg in node.args]
            if any(a is None for a in args):
                return None
            return _FUNCTIONS[node.name][2](*args)
    raise AssertionError(node)


def _comparable(value: Any, equality: bool) -> Any:
    if isinstance(value, str):
        folded = value.casefold()
        return folded.rstrip(" ") if equality else folded
    return value


def _compare(op: str, left: Any, right: Any) -> bool:
    if left is None or right is None:
        same = left is None and right is None
        return same if op == "eq" else (not same if op == "ne" else False)
    a, b = _comparable(left, op in ("eq", "ne")), _comparable(right, op in ("eq", "ne"))
    return {
        "eq": a == b,
        "ne": a != b,
        "gt": a > b,
        "ge": a >= b,
        "lt": a < b,
        "le": a <= b,
    }[op]


def properties(node: Node) -> Iterator[str]:
    """Every property name an expression reads."""
    match node:
        case Prop():
            yield node.name
        case Not():
            yield from properties(node.operand)
        case Binary():
            yield from properties(node.left)
            yield from properties(node.right)
        case Call():
            for arg in node.args:
                yield from properties(arg)


def is_timestamp_gt(node: Node) -> bool:
    """The one filter sync endpoints accept: `Timestamp gt N`."""
    return (
        isinstance(node, Binary)
        and node.op == "gt"
        and isinstance(node.left, Prop)
        and node.left.name == "Timestamp"
        and isinstance(node.right, Literal)
        and node.right.edm in (Edm.INT32, Edm.INT64)
    )


def literal_text(value: Any, edm: Edm) -> str:
    """A value written as an OData literal (keys in URIs, $skiptoken)."""
    match edm:
        case Edm.GUID:
            return f"guid'{value}'"
        case Edm.INT64:
            return f"{value}L"
        case Edm.INT16 | Edm.INT32:
            return str(value)
        case Edm.DATETIME:
            assert isinstance(value, datetime)
            return f"datetime'{value.isoformat()}'"
    return "'" + str(value).replace("'", "''") + "'"
