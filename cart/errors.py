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
    # Voucher refusals (applying a code, and again at checkout).
    VOUCHER_NOT_FOUND = "voucher_not_found"
    VOUCHER_EXPIRED = "voucher_expired"
    VOUCHER_MIN_SPEND = "voucher_min_spend"
    VOUCHER_USED_UP = "voucher_used_up"
    VOUCHER_NOT_APPLICABLE = "voucher_not_applicable"


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


class VoucherRefused(DomainError):
    """A voucher cannot be used on this cart (400, with one of the ``voucher_*`` codes)."""

    status_code = 400


class VoucherNotFound(VoucherRefused):
    code = CartErrorCode.VOUCHER_NOT_FOUND
    default_detail = "We don't know this voucher code."


class VoucherExpired(VoucherRefused):
    code = CartErrorCode.VOUCHER_EXPIRED
    default_detail = "This voucher is not valid at the moment."


class VoucherMinSpend(VoucherRefused):
    """Carries ``min_spend`` (a string amount)."""

    code = CartErrorCode.VOUCHER_MIN_SPEND
    default_detail = "Spend a little more to use this voucher."


class VoucherUsedUp(VoucherRefused):
    code = CartErrorCode.VOUCHER_USED_UP
    default_detail = "This voucher has been used up."


class VoucherNotApplicable(VoucherRefused):
    code = CartErrorCode.VOUCHER_NOT_APPLICABLE
    default_detail = "This voucher does not apply to anything in your cart."
