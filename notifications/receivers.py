"""Signal receivers: turn domain events into Notification rows (the transactional outbox).

The emitting apps send their signals synchronously *inside* the transaction that makes the
change (``accounts.signals``, ``orders.signals``, ``inventory.signals``). A receiver reads
that transaction's own writes on the same connection and records the email in the same
transaction, so the row commits together with the order, account or stock change, or not at
all: a rolled-back change leaves no email behind, and a committed one always has its row.
Only delivery waits for the commit (``create_notification`` queues it with
``transaction.on_commit``). A receiver lets its errors propagate on purpose: failing to record
an email rolls the business change back (checkout then refunds the charge), because a
committed order whose confirmation can never be sent is what the outbox exists to prevent.
"""

import hashlib
import logging

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Prefetch
from django.dispatch import receiver

from accounts.signals import password_reset_requested, user_registered
from cart.models import Cart
from cart.signals import cart_abandoned
from catalog.models import Review, StockAlert
from catalog.signals import back_in_stock, review_submitted
from inventory.models import StockItem
from inventory.signals import stock_low
from notifications import contexts
from notifications.models import Notification, NotificationKind
from notifications.selectors import staff_recipients
from notifications.services import create_notification
from orders.drafts.services import link_version
from orders.models import Order, OrderStatus, ReturnLine, ReturnRequest
from orders.returns.services import return_address_lines
from orders.selectors import lines_with_images
from orders.signals import (
    order_placed,
    order_status_changed,
    payment_disputed,
    payment_link_sent,
    refund_issued,
    return_rejected,
    return_requested,
)

logger = logging.getLogger(__name__)


@receiver(user_registered, dispatch_uid="notifications.welcome")
def on_user_registered(sender, *, user_id: int, **kwargs) -> None:
    user = get_user_model().objects.get(pk=user_id)
    create_notification(
        kind=NotificationKind.WELCOME,
        recipient=user.email,
        context=contexts.welcome_context(user),
        event_key=f"welcome:{user.pk}",
    )


@receiver(password_reset_requested, dispatch_uid="notifications.password_reset")
def on_password_reset_requested(
    sender, *, user_id: int, uid: str, token: str, reset_url: str, **kwargs
) -> None:
    user = get_user_model().objects.get(pk=user_id)
    # The key names the request without storing the token itself.
    digest = hashlib.sha256(f"{uid}:{token}".encode()).hexdigest()[:32]
    create_notification(
        kind=NotificationKind.PASSWORD_RESET,
        recipient=user.email,
        context=contexts.password_reset_context(user, reset_url=reset_url),
        event_key=f"password_reset:{user.pk}:{digest}",
    )


@receiver(order_placed, dispatch_uid="notifications.order_placed")
def on_order_placed(sender, *, order_id: int, order_token: str | None = None, **kwargs) -> None:
    order = Order.objects.prefetch_related(Prefetch("lines", lines_with_images())).get(pk=order_id)
    create_notification(
        kind=NotificationKind.ORDER_CONFIRMATION,
        recipient=order.email,
        context=contexts.order_confirmation_context(order, order_token=order_token),
        event_key=f"order_placed:{order.pk}",
    )


@receiver(order_status_changed, dispatch_uid="notifications.order_status_changed")
def on_order_status_changed(
    sender, *, order_id: int, to_status: str, from_status: str = "", refund_amount=None, **kwargs
) -> None:
    if to_status == OrderStatus.SHIPPED:
        order = Order.objects.prefetch_related(
            "shipments", Prefetch("lines", lines_with_images())
        ).get(pk=order_id)
        create_notification(
            kind=NotificationKind.ORDER_SHIPPED,
            recipient=order.email,
            context=contexts.order_shipped_context(order),
            event_key=f"order_shipped:{order.pk}",
        )
    elif to_status == OrderStatus.CANCELLED and from_status not in (
        OrderStatus.PENDING_PAYMENT,
        OrderStatus.DRAFT,
    ):
        # An order cancelled while its payment was pending (or still a draft) was never
        # confirmed to the customer (no confirmation email), so no cancellation email either.
        order = Order.objects.get(pk=order_id)
        create_notification(
            kind=NotificationKind.ORDER_CANCELLED,
            recipient=order.email,
            context=contexts.order_cancelled_context(order, refund_amount=refund_amount),
            event_key=f"order_cancelled:{order.pk}",
        )


@receiver(payment_link_sent, dispatch_uid="notifications.payment_link_sent")
def on_payment_link_sent(sender, *, order_id: int, pay_url: str, **kwargs) -> None:
    order = Order.objects.prefetch_related(Prefetch("lines", lines_with_images())).get(pk=order_id)
    create_notification(
        kind=NotificationKind.PAYMENT_LINK,
        recipient=order.email,
        context=contexts.payment_link_context(order, pay_url=contexts.absolute_url(pay_url)),
        # One email per link sent (a link sent again is a new version).
        event_key=f"payment_link:{order.pk}:{link_version(order=order)}",
    )


