"""Undo stale checkouts: those whose process died between *prepare* and *finalize*.

A dead checkout leaves its cart in checkout (``checkout_order_number`` = the order number),
the cart lines' stock allocated, and perhaps a successful charge: recorded as a ``Payment``
row with that reference and no order, or, if the process died while the provider answered,
known only to the provider (found with ``gateway.lookup(reference=...)``: Stripe searches its
PaymentIntents by ``metadata.order_number``, the mock reads its ledger). Recovering it refunds
the charge, gives the allocation back and ends the cart's checkout (``cart.checkout.end_checkout``); if the order was in fact
written, it only completes the checkout (``cart.checkout.complete_checkout``: cart
``ordered``).

What was allocated is exactly the cart's lines: ``_prepare`` allocates them in the same
transaction that starts the checkout, and every cart service (``cart.services.lock_cart``)
refuses line changes while the cart is in checkout, stale or not, until this recovery ran.

Three ways in: the cron sweep ``recover_stale_checkouts``; ``recover_stale_checkout``, which
``OrdersConfig.ready()`` registers with the cart (``cart.checkout``) so that ``lock_cart``
runs it when a shopper touches a cart whose checkout is stale; and ``recover_checkout``, for
one checkout whose request is known dead before it is stale (its Idempotency-Key lease ran
out, ``orders.checkout.idempotency``).

Locks: the cart row first (``select_for_update``; ``skip_locked`` in the cron sweep, through
``cart.checkout.lock_stale_checkout``, so two runs, or a checkout still finalizing, are passed
over), then the stock rows inside ``inventory.deallocate``, the same order as checkout.
``checkout._abort`` and ``checkout._finalize`` lock the cart row too and stand down once its
checkout has ended, so a slow rather than dead checkout cannot deallocate twice or write an
order for refunded money.
"""

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from cart.checkout import (
    CHECKOUT_TIMEOUT,
    complete_checkout,
    end_checkout,
    lock_stale_checkout,
    stale_checkouts,
)
from cart.models import Cart
from cart.pricing.services import release_voucher_use
from cart.selectors import cart_lines
from inventory import services as inventory
from inventory.services import StockLine
from orders.errors import PaymentDeclinedError, PaymentUnavailableError
from orders.models import Order, Payment, PaymentKind, PaymentResult
from orders.payments.gateways import (
    ChargeResult,
    PaymentDeclined,
    TransientPaymentError,
    get_gateway,
)
from orders.payments.services import persist_attempts, refund_with_retries

logger = logging.getLogger(__name__)


# How far back ``refund_unanswered_charges`` looks for charges whose every attempt failed.
UNANSWERED_WINDOW = timedelta(hours=24)


def void_reference(*, number: str) -> str:
    """Return the idempotency reference refunding the charge of a checkout that failed."""
    return f"{number}-void"


def _orphan_charge(number: str) -> ChargeResult | None:
    """Return the successful charge of checkout ``number``: the one recorded, else the one
    the provider has under the reference (the process died before recording its answer). A
    charge found only at the provider is recorded now (a ``Payment`` row without an order), so
    the books show the money in before the refund takes it out. A payment still waiting for
    the customer is cancelled at the provider. Raises ``PaymentUnavailableError`` when the
    provider cannot be asked now."""
    recorded = (
        Payment.objects.filter(
            reference=number,
            kind=PaymentKind.CHARGE,
            result=PaymentResult.SUCCEEDED,
            order__isnull=True,
        )
        .order_by("-id")
        .first()
    )
    if recorded is not None:
        return ChargeResult(recorded.gateway_transaction_id, recorded.amount, recorded.currency)
    gateway = get_gateway()
    try:
        found = gateway.lookup(reference=number)
    except TransientPaymentError as exc:
        raise PaymentUnavailableError(attempts=[]) from exc
    attempts = Payment.objects.filter(reference=number, kind=PaymentKind.CHARGE)
    if found is None:
        pending = attempts.filter(result=PaymentResult.PENDING).exclude(gateway_transaction_id="")
        for row in pending:
            try:
                gateway.cancel(charge_id=row.gateway_transaction_id, reference=number)
            except (PaymentDeclined, TransientPaymentError):
                logger.warning("Could not cancel pending payment %s", row.gateway_transaction_id)
        return None
    Payment.objects.create(
        reference=number,
        kind=PaymentKind.CHARGE,
        result=PaymentResult.SUCCEEDED,
        amount=found.amount,
        currency=found.currency,
        gateway=gateway.name,
        gateway_transaction_id=found.charge_id,
        attempt=attempts.count() + 1,
        error="Found at the provider by recovery (the answer was lost).",
    )
    logger.warning("Checkout %s was charged at the provider without our record", number)
    return found


