"""What each value in the mapping tables must look like, said once in words and checked once.

A `Shape` sits in a type's `Annotated` metadata: it reads the raw value (the tables are read as
text) and, when the value does not fit, raises a validation error whose message is the shape's
`expected` sentence. The loader quotes that sentence next to the file, row and column, so the
words a user sees and the rule the code applies cannot drift apart.

The code shapes are deliberately a little wider than Exact Online's own limits (which Exact does
not document for every entity): they catch typos and stray spaces here, while each code's
existence is checked against the division's master data before anything is posted.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BeforeValidator, GetCoreSchemaHandler
from pydantic_core import PydanticCustomError, core_schema

SHAPE_ERROR = "mapping_shape"
MAX_DIVISION = 2**31 - 1  # Exact's division code is an Int32


@dataclass(frozen=True)
class Shape:
    """`Annotated` marker: `read` gives the field's value from a raw one, or raises ValueError."""

    expected: str
    read: Callable[[Any], Any]

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_before_validator_function(self._validate, handler(source))

    def _validate(self, value: Any) -> Any:
        try:
            return self.read(value)
        except ValueError:
            raise PydanticCustomError(
                SHAPE_ERROR, "expected {expected}", {"expected": self.expected}
            ) from None


def _matching(pattern: str) -> Callable[[Any], str]:
    compiled = re.compile(pattern)

    def read(value: Any) -> str:
        if not isinstance(value, str) or not compiled.fullmatch(value):
            raise ValueError(value)
        return value

    return read


def _read_division(value: Any) -> int:
    # Digits only: YAML is read as text, and `True` or `3.0` must not pass for a division.
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    if not isinstance(text, str) or not text.isascii() or not text.isdigit():
        raise ValueError(value)
    number = int(text)
    if not 1 <= number <= MAX_DIVISION:
        raise ValueError(value)
    return number


def _read_percent(value: Any) -> int:
    # Digits only, as for a division: `True` or `20.5` must not pass for a percentage.
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    if not isinstance(text, str) or not text.isascii() or not text.isdigit() or int(text) > 100:
        raise ValueError(value)
    return int(text)


def _read_promise_minutes(value: Any) -> int:
    # Digits only, as for a division. At least an hour: the hourly schedule is what keeps the
    # promise in a quiet hour, so a shorter one would be broken after every quiet hour.
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    if not isinstance(text, str) or not text.isascii() or not text.isdigit() or int(text) < 60:
        raise ValueError(value)
    return int(text)


def _read_at_least_one(value: Any) -> int:
    # Digits only, as for a division: `True` or `2.5` must not pass for a count of attempts.
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    if not isinstance(text, str) or not text.isascii() or not text.isdigit() or int(text) < 1:
        raise ValueError(value)
    return int(text)


def _read_date(value: Any) -> date:
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError(value)
    return date.fromisoformat(value)  # ValueError for 2026-13-01 and the like


def is_timezone(value: Any) -> bool:
    """Whether `value` names a timezone of the IANA database (Europe/Amsterdam, UTC)."""
    if not isinstance(value, str) or not value:
        return False
    try:
        ZoneInfo(value)
    # ValueError: not even a key ("../x"); OSError: a folder of the database ("Europe").
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def _read_timezone(value: Any) -> str:
    if not is_timezone(value):
        raise ValueError(value)
    return value


def _blank_is_none(value: Any) -> Any:
    """An empty cell or an empty YAML value means "not set" for optional codes."""
    return None if value == "" else value


BillingId = Annotated[
    str,
    Shape(
        "a billing id (1-100 characters without spaces, e.g. prod_starter)",
        _matching(r"\S{1,100}"),
    ),
]
Division = Annotated[
    int,
    Shape(
        f"an Exact division number (a whole number from 1 to {MAX_DIVISION}, e.g. 310001)",
        _read_division,
    ),
]
GLCode = Annotated[
    str,
    Shape(
        "an Exact GL account code (1-20 letters, digits, dots or dashes, e.g. 8000)",
        _matching(r"[A-Za-z0-9][A-Za-z0-9.\-]{0,19}"),
    ),
]
VatCode = Annotated[
    str,
    Shape("an Exact VAT code (1-3 letters or digits, e.g. 1)", _matching(r"[A-Za-z0-9]{1,3}")),
]
JournalCode = Annotated[
    str,
    Shape(
        "an Exact journal code (1-10 letters or digits, e.g. 70)",
        _matching(r"[A-Za-z0-9]{1,10}"),
    ),
]
PaymentConditionCode = Annotated[
    str,
    Shape(
        "an Exact payment-condition code (1-10 letters or digits, e.g. 14)",
        _matching(r"[A-Za-z0-9]{1,10}"),
    ),
]
ItemCode = Annotated[
    str,
    Shape(
        "an Exact item code (1-30 characters, no spaces at either end)",
        _matching(r"\S(?:.{0,28}\S)?"),
    ),
]
ExactAccountCode = Annotated[
    str,
    # Exact stores account codes left-padded to 18 characters; the tables hold them unpadded.
    Shape(
        "an Exact account code (1-18 letters or digits, without the padding, e.g. 10001)",
        _matching(r"[A-Za-z0-9]{1,18}"),
    ),
]
# A line's CostCenter and CostUnit hold at most 8 characters (exact-entities.json).
CostCenterCode = Annotated[
    str,
    Shape(
        "an Exact cost centre code (1-8 characters without spaces, e.g. SAAS)",
        _matching(r"\S{1,8}"),
    ),
]
CostUnitCode = Annotated[
    str,
    Shape(
        "an Exact cost unit code (1-8 characters without spaces, e.g. CLOUD)",
        _matching(r"\S{1,8}"),
    ),
]
Percent = Annotated[int, Shape("a whole percentage from 0 to 100, e.g. 20", _read_percent)]
PromiseMinutes = Annotated[
    int, Shape("a whole number of minutes, at least 60, e.g. 60", _read_promise_minutes)
]
AtLeastOne = Annotated[int, Shape("a whole number, at least 1, e.g. 5", _read_at_least_one)]
IsoDate = Annotated[date, Shape("a date written YYYY-MM-DD, e.g. 2026-11-01", _read_date)]
Timezone = Annotated[str, Shape("an IANA timezone name, e.g. Europe/Amsterdam", _read_timezone)]

OptionalGLCode = Annotated[GLCode | None, BeforeValidator(_blank_is_none)]
OptionalJournalCode = Annotated[JournalCode | None, BeforeValidator(_blank_is_none)]
OptionalPaymentConditionCode = Annotated[
    PaymentConditionCode | None, BeforeValidator(_blank_is_none)
]
OptionalItemCode = Annotated[ItemCode | None, BeforeValidator(_blank_is_none)]
OptionalCostCenterCode = Annotated[CostCenterCode | None, BeforeValidator(_blank_is_none)]
OptionalCostUnitCode = Annotated[CostUnitCode | None, BeforeValidator(_blank_is_none)]


def expectation_of(metadata: list[Any]) -> str | None:
    """The `expected` sentence of the Shape among a field's metadata, if it has one."""
    return next((item.expected for item in metadata if isinstance(item, Shape)), None)
