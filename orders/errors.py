"""Stable error codes of the orders app and its domain exceptions."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from cart.errors import CartEmpty, CartErrorCode
from shop.errors import DomainError

if TYPE_CHECKING:
    from orders.models import Payment


class OrderErrorCode(StrEnum):
    PAYMENT_DECLINED = "payment_declined"
    PAYMENT_UNAVAILABLE = "payment_unavailable"
    INVALID_TRANSITION = "invalid_transition"
    IDEMPOTENCY_KEY_REQUIRED = "idempotency_key_required"
    IDEMPOTENCY_KEY_MISMATCH = "idempotency_key_mismatch"
    IDEMPOTENCY_KEY_IN_USE = "idempotency_key_in_use"
    RETURN_NOT_ALLOWED = "return_not_allowed"
    RETURN_WINDOW_CLOSED = "return_window_closed"
    CHECKOUT_FAILED = "checkout_failed"
    INVALID_SIGNATURE = "invalid_signature"
    CART_CHANGED = "cart_changed"
    ORDER_NOT_EDITABLE = "order_not_editable"
    ORDER_NOT_DRAFT = "order_not_draft"
    ORDER_NOT_PAYABLE = "order_not_payable"
    PAYMENT_LINK_EXPIRED = "payment_link_expired"
    PAYMENT_IN_PROGRESS = "payment_in_progress"


class PriceChanged(DomainError):
    """A cart line's price changed since it was added; the snapshots are now refreshed."""

    code = CartErrorCode.PRICE_CHANGED  # the cart's code: its warnings report the same change
    status_code = 409
    default_detail = "Some prices changed since you added the items; please review your cart."


class CartChanged(DomainError):
    """The order's total is not the ``expected_total`` the shopper was shown; nothing charged.

    ``total`` (a two-place decimal string) is the total the cart now comes to. Not kept
    against an Idempotency-Key: the client asks again with the new total and the same key.
    """

    code = OrderErrorCode.CART_CHANGED
    status_code = 409
    default_detail = "Your cart changed since you last saw it; please check the new total."

    def __init__(self, total: str, detail: str | None = None) -> None:
        super().__init__(detail, total=total)


class PaymentError(DomainError):
    """A charge or refund did not go through; ``attempts`` are its ``Payment`` rows.

    ``orders.payments.services`` writes one row per gateway call and hands them over here, so
    a caller whose transaction rolled back can write them again (``persist_attempts``). The
    attempts are not part of the API error body.
    """

    def __init__(
        self, detail: str | None = None, *, attempts: Iterable[Payment] = (), **extra: Any
    ) -> None:
        super().__init__(detail, **extra)
        self.attempts: list[Payment] = list(attempts)


class PaymentDeclinedError(PaymentError):
    code = OrderErrorCode.PAYMENT_DECLINED
    status_code = 402
    default_detail = "The payment was declined."


class PaymentUnavailableError(PaymentError):
    code = OrderErrorCode.PAYMENT_UNAVAILABLE
    status_code = 503
    default_detail = "The payment service is unavailable; please try again shortly."


class CheckoutFailed(DomainError):
    """An unexpected failure after the charge; the charge was refunded (compensation)."""

    code = OrderErrorCode.CHECKOUT_FAILED
    status_code = 500
    default_detail = "The order could not be completed; any charge was refunded."


class InvalidTransition(DomainError):
    code = OrderErrorCode.INVALID_TRANSITION
    status_code = 409
    default_detail = "This status change is not allowed."

    def __init__(self, from_status: str, to_status: str, detail: str | None = None) -> None:
        super().__init__(
            detail or f"An order cannot move from {from_status} to {to_status}.",
            from_status=from_status,
            to_status=to_status,
        )


class IdempotencyKeyRequired(DomainError):
    code = OrderErrorCode.IDEMPOTENCY_KEY_REQUIRED
    status_code = 400
    default_detail = "The Idempotency-Key header (1 to 255 printable characters) is required."


class IdempotencyKeyMismatch(DomainError):
    code = OrderErrorCode.IDEMPOTENCY_KEY_MISMATCH
    status_code = 422
    default_detail = "This Idempotency-Key was used with a different request body."


class IdempotencyKeyInUse(DomainError):
    code = OrderErrorCode.IDEMPOTENCY_KEY_IN_USE
    status_code = 409
    default_detail = "A request with this Idempotency-Key is still being processed."


class ReturnNotAllowed(DomainError):
    code = OrderErrorCode.RETURN_NOT_ALLOWED
    status_code = 409
    default_detail = "This order cannot be returned."


class ReturnWindowClosed(DomainError):
    """The order was delivered more than ``SHOP_RETURN_WINDOW_DAYS`` days ago."""

    code = OrderErrorCode.RETURN_WINDOW_CLOSED
    status_code = 400
    default_detail = "The return window for this order has closed."


class InvalidSignatureError(DomainError):
    """A payment provider's webhook whose signature is missing or does not verify."""

    code = OrderErrorCode.INVALID_SIGNATURE
    status_code = 400
    default_detail = "The webhook signature is missing or invalid."


__all__ = [
    "CartChanged",
    "CartEmpty",
    "CheckoutFailed",
    "IdempotencyKeyInUse",
    "IdempotencyKeyMismatch",
    "IdempotencyKeyRequired",
    "InvalidSignatureError",
    "InvalidTransition",
    "OrderErrorCode",
    "PaymentDeclinedError",
    "PaymentError",
    "PaymentUnavailableError",
    "PriceChanged",
    "ReturnNotAllowed",
    "ReturnWindowClosed",
]


class OrderNotEditable(DomainError):
    """Lines can be changed only before fulfilment (``received`` or ``processing``)."""

    code = OrderErrorCode.ORDER_NOT_EDITABLE
    status_code = 409
    default_detail = "This order can no longer be edited: fulfilment has started or ended."


class OrderNotDraft(DomainError):
    """The order was sent, paid or cancelled meanwhile: it is no longer a draft to change."""

    code = OrderErrorCode.ORDER_NOT_DRAFT
    status_code = 409
    default_detail = "This order is no longer a draft."


class OrderNotPayable(DomainError):
    """The order's payment link is closed: the order is paid, cancelled or not a link order."""

    code = OrderErrorCode.ORDER_NOT_PAYABLE
    status_code = 409
    default_detail = "This order cannot be paid: it is already paid or was cancelled."


class PaymentLinkExpired(DomainError):
    """The payment link's ``SHOP_PAYMENT_LINK_DAYS`` are over (staff may send a new one)."""

    code = OrderErrorCode.PAYMENT_LINK_EXPIRED
    status_code = 410
    default_detail = "This payment link has expired. Please contact us for a new one."


class PaymentInProgress(DomainError):
    """Another payment of this order is running (a second tab, a double click)."""

    code = OrderErrorCode.PAYMENT_IN_PROGRESS
    status_code = 409
    default_detail = "Your payment is already being processed; please wait a moment."
