"""Money, the one place: billing's integer minor units ↔ Exact's decimal amounts, per currency.

Billing stores amounts in the currency's own minor unit (cents for EUR, yen for JPY, fils for
KWD); Exact takes and returns decimal amounts in the currency itself, with ISO 4217's number of
decimals (`exact.currency`, where Exact's side of the conversion, `to_minor`, lives too).
Conversions are exact (a power-of-ten shift of a Decimal), never through floats, never rounded.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from exact_pipeline.exact.currency import CurrencyError, minor_digits, quantum


def currency_problem(currency: str) -> str | None:
    """Why amounts in `currency` cannot be converted, or None when they can."""
    try:
        minor_digits(currency)
    except CurrencyError as problem:
        return str(problem)
    return None


def to_major(minor: int | Decimal, currency: str) -> Decimal:
    """Minor units → the amount Exact takes, exactly: 12345 EUR → Decimal('123.45'),
    1000 JPY → Decimal('1000'), 12345 KWD → Decimal('12.345'). A Decimal in fractions of the
    minor unit (a usage price) keeps its fraction."""
    value = Decimal(minor)
    if value == value.to_integral_value():
        value = value.to_integral_value()  # 990.000 from a numeric column → 990 → 9.90
    return value.scaleb(-minor_digits(currency))


def from_major(amount: Decimal, currency: str) -> Decimal:
    """An amount read from Exact → minor units, exactly, keeping any fraction of the minor
    unit Exact might hold: Decimal('123.45') EUR → Decimal('12345')."""
    return amount.scaleb(minor_digits(currency))


def amount_text(minor: int | Decimal, currency: str) -> str:
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
