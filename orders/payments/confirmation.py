"""Payments confirmed later: what the provider's answers do to orders.

An order whose payment waits for the customer (3-D Secure) is written ``pending_payment``
(``orders.checkout.services``). It leaves that state by one of:

* the provider's ``payment_intent.succeeded`` webhook: ``received``/``paid``, the invoice and
  the confirmation email (``lifecycle.confirm_payment``);
* its ``payment_intent.payment_failed`` webhook: ``cancelled``, stock released (a payment
  link's order keeps waiting while its link works: the customer may try another card);
* ``cancel_expired_payments`` (cron) after ``SHOP_PAYMENT_TIMEOUT`` seconds (a draft order
  sent as a payment link, ``orders.drafts``: once its link expired): the provider is
  asked first (a payment that succeeded without its webhook confirms the order), otherwise the
  order is cancelled, its stock released and the pending payment cancelled at the provider.

The webhook may arrive before the order is written (stored without an order: the checkout
confirms at once, ``confirm_if_already_paid``), after it (acted on), twice (each event id is
handled once, ``orders.payments.webhooks``) or after the order was cancelled (the late
payment is refunded). Every decision is taken with the order row locked.
"""

import logging
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from orders.checkout.recovery import void_reference
from orders.errors import InvalidTransition
from orders.lifecycle import cancel_unpaid_order, confirm_payment
from orders.models import (
    Order,
    OrderEvent,
    OrderEventType,
    OrderStatus,
    Payment,
    PaymentEvent,
    PaymentKind,
    PaymentResult,
    PaymentStatus,
)
from orders.payments.gateways import (
    ChargeResult,
    TransientPaymentError,
    WebhookEvent,
    get_gateway,
)
from orders.payments.refunds import record_provider_refund
from orders.payments.services import pending_charge_id, refund_with_retries
from orders.signals import payment_disputed

logger = logging.getLogger(__name__)

SUCCEEDED = "payment_intent.succeeded"
FAILED = "payment_intent.payment_failed"
REFUNDED = "charge.refunded"
DISPUTED = "charge.dispute.created"


def payment_timeout() -> timedelta:
    """Return how long an order may wait in ``pending_payment`` (``SHOP_PAYMENT_TIMEOUT``)."""
    return timedelta(seconds=int(getattr(settings, "SHOP_PAYMENT_TIMEOUT", 1800)))


def _record_charge(*, order: Order, charge_id: str, amount: Decimal, currency: str) -> Payment:
    """Record the provider's confirmation of the order's charge as a new ``Payment`` row (the
    pending row stays as it was: financial records are never edited); return it."""
    attempts = Payment.objects.filter(reference=order.number, kind=PaymentKind.CHARGE).count()
    gateway = get_gateway()
    return Payment.objects.create(
        order=order,
        reference=order.number,
        kind=PaymentKind.CHARGE,
        result=PaymentResult.SUCCEEDED,
        amount=amount,
        currency=currency,
        gateway=gateway.name,
        gateway_transaction_id=charge_id,
        attempt=attempts + 1,
    )


def _paid(*, order: Order, charge_id: str, amount: Decimal | None, currency: str) -> str:
    """The provider took the money for ``order`` (locked by the caller): confirm it, refund a
    payment that came after the order was cancelled, or do nothing when already paid."""
    if order.status == OrderStatus.PENDING_PAYMENT:
        _record_charge(
            order=order,
            charge_id=charge_id or pending_charge_id(order=order),
            amount=order.total if amount is None else amount,
            currency=currency or order.currency,
        )
        confirm_payment(order=order, note=f"Payment confirmed by the provider ({charge_id}).")
        return f"payment confirmed: order {order.number} received"
    if order.status == OrderStatus.CANCELLED and order.payment_status == PaymentStatus.UNPAID:
        reference = void_reference(number=order.number)
        if Payment.objects.filter(
            reference=reference, kind=PaymentKind.REFUND, result=PaymentResult.SUCCEEDED
        ).exists():
            return f"late payment already refunded: order {order.number}"
        amount = order.total if amount is None else amount
        currency = currency or order.currency
        charge = _record_charge(order=order, charge_id=charge_id, amount=amount, currency=currency)
        refund_with_retries(
            amount=amount,
            currency=currency,
            charge_id=charge_id,
            reference=reference,
            order=order,
            charge=charge,
        )
        OrderEvent.objects.create(
            order=order,
            type=OrderEventType.REFUND_ISSUED,
            note=f"The payment ({charge_id}) arrived after the order was cancelled; refunded "
            f"{amount} {currency}.",
        )
        return f"late payment refunded: order {order.number} was cancelled"
    return f"payment succeeded: order {order.number} ({order.payment_status})"


