"""The order status machine: one table of allowed moves and one function applying them."""

from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.roles import has_staff_permission
from cart.pricing.services import release_voucher_use
from inventory import services as inventory
from inventory.services import StockLine
from orders.errors import InvalidTransition, PaymentDeclinedError, PaymentUnavailableError
from orders.fulfilment.couriers import get_courier
from orders.invoices.services import issue_invoice
from orders.models import (
    Order,
    OrderEvent,
    OrderEventType,
    OrderStatus,
    PackingTask,
    PaymentStatus,
    Shipment,
    ShipmentStatus,
)
from orders.payments.refunds import credit_line, refund_order
from orders.payments.services import persist_attempts, void_pending_payment
from orders.pricing import tax_rate
from orders.signals import order_placed, order_status_changed

S = OrderStatus
ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    # Left only through ``orders.drafts``: the payment link (pending_payment, stock allocated),
    # a payment taken offline (received), or a cancellation.
    S.DRAFT: frozenset({S.PENDING_PAYMENT, S.RECEIVED, S.CANCELLED}),
    # Left only by the provider's answer (``orders.payments.confirmation``) or a cancellation.
    S.PENDING_PAYMENT: frozenset({S.RECEIVED, S.CANCELLED}),
    S.RECEIVED: frozenset({S.PROCESSING, S.CANCELLED}),
    S.PROCESSING: frozenset({S.FULFILLED, S.CANCELLED}),
    S.FULFILLED: frozenset({S.SHIPPED, S.CANCELLED}),
    S.SHIPPED: frozenset({S.DELIVERED}),
    S.DELIVERED: frozenset(),
    S.CANCELLED: frozenset(),
}
CUSTOMER_CANCELLABLE = frozenset({S.PENDING_PAYMENT, S.RECEIVED, S.PROCESSING})
STAFF_CANCELLABLE = frozenset({S.DRAFT, S.PENDING_PAYMENT, S.RECEIVED, S.PROCESSING, S.FULFILLED})
# Moves that only a payment makes (the provider's confirmation, a payment link sent, a
# payment taken offline: ``orders.payments``, ``orders.drafts``), never staff by hand.
CONFIRMATION_ONLY = frozenset({S.PENDING_PAYMENT, S.RECEIVED})


def allowed_targets(*, status: str) -> frozenset[str]:
    """Return the statuses an order in ``status`` may move to."""
    return ALLOWED_TRANSITIONS.get(status, frozenset())


def cancellable_statuses(*, user: User | None) -> frozenset[str]:
    """Return the statuses from which ``user`` may cancel an order: until ``fulfilled`` for
    staff holding ``orders.cancel_order``, ``pending_payment``/``received``/``processing`` for
    anyone else (``None``: a guest holding the order token)."""
    if user is not None and has_staff_permission(user=user, permission="orders.cancel_order"):
        return STAFF_CANCELLABLE
    return CUSTOMER_CANCELLABLE


def can_cancel(*, order: Order, user: User) -> bool:
    """Return whether ``user`` may cancel ``order`` now: their own order in its cancellable
    window, or any order until ``fulfilled`` with the staff permission."""
    if order.user_id != user.pk and not has_staff_permission(
        user=user, permission="orders.cancel_order"
    ):
        return False
    return order.status in cancellable_statuses(user=user)


def stock_lines(*, order: Order) -> list[StockLine]:
    """Return the stock lines of the order's lines whose variant still exists."""
    return [
        StockLine(line.variant_id, line.quantity, line.sku)
        for line in order.lines.all()
        if line.variant_id is not None
    ]


def _cancel_side_effects(order: Order) -> Decimal | None:
    if order.status == S.DRAFT:
        return None  # a draft holds no stock and was never paid
    inventory.deallocate(lines=stock_lines(order=order), order_number=order.number)
    release_voucher_use(order_number=order.number)  # a cancelled order gives its use back
    if order.status == S.PENDING_PAYMENT:
        # Nothing was charged: stop the pending payment at the provider (best effort; a
        # payment that succeeds anyway is refunded when its webhook arrives).
        void_pending_payment(order=order)
        order.payment_status = PaymentStatus.UNPAID
        order.payment_action = {}
        order.pending_order_token = ""
        return None
    return refund_order(
        order=order,
        amount=order.total - order.refunded_total,
        reference=f"{order.number}-cancel",
        lines=[credit_line(line=line, quantity=line.quantity) for line in order.lines.all()],
        subtotal=order.subtotal,
        discount_total=order.discount_total,
        shipping_total=order.shipping_total,
        tax_total=order.tax_total,
        tax_lines=order.tax_lines,
    )


