"""Paying a draft or payment-link order: offline (staff) or through the link (the customer)."""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from orders.checkout.recovery import void_reference
from orders.drafts.services.building import _event, _place_draft
from orders.drafts.services.links import PAYING_SINCE, link_expired
from orders.errors import (
    OrderNotPayable,
    PaymentInProgress,
    PaymentLinkExpired,
)
from orders.lifecycle import confirm_offline_payment, confirm_payment
from orders.models import (
    OFFLINE_GATEWAY,
    OfflinePaymentMethod,
    Order,
    OrderEventType,
    OrderStatus,
    Payment,
    PaymentKind,
    PaymentResult,
)
from orders.payments.confirmation import confirm_if_already_paid
from orders.payments.gateways import PaymentRequiresAction
from orders.payments.services import (
    charge_with_retries,
    refund_with_retries,
    void_pending_payment,
)

logger = logging.getLogger(__name__)


def mark_paid_offline(*, order: Order, method: str, reference: str, user: User) -> Order:
    """Record that the customer paid a draft or link order outside the gateway (bank transfer,
    cash, card terminal) and confirm it.

    In one transaction with the order row locked: a draft is checked, priced and its stock
    allocated (``InsufficientStock`` 409: nothing changes); a link order's pending gateway
    payment is cancelled at the provider (best effort); an ``offline`` charge ``Payment`` is
    recorded for the total with ``method`` and the staff's ``reference``; the order becomes
    ``received``/``paid`` (invoice, ``order_placed``: confirmation email, webhooks) with a
    ``paid_offline`` event naming ``user``. Raises ``ValidationError`` (method, reference) or
    ``OrderNotPayable`` (409) for an order that is paid, cancelled or a checkout's.
    """
    if method not in OfflinePaymentMethod.values:
        raise ValidationError({"method": ["Choose how the customer paid."]})
    reference = str(reference or "").strip()
    if not reference or len(reference) > 128:
        raise ValidationError(
            {"reference": ["Enter the payment's reference (transfer id, receipt number)."]}
        )
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        if locked.status == OrderStatus.DRAFT:
            _place_draft(locked)
        elif locked.status == OrderStatus.PENDING_PAYMENT and locked.payment_link_expires_at:
            void_pending_payment(order=locked)
        else:
            raise OrderNotPayable()
        label = OfflinePaymentMethod(method).label
        Payment.objects.create(
            order=locked,
            reference=locked.number,
            kind=PaymentKind.CHARGE,
            result=PaymentResult.SUCCEEDED,
            amount=locked.total,
            currency=locked.currency,
            gateway=OFFLINE_GATEWAY,
            gateway_transaction_id=reference,
            method=method,
            attempt=Payment.objects.filter(reference=locked.number, kind=PaymentKind.CHARGE).count()
            + 1,
        )
        _event(
            locked,
            user=user,
            type=OrderEventType.PAID_OFFLINE,
            note=f"Paid offline: {locked.total} {locked.currency} by {label.lower()} "
            f"(reference {reference}).",
        )
        confirmed = confirm_offline_payment(
            order=locked, user=user, note=f"Paid offline ({label.lower()})."
        )
    return confirmed


@dataclass(frozen=True)
class PayResult:
    """What paying a link did: the order (``received``, or still ``pending_payment`` when the
    bank wants the customer: ``order.payment_action``), and a guest's order token to keep in
    the browser's session ("" for a member)."""

    order: Order
    order_token: str


def check_payable(*, order: Order) -> None:
    """Raise ``OrderNotPayable`` (409) unless the order waits for its payment link to be paid,
    or ``PaymentLinkExpired`` (410) once the link is over."""
    if order.status != OrderStatus.PENDING_PAYMENT or order.payment_link_expires_at is None:
        raise OrderNotPayable()
    if link_expired(order=order):
        raise PaymentLinkExpired()


def _attempt_reference(order: Order) -> str:
    """The gateway reference of the next charge of a link order: its number, then
    ``<number>-P<n>`` after a declined or abandoned attempt (a provider replays a reference's
    first answer, so another card needs a new one). Two concurrent payments of the same
    attempt share the reference, so the provider charges once."""
    tried = (
        Payment.objects.filter(
            order=order,
            kind=PaymentKind.CHARGE,
            result__in=[PaymentResult.DECLINED, PaymentResult.PENDING],
        )
        .values("reference")
        .distinct()
        .count()
    )
    return order.number if tried == 0 else f"{order.number}-P{tried + 1}"