def _failed(*, order: Order, event: WebhookEvent) -> str:
    if order.status != OrderStatus.PENDING_PAYMENT:
        return f"payment failed: order {order.number} ({order.status})"
    error = event.data.get("last_payment_error") or {}
    message = str(error.get("message") or "The payment failed.")
    Payment.objects.create(
        order=order,
        reference=order.number,
        kind=PaymentKind.CHARGE,
        result=PaymentResult.DECLINED,
        amount=order.total,
        currency=order.currency,
        gateway=get_gateway().name,
        gateway_transaction_id=event.charge_id,
        attempt=Payment.objects.filter(reference=order.number, kind=PaymentKind.CHARGE).count() + 1,
        error=message[:255],
    )
    expires = order.payment_link_expires_at
    if expires is not None and timezone.now() < expires:
        # A draft's payment link: the customer may try another card until the link expires.
        order.payment_action = {}
        order.save(update_fields=["payment_action", "updated_at"])
        return f"payment failed: order {order.number} waits for its payment link"
    cancel_unpaid_order(order=order, note=f"Payment failed: {message}")
    return f"payment failed: order {order.number} cancelled"


def _disputed(*, order: Order, event: WebhookEvent) -> str:
    reason = str(event.data.get("reason") or "unknown")
    OrderEvent.objects.create(
        order=order,
        type=OrderEventType.DISPUTE_OPENED,
        # Shown on the customer's timeline too; what staff must do is in their email.
        note=f"Payment of {event.amount} {event.currency} disputed with the bank "
        f"(reason: {reason}).",
    )
    payment_disputed.send(
        sender=Order,
        order_id=order.pk,
        amount=f"{event.amount or order.total:.2f}",
        currency=event.currency or order.currency,
        reason=reason,
        dispute_id=str(event.data.get("id") or ""),
    )
    return f"dispute opened: order {order.number}"


def apply_event(*, event: WebhookEvent, order: Order | None) -> str:
    """Apply a verified provider event to the order it names and return what was done.

    Call inside the transaction that stores the event (``webhooks.handle_event``), so the event
    counts as handled exactly when its effects commit. Locks the order row
    (``select_for_update``) first, then the stock rows through the lifecycle. Raises the
    refund's ``PaymentDeclinedError``/``PaymentUnavailableError`` (the transaction rolls back
    and the provider delivers the event again).
    """
    if order is None:
        if event.type == SUCCEEDED:
            # A charge whose order is not written: the checkout confirms it when it writes the
            # order (pending), or the stale-checkout recovery finds it by its reference.
            return f"payment succeeded for {event.reference or event.charge_id}: no order"
        if event.type == DISPUTED:
            logger.warning("Dispute %s on a payment without an order", event.charge_id)
        words = {FAILED: "payment failed", REFUNDED: "refunded", DISPUTED: "dispute opened"}
        return f"{words.get(event.type, event.type)}: no order"
    order = Order.objects.select_for_update().get(pk=order.pk)
    if event.type == SUCCEEDED:
        return _paid(
            order=order, charge_id=event.charge_id, amount=event.amount, currency=event.currency
        )
    if event.type == FAILED:
        return _failed(order=order, event=event)
    if event.type == REFUNDED:
        refunds = (event.data.get("refunds") or {}).get("data") or [{}]
        amount = (
            record_provider_refund(
                order=order,
                refunded_total=event.amount,
                transaction_id=str(refunds[0].get("id") or event.data.get("id") or ""),
                charge_id=event.charge_id,
            )
            if event.amount is not None
            else Decimal("0.00")
        )
        if not amount:
            return f"refunds already recorded: order {order.number} ({order.refunded_total})"
        return f"refund of {amount} recorded: order {order.number} ({order.payment_status})"
    logger.warning(
        "Payment dispute opened on order %s (%s %s, %s): respond in the provider's dashboard",
        order.number,
        event.amount,
        event.currency,
        event.charge_id,
    )
    return _disputed(order=order, event=event)