def _confirm_side_effects(order: Order) -> None:
    """The provider confirmed a pending payment: the order is paid and placed for good."""
    order.payment_status = PaymentStatus.PAID
    token = order.pending_order_token
    order.payment_action = {}
    order.pending_order_token = ""
    issue_invoice(order=order, tax_rate=tax_rate())
    # The confirmation email, now that the order is confirmed (a guest's links with its token).
    order_placed.send(sender=Order, order_id=order.pk, order_token=token or None)


def _ship_side_effects(
    order: Order, *, user: User | None, tracking_number: str, carrier: str
) -> None:
    if tracking_number:
        carrier = carrier or "Manual"
    else:
        booking = get_courier().book(order=order)
        carrier, tracking_number = carrier or booking.carrier, booking.tracking_number
    Shipment.objects.create(order=order, carrier=carrier[:64], tracking_number=tracking_number[:64])
    inventory.ship(lines=stock_lines(order=order), order_number=order.number, user=user)


def _apply(
    order: Order,
    to_status: str,
    *,
    user: User | None,
    note: str,
    tracking_number: str,
    carrier: str,
) -> None:
    from_status = order.status
    refund_amount: Decimal | None = None
    if to_status == S.PENDING_PAYMENT:
        order.payment_status = PaymentStatus.PENDING  # a draft sent as a payment link
    elif to_status == S.RECEIVED:
        _confirm_side_effects(order)
    elif to_status == S.PROCESSING:
        PackingTask.objects.get_or_create(order=order)
    elif to_status == S.FULFILLED:
        PackingTask.objects.update_or_create(
            order=order, defaults={"packed_at": timezone.now(), "packed_by": user}
        )
    elif to_status == S.SHIPPED:
        _ship_side_effects(order, user=user, tracking_number=tracking_number, carrier=carrier)
    elif to_status == S.DELIVERED:
        order.shipments.update(status=ShipmentStatus.DELIVERED)
    elif to_status == S.CANCELLED:
        refund_amount = _cancel_side_effects(order)
    order.status = to_status
    order.save(
        update_fields=[
            "status",
            "payment_status",
            "refunded_total",
            "payment_action",
            "pending_order_token",
            "updated_at",
        ]
    )
    OrderEvent.objects.create(
        order=order,
        type=OrderEventType.STATUS_CHANGED,
        from_status=from_status,
        to_status=to_status,
        user=user,
        note=note,
    )
    order_status_changed.send(
        sender=Order,
        order_id=order.pk,
        from_status=from_status,
        to_status=to_status,
        refund_amount=None if refund_amount is None else f"{refund_amount:.2f}",
    )


def transition_order(
    *,
    order: Order,
    to_status: str,
    user: User,
    note: str = "",
    tracking_number: str = "",
    carrier: str = "",
) -> Order:
    """Move ``order`` to ``to_status`` per ``ALLOWED_TRANSITIONS`` and return it fresh.

    Atomic; locks the order row (``select_for_update``) first, then stock rows inside
    inventory (variant order). Side effects: ``processing`` creates the packing task,
    ``fulfilled`` marks it packed, ``shipped`` books the courier (or records the given
    tracking number) and ships the stock, ``delivered`` closes the shipments, ``cancelled``
    deallocates, refunds the unrefunded balance through the gateway, issues a credit note
    and sets ``payment_status`` to refunded. Writes a ``status_changed`` event and sends
    ``order_status_changed`` inside the transaction.

    Raises ``InvalidTransition`` (409) for a move not in the table or to ``received`` (only
    the payment provider's confirmation moves a ``pending_payment`` order there), and
    ``PaymentUnavailableError`` (503) if a cancellation's refund cannot go through (nothing
    changes; the refund attempts stay recorded).
    """
    if to_status in CONFIRMATION_ONLY:
        raise InvalidTransition(order.status, to_status)
    return _transition(
        order=order,
        to_status=to_status,
        user=user,
        note=note,
        tracking_number=tracking_number,
        carrier=carrier,
    )


