"""Undo checkouts whose process died between *prepare* and *finalize* (see ``checkout``).

A dead checkout leaves its cart frozen (``checkout_reference`` = the order number), the cart
lines' stock allocated, and perhaps a successful charge recorded as a ``Payment`` row with
that reference and no order. Recovering it refunds the charge, gives the allocation back
and unfreezes the cart; if the order was in fact written, it only closes the cart.

What was allocated is exactly the cart's lines: ``_prepare`` allocates them in the same
transaction that freezes the cart, and every cart service (``cart.services.lock_cart``)
refuses line changes while the cart is frozen, expired or not, until this recovery ran.

Locks: the cart row first (``select_for_update``; ``skip_locked`` in the cron sweep so two
runs, or a checkout still finalizing, are passed over), then the stock rows inside
``inventory.deallocate``, the same order as checkout. ``checkout._abort`` and
``checkout._finalize`` lock the cart row too and stand down once it is unfrozen, so a slow
rather than dead checkout cannot deallocate twice or write an order for refunded money.
"""

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from cart.models import Cart, CartLine, CartStatus
from cart.services import CHECKOUT_LOCK_TIMEOUT
from inventory import services as inventory
from inventory.services import StockLine
from orders.errors import PaymentDeclinedError, PaymentUnavailableError
from orders.models import Order, Payment, PaymentKind, PaymentResult
from orders.payments.services import persist_attempts, refund_with_retries

logger = logging.getLogger(__name__)


def void_reference(number: str) -> str:
    """Return the idempotency reference refunding the charge of a checkout that failed."""
    return f"{number}-void"


def _refund_orphan_charge(number: str) -> None:
    """Refund the successful charge of ``number`` unless its refund is already recorded.

    Uses the reference ``<number>-void`` that ``checkout._compensate`` uses too, so however
    often it runs the gateway refunds once. Raises ``PaymentUnavailableError`` (retry later);
    a declined refund is logged for a manual refund.
    """
    charge = (
        Payment.objects.filter(
            reference=number,
            kind=PaymentKind.CHARGE,
            result=PaymentResult.SUCCEEDED,
            order__isnull=True,
        )
        .order_by("-id")
        .first()
    )
    if charge is None:
        return
    reference = void_reference(number)
    refunded = Payment.objects.filter(
        reference=reference, kind=PaymentKind.REFUND, result=PaymentResult.SUCCEEDED
    ).exists()
    if refunded:
        return
    try:
        refund_with_retries(
            amount=charge.amount,
            currency=charge.currency,
            charge_id=charge.gateway_transaction_id,
            reference=reference,
        )
    except PaymentDeclinedError:
        logger.exception("Refund of dead checkout %s declined; needs manual refund", number)


def _recover(cart: Cart) -> str:
    """Recover the checkout of ``cart`` (locked by the caller, inside its transaction)."""
    number = cart.checkout_reference
    now = timezone.now()
    if Order.objects.filter(number=number).exists():
        Cart.objects.filter(pk=cart.pk).update(
            status=CartStatus.ORDERED,
            checkout_reference="",
            checkout_started_at=None,
            updated_at=now,
        )
        logger.warning("Checkout %s had its order; closed cart %s", number, cart.pk)
        return number
    _refund_orphan_charge(number)
    lines = [
        StockLine(line.variant_id, line.quantity, line.variant.sku)
        for line in CartLine.objects.filter(cart=cart).select_related("variant")
    ]
    inventory.deallocate(lines=lines, order_number=number)
    Cart.objects.filter(pk=cart.pk).update(
        checkout_reference="", checkout_started_at=None, updated_at=now
    )
    logger.warning(
        "Recovered dead checkout %s: deallocated %s, unfroze cart %s",
        number,
        ", ".join(f"{ln.quantity} x {ln.sku}" for ln in lines) or "nothing",
        cart.pk,
    )
    return number


def recover_locked_checkout(*, cart: Cart) -> bool:
    """Recover the dead checkout of ``cart``, whose row the caller has locked; return success.

    Runs in a savepoint of the caller's transaction (``cart.services.lock_cart`` calls it when
    a shopper touches a cart whose freeze expired): if the caller rolls back, the cart is
    still frozen with its allocation, and a later run refunds idempotently and records it.
    Returns False, leaving everything as it was, when the refund cannot be made now.
    """
    try:
        with transaction.atomic():
            _recover(cart)
    except PaymentUnavailableError as exc:
        persist_attempts(getattr(exc, "attempts", []))
        logger.error("Could not refund dead checkout %s yet", cart.checkout_reference)
        return False
    return True


def recover_stale_checkouts(
    *, older_than: timedelta | None = None, now: datetime | None = None
) -> list[str]:
    """Recover every checkout frozen for longer than ``older_than``; return their numbers.

    ``older_than`` defaults to ``CHECKOUT_LOCK_TIMEOUT``. For each such cart, in its own
    transaction: lock the row (``skip_locked``: a cart another run or a finishing checkout
    holds is left for next time), re-check it is still frozen and stale, then

    * if the order ``<number>`` exists (finalize committed), mark the cart ``ordered``;
    * otherwise refund its successful charge (reference ``<number>-void``, one ``Payment``
      row per attempt), deallocate its lines and unfreeze it.

    Idempotent: a recovered cart is no longer frozen, so running again finds nothing; the
    refund reference makes a repeated refund a no-op at the gateway. When the payment service
    is down the cart is left frozen (its attempts recorded) and the next run retries it.
    """
    cutoff = (now or timezone.now()) - (older_than or CHECKOUT_LOCK_TIMEOUT)
    stale = Cart.objects.exclude(checkout_reference="").filter(
        Q(checkout_started_at__lt=cutoff) | Q(checkout_started_at__isnull=True)
    )
    recovered: list[str] = []
    for pk in list(stale.order_by("pk").values_list("pk", flat=True)):
        try:
            with transaction.atomic():
                cart = stale.select_for_update(skip_locked=True).filter(pk=pk).first()
                if cart is not None:
                    recovered.append(_recover(cart))
        except PaymentUnavailableError as exc:
            persist_attempts(getattr(exc, "attempts", []))
            logger.error("Could not refund dead checkout of cart %s yet; will retry", pk)
    return recovered
