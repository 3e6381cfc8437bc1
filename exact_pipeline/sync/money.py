"""Money, the one place: billing's integer minor units ↔ Exact's decimal amounts, per currency.

Billing stores amounts in the currency's own minor unit (cents for EUR, yen for JPY, fils for
KWD); Exact takes and returns decimal amounts in the currency itself. How many decimals a
currency has is ISO 4217's "minor unit" (EUR 2, JPY 0, KWD 3), read from the `iso4217` package
(ISO's own table, re-released with every amendment) rather than assumed to be 2. Conversions
are exact (a power-of-ten shift of a Decimal), never through floats, never rounded.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from functools import cache

from iso4217 import Currency


class CurrencyError(ValueError):
    """A currency code whose minor unit ISO 4217 does not give (unknown, or e.g. gold XAU)."""


@cache
def minor_digits(currency: str) -> int:
    """The currency's decimals per ISO 4217: EUR 2, JPY 0, KWD 3."""
    try:
        digits = Currency(currency.strip().upper()).exponent
    except ValueError:
        raise CurrencyError(f"{currency!r} is not an ISO 4217 currency code") from None
    if digits is None:
        raise CurrencyError(f"{currency} has no minor unit in ISO 4217 (not a money currency)")
    return digits


def currency_problem(currency: str) -> str | None:
    """Why amounts in `currency` cannot be converted, or None when they can."""
    try:
        minor_digits(currency)
    except CurrencyError as problem:
        return str(problem)
    return None


def quantum(currency: str) -> Decimal:
    """The currency's smallest amount: Decimal('0.01') for EUR, Decimal('1') for JPY."""
    return Decimal(1).scaleb(-minor_digits(currency))


def to_major(minor: int | Decimal, currency: str) -> Decimal:
    """Minor units → the amount Exact takes, exactly: 12345 EUR → Decimal('123.45'),
    1000 JPY → Decimal('1000'), 12345 KWD → Decimal('12.345'). A Decimal in fractions of the
    minor unit (a usage price) keeps its fraction."""
    value = Decimal(minor)
    if value == value.to_integral_value():
        value = value.to_integral_value()  # 990.000 from a numeric column → 990 → 9.90
    return value.scaleb(-minor_digits(currency))


def to_minor(amount: Decimal, currency: str) -> int:
    """Exact's amount → minor units; refuses fractions of the minor unit rather than rounding."""
    units = amount.scaleb(minor_digits(currency))
    if units != units.to_integral_value():
        raise ValueError(f"{amount} {currency} is not a whole number of {quantum(currency)}")
    return int(units)


def amount_text(minor: int, currency: str) -> str:
    """Signed minor units as a decimal string for a person: -123456 EUR → "-1234.56".
    A currency without a minor unit (its documents are blocked) shows its raw units."""
    if currency_problem(currency):
        return f"{minor} (minor units)"
    return str(to_major(minor, currency))


def sum_text(amounts: Iterable[int], currency: str) -> str:
    """Minor units summed, as a decimal string."""
    return amount_text(sum(amounts), currency)


def exact_text(amount: Decimal, currency: str) -> str:
    """An amount read from Exact, shown with the currency's decimals (never hiding a fraction
    of the minor unit Exact might hold)."""
    if currency_problem(currency):
        return str(amount)
    step = quantum(currency)
    return str(amount.quantize(step) if amount == amount.quantize(step) else amount)
