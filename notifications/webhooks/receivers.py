"""Turn domain signals into webhook events in the outbox (connected in ``apps.py``).

Like the email receivers (``notifications.receivers``), these run inside the transaction of
the change, so the delivery rows commit with it or not at all; their errors roll it back.
"""

from django.dispatch import receiver

from catalog.models import Product
from catalog.signals import product_updated
from inventory.models import StockItem
from inventory.signals import stock_low
from notifications.webhooks.models import WebhookEndpoint, WebhookEventType
from notifications.webhooks.payloads import order_data, product_data, stock_low_data
from notifications.webhooks.services import record_event
from orders.models import Order, OrderStatus
from orders.signals import order_placed, order_status_changed, refund_issued

STATUS_EVENTS = {
    OrderStatus.CANCELLED: WebhookEventType.ORDER_CANCELLED,
    OrderStatus.SHIPPED: WebhookEventType.ORDER_SHIPPED,
    OrderStatus.DELIVERED: WebhookEventType.ORDER_DELIVERED,
}


def _subscribed(*event_types: str) -> bool:
    """Return whether any active endpoint wants one of ``event_types`` (skip building data)."""
    return any(
        event in events
        for events in WebhookEndpoint.objects.filter(is_active=True).values_list(
            "events", flat=True
        )
        for event in event_types
    )


def _order(order_id: int) -> Order:
    return Order.objects.prefetch_related("lines", "shipments").get(pk=order_id)


@receiver(order_placed, dispatch_uid="webhooks.order_placed")
def on_order_placed(sender, *, order_id: int, **kwargs) -> None:
    if not _subscribed(WebhookEventType.ORDER_CREATED, WebhookEventType.ORDER_PAID):
        return
    data = order_data(_order(order_id))
    record_event(
        event_type=WebhookEventType.ORDER_CREATED, data=data, key=f"order.created:{order_id}"
    )
    # Checkout charges before it writes the order: a placed order is a paid one.
    record_event(event_type=WebhookEventType.ORDER_PAID, data=data, key=f"order.paid:{order_id}")


@receiver(order_status_changed, dispatch_uid="webhooks.order_status_changed")
def on_order_status_changed(
    sender, *, order_id: int, to_status: str, refund_amount: str | None = None, **kwargs
) -> None:
    if kwargs.get("from_status") == OrderStatus.DRAFT:
        return  # a draft was never announced (order.created comes when it is paid)
    event_type = STATUS_EVENTS.get(OrderStatus(to_status))
    if event_type is None or not _subscribed(event_type, WebhookEventType.ORDER_REFUNDED):
        return
    data = order_data(_order(order_id))
    record_event(event_type=event_type, data=data, key=f"{event_type}:{order_id}")
    if to_status == OrderStatus.CANCELLED and refund_amount and float(refund_amount) > 0:
        record_event(
            event_type=WebhookEventType.ORDER_REFUNDED,
            data={**data, "refund": {"amount": refund_amount, "reason": "cancelled"}},
            key=f"order.refunded:cancel:{order_id}",
        )


@receiver(refund_issued, dispatch_uid="webhooks.refund_issued")
def on_refund_issued(
    sender, *, order_id: int, amount: str, return_id: int | None = None, **kwargs
) -> None:
    if not _subscribed(WebhookEventType.ORDER_REFUNDED):
        return
    refund_id = kwargs.get("refund_id")
    key = f"return:{return_id}" if return_id else f"refund:{refund_id}"
    refund = {"amount": str(amount), "reason": kwargs.get("reason") or "return"}
    if return_id:
        refund["return_id"] = return_id
    record_event(
        event_type=WebhookEventType.ORDER_REFUNDED,
        data={**order_data(_order(order_id)), "refund": refund},
        key=f"order.refunded:{key}",
    )


@receiver(product_updated, dispatch_uid="webhooks.product_updated")
def on_product_updated(sender, *, product_id: int, **kwargs) -> None:
    if not _subscribed(WebhookEventType.PRODUCT_UPDATED):
        return
    product = (
        Product.objects.select_related("category").prefetch_related("variants").get(pk=product_id)
    )
    record_event(event_type=WebhookEventType.PRODUCT_UPDATED, data=product_data(product))


@receiver(stock_low, dispatch_uid="webhooks.stock_low")
def on_stock_low(sender, *, stock_item_id: int, available: int, **kwargs) -> None:
    if not _subscribed(WebhookEventType.STOCK_LOW):
        return
    item = StockItem.objects.select_related("variant__product").get(pk=stock_item_id)
    record_event(
        event_type=WebhookEventType.STOCK_LOW, data=stock_low_data(item, available=available)
    )
