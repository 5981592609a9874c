"""Handling a payment provider's webhook events, each event id once.

The provider's adapter verifies and parses the request (``PaymentGateway.parse_webhook``);
``handle_event`` stores the event as a ``PaymentEvent`` (unique per provider and event id, so a
redelivery does nothing) and records what it means for the order it names.
"""

import logging

from django.db import IntegrityError, transaction

from orders.models import Order, Payment, PaymentEvent
from orders.payments.gateways import WebhookEvent

logger = logging.getLogger(__name__)

#: The events the shop acts on; any other is stored and ignored.
HANDLED = {
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "charge.refunded",
    "charge.dispute.created",
}


def order_of(*, event: WebhookEvent) -> Order | None:
    """Return the order an event is about: by our reference (the order number the charge
    carried), else by the provider's payment id recorded on one of our ``Payment`` rows."""
    if event.reference:
        order = Order.objects.filter(number=event.reference).first()
        if order is not None:
            return order
    if event.charge_id:
        payment = (
            Payment.objects.filter(gateway_transaction_id=event.charge_id, order__isnull=False)
            .select_related("order")
            .first()
        )
        if payment is not None:
            return payment.order
    return None


def _outcome(*, event: WebhookEvent, order: Order | None) -> str:
    """Say what the event means for the shop (stored with it; disputes are also logged)."""
    if event.type not in HANDLED:
        return "ignored"
    name = f"order {order.number}" if order else "no order"
    if event.type == "payment_intent.succeeded":
        if order is None:
            # A charge whose checkout never finished: the stale-checkout recovery refunds it
            # by its reference.
            return f"payment succeeded for {event.reference or event.charge_id}: no order"
        return f"payment succeeded: {name} ({order.payment_status})"
    if event.type == "payment_intent.payment_failed":
        return f"payment failed: {name}"
    if event.type == "charge.refunded":
        refunded = order.refunded_total if order else None
        return f"refunded {event.amount} {event.currency} in total: {name} (ours: {refunded})"
    logger.warning(
        "Payment dispute opened on %s (%s %s, %s): respond in the provider's dashboard",
        name,
        event.amount,
        event.currency,
        event.charge_id,
    )
    return f"dispute opened: {name}"


def handle_event(*, provider: str, event: WebhookEvent) -> tuple[PaymentEvent, bool]:
    """Record a verified provider event once; return ``(row, handled_now)``.

    A repeat of an event id already stored returns that row with ``handled_now=False`` and
    changes nothing (also when two deliveries race: the unique constraint keeps one).
    """
    stored = PaymentEvent.objects.filter(provider=provider, event_id=event.id).first()
    if stored is not None:
        return stored, False
    order = order_of(event=event)
    try:
        with transaction.atomic():
            row = PaymentEvent.objects.create(
                provider=provider,
                event_id=event.id,
                type=event.type,
                order=order,
                reference=event.reference or (order.number if order else ""),
                gateway_transaction_id=event.charge_id,
                amount=event.amount,
                currency=event.currency,
                outcome=_outcome(event=event, order=order)[:255],
                payload=event.data,
            )
    except IntegrityError:
        return PaymentEvent.objects.get(provider=provider, event_id=event.id), False
    return row, True
