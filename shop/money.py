"""Money arithmetic shared by every app: amounts are Decimals rounded to cents, half up."""

from decimal import ROUND_HALF_UP, Decimal

CENTS = Decimal("0.01")


def money(value: Decimal | int | str) -> Decimal:
    """Return ``value`` as a Decimal rounded to two places (half up)."""
    return Decimal(value).quantize(CENTS, rounding=ROUND_HALF_UP)
