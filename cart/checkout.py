"""A cart's checkout state: the cart side of placing an order, and its recovery hook.

Vocabulary: a cart is *in checkout* from ``start_checkout`` until the checkout *ends*
without an order (``end_checkout``: the cart is open for changes again) or *completes*
(``complete_checkout``: the cart is ``ordered``). Meanwhile ``Cart.checkout_order_number``
holds the number of the order being placed and ``checkout_started_at`` when it started, and
``cart.services.lock_cart`` refuses every change to the cart (``CheckoutInProgress``).

A checkout still in progress after ``CHECKOUT_TIMEOUT`` is *stale*: its process is presumed
dead, leaving the stock allocated and perhaps a charge without an order. Only the orders app
knows how to undo that (refund, deallocate), and cart must not import orders, so orders
registers its recovery here (``register_stale_checkout_recovery``, in its ``ready()``) and
``lock_cart`` runs it when a shopper touches such a cart.

Locks: these services take the cart row lock themselves only where they say so
(``lock_cart_in_checkout``, ``lock_stale_checkout``); the others write a row the caller has
already locked in the current transaction. Every write also sets ``updated_at``.
"""

from datetime import datetime, timedelta
from typing import Protocol

from django.db import transaction
from django.db.models import Q, QuerySet
from django.db.transaction import TransactionManagementError
from django.utils import timezone

from cart.models import Cart, CartStatus

# After this long a checkout is presumed dead (its process crashed) and may be recovered.
CHECKOUT_TIMEOUT = timedelta(minutes=5)


class StaleCheckoutRecovery(Protocol):
    """Undo the stale checkout of ``cart``, whose row the caller has locked; return success.

    Must leave the cart either out of checkout (open again, or ``ordered`` when the order had
    in fact been placed) and return True, or unchanged and return False.
    """

    def __call__(self, *, cart: Cart) -> bool: ...


_stale_checkout_recovery: StaleCheckoutRecovery | None = None


def register_stale_checkout_recovery(*, recovery: StaleCheckoutRecovery | None) -> None:
    """Make ``recovery`` the function ``run_stale_checkout_recovery`` calls (None: no recovery).

    The orders app registers ``orders.checkout.recovery.recover_stale_checkout`` in
    ``OrdersConfig.ready()``. There is one recovery; registering again replaces it.
    """
    global _stale_checkout_recovery
    _stale_checkout_recovery = recovery


def registered_stale_checkout_recovery() -> StaleCheckoutRecovery | None:
    """Return the registered stale-checkout recovery, or None."""
    return _stale_checkout_recovery


def run_stale_checkout_recovery(*, cart: Cart) -> bool:
    """Recover the stale checkout of ``cart`` (row locked by the caller); return success.

    Runs synchronously, inside the caller's transaction. Returns False, and changes nothing,
    when no recovery is registered or the registered one cannot finish now: the cart then
    stays in checkout.
    """
    recovery = _stale_checkout_recovery
    if recovery is None:
        return False
    return recovery(cart=cart)


def checkout_is_stale(*, cart: Cart, now: datetime | None = None) -> bool:
    """Return whether ``cart`` is in a checkout older than ``CHECKOUT_TIMEOUT``.

    A cart in checkout without a start time counts as stale.
    """
    if not cart.in_checkout:
        return False
    if cart.checkout_started_at is None:
        return True
    return cart.checkout_started_at <= (now or timezone.now()) - CHECKOUT_TIMEOUT


def stale_checkouts(*, started_before: datetime) -> QuerySet[Cart]:
    """Return the carts in a checkout started before ``started_before`` (or at no known time)."""
    return Cart.objects.exclude(checkout_order_number="").filter(
        Q(checkout_started_at__lt=started_before) | Q(checkout_started_at__isnull=True)
    )


def _require_transaction() -> None:
    if not transaction.get_connection().in_atomic_block:
        raise TransactionManagementError("The cart row must be locked in a transaction first.")


def start_checkout(*, cart: Cart, order_number: str, started_at: datetime) -> Cart:
    """Put ``cart`` in checkout for the order ``order_number``, started at ``started_at``.

    Its lines cannot change until the checkout ends or completes. Takes no lock of its own:
    the caller holds the cart row (``cart.services.lock_cart``) in the current transaction, so
    the lines it checked are the lines that go into the order. Raises
    ``TransactionManagementError`` outside a transaction. Returns the cart, updated.
    """
    _require_transaction()
    now = timezone.now()
    Cart.objects.filter(pk=cart.pk).update(
        checkout_order_number=order_number, checkout_started_at=started_at, updated_at=now
    )
    cart.checkout_order_number, cart.checkout_started_at = order_number, started_at
    cart.updated_at = now
    return cart


def lock_cart_in_checkout(*, cart_id: int, order_number: str) -> Cart | None:
    """Lock the cart row; return the cart if it is still open and in checkout ``order_number``.

    Locks the one cart row (``select_for_update``, waiting for it) and returns None when the
    checkout is over (recovery ended it meanwhile). Must run inside a transaction.
    """
    return (
        Cart.objects.select_for_update()
        .filter(pk=cart_id, status=CartStatus.OPEN, checkout_order_number=order_number)
        .first()
    )


def lock_stale_checkout(*, cart_id: int, started_before: datetime) -> Cart | None:
    """Lock the cart row if it is free and still in a checkout started before ``started_before``.

    ``select_for_update(skip_locked=True)``: a cart whose row another transaction holds (a
    checkout finishing, another recovery run) is passed over, returning None, rather than
    waited for. Must run inside a transaction.
    """
    return (
        stale_checkouts(started_before=started_before)
        .select_for_update(skip_locked=True)
        .filter(pk=cart_id)
        .first()
    )


def end_checkout(*, cart: Cart, order_number: str) -> Cart:
    """End the checkout ``order_number`` of ``cart`` without an order; return the cart.

    The cart is open for changes again. Does nothing when the cart is no longer in that
    checkout. Takes no lock of its own: the caller holds the cart row
    (``lock_cart_in_checkout`` or ``lock_stale_checkout``) in the current transaction.
    Raises ``TransactionManagementError`` outside a transaction.
    """
    _require_transaction()
    now = timezone.now()
    ended = Cart.objects.filter(pk=cart.pk, checkout_order_number=order_number).update(
        checkout_order_number="", checkout_started_at=None, updated_at=now
    )
    if ended:
        cart.checkout_order_number, cart.checkout_started_at = "", None
        cart.updated_at = now
    return cart


def complete_checkout(*, cart: Cart) -> Cart:
    """Mark ``cart`` ``ordered``: its checkout placed the order; return the cart.

    The cart is closed for good (a shopper's next add starts a new cart). Takes no lock of its
    own: the caller holds the cart row in the current transaction. Raises
    ``TransactionManagementError`` outside a transaction.
    """
    _require_transaction()
    now = timezone.now()
    Cart.objects.filter(pk=cart.pk).update(
        status=CartStatus.ORDERED,
        checkout_order_number="",
        checkout_started_at=None,
        updated_at=now,
    )
    cart.status = CartStatus.ORDERED
    cart.checkout_order_number, cart.checkout_started_at = "", None
    cart.updated_at = now
    return cart
