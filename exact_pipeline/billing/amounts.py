"""Money arithmetic of the billing system: integers in minor units, rounded half up per line."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

_UNIT = Decimal(1)
_HUNDRED = Decimal(100)


def round_half_up(value: Decimal) -> int:
    """To a whole number of minor units; halves go away from zero (2.5 → 3, -2.5 → -3)."""
    return int(value.quantize(_UNIT, rounding=ROUND_HALF_UP))


def line_amounts(quantity: Decimal, unit_amount: Decimal, rate: Decimal) -> tuple[int, int]:
    """(amount excluding tax, tax) of a line: each rounded on the line, not on the document."""
    amount = round_half_up(quantity * unit_amount)
    return amount, round_half_up(amount * rate / _HUNDRED)