def _refund_orphan_charge(number: str) -> None:
    """Refund the successful charge of ``number`` unless its refund is already recorded.

    The charge is the one recorded, or the one the provider reports for the reference
    (``gateway.lookup``) when the process died before recording it. Uses the reference
    ``<number>-void`` that ``checkout._compensate`` uses too, so however often it runs the
    gateway refunds once. Raises ``PaymentUnavailableError`` (retry later); a declined refund
    is logged for a manual refund.
    """
    reference = void_reference(number=number)
    refunded = Payment.objects.filter(
        reference=reference, kind=PaymentKind.REFUND, result=PaymentResult.SUCCEEDED
    ).exists()
    if refunded:
        return
    charge = _orphan_charge(number)
    if charge is None:
        return
    try:
        refund_with_retries(
            amount=charge.amount,
            currency=charge.currency,
            charge_id=charge.charge_id,
            reference=reference,
        )
    except PaymentDeclinedError:
        logger.exception("Refund of dead checkout %s declined; needs manual refund", number)


def _recover(cart: Cart) -> str:
    """Recover the checkout of ``cart`` (locked by the caller, inside its transaction)."""
    number = cart.checkout_order_number
    if Order.objects.filter(number=number).exists():
        complete_checkout(cart=cart)
        logger.warning("Checkout %s had its order; closed cart %s", number, cart.pk)
        return number
    _refund_orphan_charge(number)
    lines = [
        StockLine(line.variant_id, line.quantity, line.variant.sku)
        for line in cart_lines(cart=cart)
    ]
    inventory.deallocate(lines=lines, order_number=number)
    release_voucher_use(order_number=number)  # the dead checkout's voucher use, if any
    end_checkout(cart=cart, order_number=number)
    logger.warning(
        "Recovered stale checkout %s: deallocated %s, ended the checkout of cart %s",
        number,
        ", ".join(f"{ln.quantity} x {ln.sku}" for ln in lines) or "nothing",
        cart.pk,
    )
    return number


def recover_stale_checkout(*, cart: Cart) -> bool:
    """Recover the stale checkout of ``cart``, whose row the caller has locked; return success.

    Registered with the cart (``cart.checkout.register_stale_checkout_recovery``) in
    ``OrdersConfig.ready()``: ``cart.services.lock_cart`` calls it when a shopper touches a
    cart whose checkout is stale. Runs in a savepoint of the caller's transaction: if the
    caller rolls back, the cart is still in checkout with its allocation, and a later run
    refunds idempotently and records it. Returns False, leaving everything as it was, when
    the refund cannot be made now.
    """
    number = cart.checkout_order_number
    try:
        with transaction.atomic():
            _recover(cart)
    except PaymentUnavailableError as exc:
        persist_attempts(attempts=exc.attempts)
        logger.error("Could not refund dead checkout %s yet", number)
        return False
    return True


def recover_checkout(*, order_number: str) -> bool:
    """Recover the checkout ``order_number`` now, however young: its request is known dead.

    ``orders.checkout.idempotency`` calls it when it takes over an Idempotency-Key whose
    request outlived its lease. Does what the sweep does (``_recover``) for the one cart in
    that checkout, in its own transaction: lock the cart row (``skip_locked``), then complete
    the checkout if its order exists, or refund its charge, deallocate and end it.

    Returns True when nothing of that checkout is left in flight: recovered now, or nothing
    to recover (it never started, already ended, or completed with its order). Returns
    False, changing nothing, when the cart row is locked (the checkout is still finishing)
    or the refund cannot go through now (its attempts are recorded).
    """
    now = timezone.now()
    cart_id = (
        stale_checkouts(started_before=now)
        .filter(checkout_order_number=order_number)
        .values_list("pk", flat=True)
        .first()
    )
    if cart_id is None:
        return True
    try:
        with transaction.atomic():
            cart = lock_stale_checkout(cart_id=cart_id, started_before=now)
            if cart is None:
                # Locked by a checkout still finishing, or its checkout ended meanwhile.
                return (
                    not stale_checkouts(started_before=now)
                    .filter(pk=cart_id, checkout_order_number=order_number)
                    .exists()
                )
            if cart.checkout_order_number == order_number:
                _recover(cart)
    except PaymentUnavailableError as exc:
        persist_attempts(attempts=exc.attempts)
        logger.error("Could not refund dead checkout %s yet", order_number)
        return False
    return True


