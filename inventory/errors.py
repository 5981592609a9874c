"""Stable error codes of the inventory app and its domain exceptions."""

from enum import StrEnum

from shop.errors import DomainError


class InventoryErrorCode(StrEnum):
    INSUFFICIENT_STOCK = "insufficient_stock"
    UNKNOWN_VARIANT = "unknown_variant"
    # No new stock hold now: the client IP already has its share of carts holding stock, or
    # the cart started its share of holds this hour. Checkout itself still works.
    TOO_MANY_HOLDS = "too_many_holds"


class InsufficientStock(DomainError):
    """Not enough available stock. ``lines`` lists ``{sku, requested, available}``.

    With a single line the body also carries ``available`` at the top level (API.md).
    """

    code = InventoryErrorCode.INSUFFICIENT_STOCK
    status_code = 409
    default_detail = "Not enough stock is available."

    def __init__(self, lines: list[dict], detail: str | None = None) -> None:
        extra: dict = {"lines": lines}
        if len(lines) == 1:
            extra["available"] = lines[0]["available"]
        if detail is None and lines:
            detail = "Only {available} of {sku} can be supplied.".format(**lines[0])
        super().__init__(detail, **extra)
        self.lines = lines


class TooManyHolds(DomainError):
    """No stock hold can start now (``SHOP_MAX_HOLDS_PER_IP``, ``SHOP_MAX_HOLDS_PER_CART_PER_HOUR``).

    A hold only protects a shopper's checkout; placing the order allocates stock for real, so
    callers let the shopper carry on. ``retry_after``: seconds until a hold could start.
    """

    code = InventoryErrorCode.TOO_MANY_HOLDS
    status_code = 429
    default_detail = "Your items cannot be held right now; you can still place your order."

    def __init__(self, detail: str | None = None, *, retry_after: int) -> None:
        super().__init__(detail, retry_after=retry_after)
        self.retry_after = retry_after