def _claim_payment(order: Order) -> None:
    """Mark the (locked) order as being paid now, or raise ``PaymentInProgress`` (409) while
    another payment of it runs (a second tab, a double click): one charge attempt at a time,
    so each attempt is recorded once. A claim older than ``SHOP_IDEMPOTENCY_LEASE_SECONDS``
    (its request died) is taken over."""
    now = timezone.now()
    since = order.payment_action.get(PAYING_SINCE)
    lease = timedelta(seconds=int(getattr(settings, "SHOP_IDEMPOTENCY_LEASE_SECONDS", 120)))
    if since and now - datetime.fromisoformat(since) < lease:
        raise PaymentInProgress()
    order.payment_action = {PAYING_SINCE: now.isoformat()}
    order.save(update_fields=["payment_action", "updated_at"])


def _release_claim(order: Order) -> None:
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        if PAYING_SINCE in locked.payment_action:
            locked.payment_action = {}
            locked.save(update_fields=["payment_action", "updated_at"])


def pay_order(*, order: Order, payment_token: str) -> PayResult:
    """Charge a link order's total with the customer's ``payment_token`` and confirm it.

    1. With the order row locked: check it is payable (``OrderNotPayable`` 409,
       ``PaymentLinkExpired`` 410), claim it for this payment (``PaymentInProgress`` 409 while
       another one runs) and choose the attempt's reference. Commit.
    2. Charge through the gateway with retries, outside any transaction (every attempt's
       ``Payment`` row commits at once). A decline raises ``PaymentDeclinedError`` (402) and
       the order keeps waiting (the customer may try another card);
       ``PaymentUnavailableError`` (503) likewise. When the bank wants the customer (3-D
       Secure) the order stays ``pending_payment`` with ``payment_action`` set, and the
       provider's webhook confirms it (``orders.payments.confirmation``).
    3. With the order row locked again: confirm it (``received``/``paid``, invoice,
       confirmation email). If it was paid meanwhile by this same charge it is returned as
       it is; if it was cancelled meanwhile (the link expired) or paid otherwise (staff marked
       it paid offline), this charge is refunded and ``OrderNotPayable`` raised.
    """
    if not isinstance(payment_token, str) or not payment_token.strip() or len(payment_token) > 255:
        raise ValidationError({"payment_token": ["Choose how to pay."]})
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        check_payable(order=locked)
        _claim_payment(locked)
        reference = _attempt_reference(locked)
        token = locked.pending_order_token
    try:
        charge = charge_with_retries(
            amount=locked.total,
            currency=locked.currency,
            token=payment_token.strip(),
            reference=reference,
            order=locked,
        )
    except PaymentRequiresAction as exc:
        with transaction.atomic():
            waiting = Order.objects.select_for_update().get(pk=order.pk)
            if waiting.status == OrderStatus.PENDING_PAYMENT:
                waiting.payment_action = {
                    "client_secret": exc.client_secret,
                    "next_action": exc.next_action,
                }
                waiting.save(update_fields=["payment_action", "updated_at"])
        confirmed = confirm_if_already_paid(order=waiting)
        return PayResult(order=confirmed or waiting, order_token=token)
    except BaseException:
        _release_claim(locked)
        raise
    with transaction.atomic():
        paid = Order.objects.select_for_update().get(pk=order.pk)
        if paid.status == OrderStatus.PENDING_PAYMENT:
            paid = confirm_payment(
                order=paid,
                note=f"Paid through the payment link: {charge.amount} {charge.currency} "
                f"({charge.charge_id}).",
            )
            return PayResult(order=paid, order_token=token)
        paid_otherwise = (
            Payment.objects.filter(
                order=paid, kind=PaymentKind.CHARGE, result=PaymentResult.SUCCEEDED
            )
            .exclude(gateway_transaction_id=charge.charge_id)
            .exists()
        )
        if paid.is_paid and not paid_otherwise:
            return PayResult(order=paid, order_token=token)
        refund_with_retries(
            amount=charge.amount,
            currency=charge.currency,
            charge_id=charge.charge_id,
            reference=void_reference(number=reference),
            order=paid,
        )
        _event(
            paid,
            user=None,
            type=OrderEventType.REFUND_ISSUED,
            note=f"A payment ({charge.charge_id}) arrived after the order was "
            f"{'paid otherwise' if paid.is_paid else 'cancelled'}; refunded "
            f"{charge.amount} {charge.currency}.",
        )
    if paid.is_paid:
        raise OrderNotPayable("This order was already paid; this payment was refunded.")
    raise OrderNotPayable("This order was cancelled; your payment was refunded.")