def recover_stale_checkouts(
    *, older_than: timedelta | None = None, now: datetime | None = None
) -> list[str]:
    """Recover every checkout in progress for longer than ``older_than``; return their numbers.

    ``older_than`` defaults to ``CHECKOUT_TIMEOUT``. For each such cart, in its own
    transaction: lock the row (``skip_locked``: a cart another run or a finishing checkout
    holds is left for next time), re-check it is still in that stale checkout, then

    * if the order ``<number>`` exists (finalize committed), complete the checkout (cart
      ``ordered``);
    * otherwise refund its successful charge (reference ``<number>-void``, one ``Payment``
      row per attempt), deallocate its lines and end the checkout.

    Idempotent: a recovered cart is no longer in checkout, so running again finds nothing;
    the refund reference makes a repeated refund a no-op at the gateway. When the payment
    service is down the cart stays in checkout (its attempts recorded) and the next run
    retries it.
    """
    cutoff = (now or timezone.now()) - (CHECKOUT_TIMEOUT if older_than is None else older_than)
    recovered: list[str] = []
    stale = stale_checkouts(started_before=cutoff)
    for pk in list(stale.order_by("pk").values_list("pk", flat=True)):
        try:
            with transaction.atomic():
                cart = lock_stale_checkout(cart_id=pk, started_before=cutoff)
                if cart is not None:
                    recovered.append(_recover(cart))
        except PaymentUnavailableError as exc:
            persist_attempts(attempts=exc.attempts)
            logger.error("Could not refund dead checkout of cart %s yet; will retry", pk)
    return recovered


def refund_unanswered_charges(
    *, older_than: timedelta | None = None, within: timedelta = UNANSWERED_WINDOW
) -> list[str]:
    """Refund charges the provider made although every attempt failed for us; return their
    references.

    A checkout whose attempts all failed transiently (``payment_unavailable``) gave its stock
    back and ended, but the provider may have taken the money on an attempt whose answer was
    lost. For each reference whose charge attempts (made between ``within`` and
    ``older_than``, default ``CHECKOUT_TIMEOUT``, ago) all failed, with no order and no
    checkout still in progress under it, ask the provider (``gateway.lookup``); a charge it
    reports is recorded and refunded (reference ``<number>-void``, once however often this
    runs). A reference the provider cannot be asked about now is left for the next run.
    """
    now = timezone.now()
    cutoff = now - (CHECKOUT_TIMEOUT if older_than is None else older_than)
    failed = (
        Payment.objects.filter(
            kind=PaymentKind.CHARGE,
            result=PaymentResult.FAILED,
            order__isnull=True,
            created_at__lte=cutoff,
            created_at__gte=now - within,
        )
        .order_by("reference")
        .values_list("reference", flat=True)
        .distinct()
    )
    refunded: list[str] = []
    for number in list(failed):
        settled = Payment.objects.filter(reference=number, kind=PaymentKind.CHARGE).exclude(
            result=PaymentResult.FAILED
        )
        if (
            settled.exists()
            or Order.objects.filter(number=number).exists()
            or stale_checkouts(started_before=now).filter(checkout_order_number=number).exists()
        ):
            continue  # its outcome is known, or the stale-checkout recovery owns it
        refunds = Payment.objects.filter(
            reference=void_reference(number=number),
            kind=PaymentKind.REFUND,
            result=PaymentResult.SUCCEEDED,
        )
        if refunds.exists():
            continue
        try:
            with transaction.atomic():
                _refund_orphan_charge(number)
        except PaymentUnavailableError as exc:
            persist_attempts(attempts=exc.attempts)
            logger.error("Could not settle unanswered charge %s yet; will retry", number)
            continue
        if refunds.exists():
            logger.warning("Refunded charge %s whose answer was lost", number)
            refunded.append(number)
    return refunded