@receiver(refund_issued, dispatch_uid="notifications.refund_issued")
def on_refund_issued(
    sender, *, order_id: int, return_id: int | None, amount, reason: str = "", **kwargs
) -> None:
    order = Order.objects.get(pk=order_id)
    # A return's refund, or a goodwill refund (no return; ``refund_id`` names it).
    key = f"refund:{return_id}" if return_id else f"refund:goodwill:{kwargs['refund_id']}"
    create_notification(
        kind=NotificationKind.REFUND_ISSUED,
        recipient=order.email,
        context=contexts.refund_issued_context(
            order, return_id=return_id, amount=amount, reason=reason
        ),
        event_key=key,
    )


@receiver(return_requested, dispatch_uid="notifications.return_requested")
def on_return_requested(sender, *, order_id: int, return_id: int, **kwargs) -> None:
    return_request = (
        ReturnRequest.objects.select_related("order")
        .prefetch_related(
            Prefetch("lines", queryset=ReturnLine.objects.select_related("order_line"))
        )
        .get(pk=return_id, order_id=order_id)
    )
    create_notification(
        kind=NotificationKind.RETURN_REQUESTED,
        recipient=return_request.order.email,
        context=contexts.return_requested_context(
            return_request, address_lines=return_address_lines()
        ),
        event_key=f"return_requested:{return_id}",
    )


@receiver(payment_disputed, dispatch_uid="notifications.payment_disputed")
def on_payment_disputed(
    sender, *, order_id: int, amount: str, currency: str, reason: str, dispute_id: str, **kwargs
) -> None:
    order = Order.objects.get(pk=order_id)
    context = contexts.payment_disputed_context(
        order, amount=amount, currency=currency, reason=reason, dispute_id=dispute_id
    )
    recipients = staff_recipients()
    if not recipients:
        logger.warning("Payment of %s disputed but no staff to alert", order.number)
    for email in recipients:
        create_notification(
            kind=NotificationKind.PAYMENT_DISPUTED,
            recipient=email,
            context=context,
            event_key=f"dispute:{order.pk}:{dispute_id}:{email.lower()}",
        )


@receiver(return_rejected, dispatch_uid="notifications.return_rejected")
def on_return_rejected(sender, *, order_id: int, return_id: int, reason: str, **kwargs) -> None:
    order = Order.objects.get(pk=order_id)
    create_notification(
        kind=NotificationKind.RETURN_REJECTED,
        recipient=order.email,
        context=contexts.return_rejected_context(order, return_id=return_id, reason=reason),
        event_key=f"return_rejected:{return_id}",
    )


def _next_low_stock_episode(stock_item_id: int) -> int:
    """Number the alerts of one SKU: inventory alerts once per dip below the threshold."""
    prefix = f"low_stock:{stock_item_id}:"
    keys = Notification.objects.filter(event_key__startswith=prefix).values_list(
        "event_key", flat=True
    )
    episodes = [int(key[len(prefix) :].split(":", 1)[0]) for key in keys]
    return max(episodes, default=0) + 1


@receiver(stock_low, dispatch_uid="notifications.stock_low")
def on_stock_low(sender, *, stock_item_id: int, sku: str, available: int, **kwargs) -> None:
    item = StockItem.objects.select_related("variant__product").get(pk=stock_item_id)
    context = contexts.low_stock_context(item, sku=sku, available=available)
    recipients = staff_recipients()
    if not recipients:
        logger.warning("Low stock of %s but no staff to alert (set SHOP_STAFF_EMAILS)", sku)
    with transaction.atomic():
        episode = _next_low_stock_episode(item.pk)
        for email in recipients:
            create_notification(
                kind=NotificationKind.LOW_STOCK,
                recipient=email,
                context=context,
                event_key=f"low_stock:{item.pk}:{episode}:{email.lower()}",
            )


@receiver(review_submitted, dispatch_uid="notifications.review_submitted")
def on_review_submitted(sender, *, review_id: int, **kwargs) -> None:
    review = Review.objects.select_related("product").get(pk=review_id)
    context = contexts.review_pending_context(review)
    for email in staff_recipients():
        create_notification(
            kind=NotificationKind.REVIEW_PENDING,
            recipient=email,
            context=context,
            event_key=f"review_pending:{review.pk}:{email.lower()}",
        )


@receiver(back_in_stock, dispatch_uid="notifications.back_in_stock")
def on_back_in_stock(sender, *, alert_ids: list[int], **kwargs) -> None:
    alerts = StockAlert.objects.filter(pk__in=alert_ids).select_related("variant__product")
    for alert in alerts.order_by("pk"):
        create_notification(
            kind=NotificationKind.BACK_IN_STOCK,
            recipient=alert.email,
            context=contexts.back_in_stock_context(alert),
            event_key=f"back_in_stock:{alert.pk}",
        )


@receiver(cart_abandoned, dispatch_uid="notifications.cart_abandoned")
def on_cart_abandoned(sender, *, reminders: list[dict], **kwargs) -> None:
    carts = Cart.objects.prefetch_related("lines__variant__product").in_bulk(
        [item["cart_id"] for item in reminders]
    )
    for item in reminders:
        cart = carts.get(item["cart_id"])
        if cart is None:
            continue
        create_notification(
            kind=NotificationKind.CART_REMINDER,
            recipient=item["email"],
            context=contexts.cart_reminder_context(cart, opt_out_token=item["opt_out_token"]),
            event_key=f"cart_reminder:{cart.pk}",
        )
