"""Handling a payment provider's webhook events, each event id once.

The provider's adapter verifies and parses the request (``PaymentGateway.parse_webhook``);
``handle_event`` stores the event as a ``PaymentEvent`` (unique per provider and event id, so a
redelivery does nothing) and applies it to the order it names (``orders.payments.confirmation``).
"""

from django.db import IntegrityError, transaction

from orders.models import Order, Payment, PaymentEvent
from orders.payments.confirmation import DISPUTED, FAILED, REFUNDED, SUCCEEDED, apply_event
from orders.payments.gateways import WebhookEvent

#: The events the shop acts on; any other is stored and ignored.
HANDLED = {SUCCEEDED, FAILED, REFUNDED, DISPUTED}


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


def handle_event(*, provider: str, event: WebhookEvent) -> tuple[PaymentEvent, bool]:
    """Handle a verified provider event once; return ``(row, handled_now)``.

    Stores the event and applies it (``confirmation.apply_event``: confirm, cancel, record a
    refund or a dispute) in one transaction, so an event counts as handled exactly when its
    effects commit; if applying fails, nothing is stored and the provider's redelivery tries
    again. A repeat of an event id already stored returns that row with ``handled_now=False``
    and changes nothing (two deliveries racing: the unique constraint keeps one, the other
    waits for it and then finds it).
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
                payload=event.data,
            )
            outcome = apply_event(event=event, order=order) if event.type in HANDLED else "ignored"
            row.outcome = outcome[:255]
            row.save(update_fields=["outcome"])
    except IntegrityError:
        return PaymentEvent.objects.get(provider=provider, event_id=event.id), False
    return row, True
