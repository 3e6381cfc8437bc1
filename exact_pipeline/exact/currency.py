"""Currencies as Exact's amounts obey them: a decimal amount in the currency itself, with as
many decimals as ISO 4217's "minor unit" gives (EUR 2, JPY 0, KWD 3).

The minor unit is read from the `iso4217` package (ISO's own table, re-released with every
amendment) rather than assumed to be 2. Conversions are exact (a power-of-ten shift of a
Decimal), never through floats, never rounded.
"""

from __future__ import annotations

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


def quantum(currency: str) -> Decimal:
    """The currency's smallest amount: Decimal('0.01') for EUR, Decimal('1') for JPY."""
    return Decimal(1).scaleb(-minor_digits(currency))


def to_minor(amount: Decimal, currency: str) -> int:
    """Exact's amount → minor units; refuses fractions of the minor unit rather than rounding."""
    units = amount.scaleb(minor_digits(currency))
    if units != units.to_integral_value():
        raise ValueError(f"{amount} {currency} is not a whole number of {quantum(currency)}")
    return int(units)