def confirm_if_already_paid(*, order: Order) -> Order | None:
    """Confirm a just-written ``pending_payment`` order whose success webhook came first
    (stored without an order); return the confirmed order, or None when there is none."""
    intent_id = pending_charge_id(order=order)
    early = (
        PaymentEvent.objects.filter(type=SUCCEEDED, order__isnull=True)
        .filter(reference=order.number)
        .first()
    ) or (
        PaymentEvent.objects.filter(
            type=SUCCEEDED, order__isnull=True, gateway_transaction_id=intent_id
        ).first()
        if intent_id
        else None
    )
    if early is None:
        return None
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        if locked.status != OrderStatus.PENDING_PAYMENT:
            return None
        _paid(
            order=locked,
            charge_id=early.gateway_transaction_id or intent_id,
            amount=early.amount,
            currency=early.currency,
        )
    return Order.objects.get(pk=order.pk)


def _settle_expired(order: Order) -> str:
    """Confirm ``order`` if the provider took its money after all, else cancel it."""
    # A payment link's later attempts carry their own references (``<number>-P<n>``).
    references = [order.number] + sorted(
        set(
            Payment.objects.filter(order=order, kind=PaymentKind.CHARGE)
            .exclude(reference=order.number)
            .values_list("reference", flat=True)
        )
    )
    charge: ChargeResult | None = None
    try:
        for reference in references:
            charge = get_gateway().lookup(reference=reference)
            if charge is not None:
                break
    except TransientPaymentError:
        logger.warning("Could not ask the provider about %s; will retry", order.number)
        return ""
    try:
        with transaction.atomic():
            locked = Order.objects.select_for_update().get(pk=order.pk)
            if locked.status != OrderStatus.PENDING_PAYMENT:
                return ""
            if charge is not None:
                _paid(
                    order=locked,
                    charge_id=charge.charge_id,
                    amount=charge.amount,
                    currency=charge.currency,
                )
                return f"{order.number} confirmed"
            cancel_unpaid_order(
                order=locked,
                note=(
                    "The payment link expired."
                    if locked.payment_link_expires_at
                    else f"Payment not completed within {int(payment_timeout().total_seconds())} s."
                ),
            )
    except InvalidTransition:
        return ""
    return f"{order.number} cancelled"


def cancel_expired_payments(*, now: datetime | None = None) -> list[str]:
    """Settle every order waiting in ``pending_payment`` longer than ``SHOP_PAYMENT_TIMEOUT``
    (a draft order's payment link: once the link has expired);
    return what was done, one line per order (``"<number> cancelled"`` or ``"... confirmed"``).

    For each, outside any transaction, ask the provider (``gateway.lookup``) whether the money
    was taken after all; then, in one transaction with the order row locked (re-checked still
    pending): confirm it, or cancel it (stock released, the pending payment cancelled at the
    provider, ``payment_status`` unpaid). Idempotent and safe to overlap: a settled order is
    no longer pending; an order the provider cannot be asked about now is left for the next
    run.
    """
    now = now or timezone.now()
    cutoff = now - payment_timeout()
    # A draft order's payment link waits until the link expires (``SHOP_PAYMENT_LINK_DAYS``).
    expired = Order.objects.filter(
        Q(payment_link_expires_at__isnull=True, created_at__lte=cutoff)
        | Q(payment_link_expires_at__lte=now),
        status=OrderStatus.PENDING_PAYMENT,
    ).order_by("pk")
    done = [_settle_expired(order) for order in expired]
    return [line for line in done if line]
