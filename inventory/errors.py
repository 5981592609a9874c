"""Stable error codes of the inventory app and its domain exceptions."""

from enum import StrEnum

from shop.errors import DomainError


class InventoryErrorCode(StrEnum):
    INSUFFICIENT_STOCK = "insufficient_stock"
    UNKNOWN_VARIANT = "unknown_variant"


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