def _transition(
    *,
    order: Order,
    to_status: str,
    user: User | None,
    note: str = "",
    tracking_number: str = "",
    carrier: str = "",
    allowed_from: frozenset[str] | None = None,
) -> Order:
    try:
        with transaction.atomic():
            locked = Order.objects.select_for_update().get(pk=order.pk)
            if to_status not in allowed_targets(status=locked.status) or (
                allowed_from is not None and locked.status not in allowed_from
            ):
                raise InvalidTransition(locked.status, to_status)
            _apply(
                locked,
                to_status,
                user=user,
                note=note,
                tracking_number=tracking_number,
                carrier=carrier,
            )
    except (PaymentDeclinedError, PaymentUnavailableError) as exc:
        # The rollback discarded the refund attempts' rows; record them again.
        persist_attempts(attempts=exc.attempts)
        raise
    return Order.objects.get(pk=order.pk)


def cancel_order(*, order: Order, user: User | None, note: str = "") -> Order:
    """Cancel ``order`` on behalf of ``user`` (``None``: the guest holding its order token;
    the caller has checked the token) and return it.

    Customers and guests may cancel while ``pending_payment``, ``received`` or ``processing``
    (a pending payment is cancelled at the provider, nothing refunded); staff holding
    ``orders.cancel_order`` until ``fulfilled``.
    Otherwise raises ``InvalidTransition`` (409). Locks and side effects as
    ``transition_order`` (re-checked under the order lock).
    """
    return _transition(
        order=order,
        to_status=S.CANCELLED,
        user=user,
        note=note or "Cancelled.",
        allowed_from=cancellable_statuses(user=user),
    )


def confirm_payment(*, order: Order, note: str) -> Order:
    """Move a ``pending_payment`` order to ``received`` now that the provider confirmed its
    payment, and return it: ``payment_status`` paid, invoice issued, ``order_placed`` sent (the
    confirmation email; a guest's links with its order token), the pending-only fields
    emptied. Locks and event as ``transition_order``; raises ``InvalidTransition`` (409) when
    the order is no longer ``pending_payment``."""
    return _transition(
        order=order,
        to_status=S.RECEIVED,
        user=None,
        note=note,
        allowed_from=frozenset({S.PENDING_PAYMENT}),
    )


def await_payment(*, order: Order, user: User, note: str) -> Order:
    """Move a ``draft`` order to ``pending_payment`` (``payment_status`` pending): its payment
    link was sent. The caller (``orders.drafts.services``) allocated the stock in the same
    transaction. Locks and event as ``transition_order``; raises ``InvalidTransition`` (409)
    when the order is no longer a draft."""
    return _transition(
        order=order,
        to_status=S.PENDING_PAYMENT,
        user=user,
        note=note,
        allowed_from=frozenset({S.DRAFT}),
    )


def confirm_offline_payment(*, order: Order, user: User, note: str) -> Order:
    """Move a ``draft`` or ``pending_payment`` order to ``received`` because staff took its
    payment offline, and return it: as ``confirm_payment`` (paid, invoice, ``order_placed``),
    the event naming ``user``. The caller records the payment and, for a draft, allocates the
    stock in the same transaction. Raises ``InvalidTransition`` (409) from any other status."""
    return _transition(
        order=order,
        to_status=S.RECEIVED,
        user=user,
        note=note,
        allowed_from=frozenset({S.DRAFT, S.PENDING_PAYMENT}),
    )


def cancel_unpaid_order(*, order: Order, note: str) -> Order:
    """Cancel a ``pending_payment`` order whose payment failed or timed out, and return it:
    stock released, the pending payment cancelled at the provider (best effort),
    ``payment_status`` unpaid. Locks and event as ``transition_order``; raises
    ``InvalidTransition`` (409) when the order is no longer ``pending_payment``."""
    return _transition(
        order=order,
        to_status=S.CANCELLED,
        user=None,
        note=note,
        allowed_from=frozenset({S.PENDING_PAYMENT}),
    )
