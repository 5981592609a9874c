"""Stable error codes of the cart app and its domain exceptions."""

from enum import StrEnum

from shop.errors import DomainError


class CartErrorCode(StrEnum):
    CART_NOT_FOUND = "not_found"
    CHECKOUT_IN_PROGRESS = "checkout_in_progress"
    CART_EMPTY = "cart_empty"
    # A line's price snapshot differs from the variant's price (a cart warning, and the
    # reason a checkout stops: orders.errors.PriceChanged).
    PRICE_CHANGED = "price_changed"


class CartNotFound(DomainError):
    """Unknown, closed or foreign cart token (or a line of another cart): 404, never 403."""

    code = CartErrorCode.CART_NOT_FOUND
    status_code = 404
    default_detail = "Cart not found."


class CheckoutInProgress(DomainError):
    """The cart is in checkout; it cannot change until the checkout ends or completes."""

    code = CartErrorCode.CHECKOUT_IN_PROGRESS
    status_code = 409
    default_detail = "This cart is being checked out; try again in a moment."


class CartEmpty(DomainError):
    """Checkout or reservation of a cart without lines."""

    code = CartErrorCode.CART_EMPTY
    status_code = 400
    default_detail = "Your cart is empty."
