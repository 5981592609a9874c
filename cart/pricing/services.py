"""Writes of pricing data: vouchers applied to carts, and voucher uses (rules in
``cart.pricing.vouchers``)."""

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from cart.errors import VoucherNotFound, VoucherUsedUp
from cart.models import Cart
from cart.pricing.models import Voucher, VoucherUse
from cart.pricing.vouchers import check_voucher, customer_uses, find_voucher, priced_lines
from cart.selectors import cart_lines
from cart.services import lock_cart
from catalog.cache import bump_catalog_version


def apply_voucher(*, cart: Cart, code: object) -> Cart:
    """Apply the voucher ``code`` to ``cart`` (replacing any other) and return the cart.

    Locks the cart row (``cart.services.lock_cart``: ``CheckoutInProgress`` while it is in
    checkout). Raises a ``VoucherRefused`` (``voucher_not_found``, ``voucher_expired``,
    ``voucher_used_up``, ``voucher_min_spend``, ``voucher_not_applicable``) and changes
    nothing when it cannot be used on the cart as it is; checkout checks again.
    """
    voucher = find_voucher(code=code)
    with transaction.atomic():
        cart = lock_cart(cart=cart)
        user = cart.user
        check_voucher(
            voucher=voucher,
            lines=priced_lines(cart_lines(cart=cart)),
            user=user,
            email=user.email if user is not None else "",
        )
        Cart.objects.filter(pk=cart.pk).update(voucher=voucher, updated_at=timezone.now())
        cart.voucher = voucher
    return cart


def remove_voucher(*, cart: Cart) -> Cart:
    """Take the applied voucher off ``cart`` (nothing happens without one); return the cart.

    Locks the cart row (``CheckoutInProgress`` while it is in checkout).
    """
    with transaction.atomic():
        cart = lock_cart(cart=cart)
        Cart.objects.filter(pk=cart.pk).update(voucher=None, updated_at=timezone.now())
        cart.voucher = None
    return cart


def forget_voucher(*, cart_id: int) -> None:
    """Take the voucher off the cart after checkout refused it (own transaction, no lock:
    one column of a cart whose checkout just failed)."""
    Cart.objects.filter(pk=cart_id).update(voucher=None, updated_at=timezone.now())


def redeem_voucher(*, voucher: Voucher, order_number: str, user: User | None, email: str) -> None:
    """Count one use of ``voucher`` by the order ``order_number``.

    Must run inside the checkout's transaction. Locks the voucher row (``select_for_update``;
    checkout takes it after the cart row and before the stock rows), re-checks the total and
    per-customer limits against the committed uses and raises ``VoucherUsedUp`` when either
    is reached; otherwise raises ``times_used`` and records the use. A voucher limited to N uses
    is therefore never used N+1 times, whatever runs concurrently (the row lock serialises
    redeemers; the ``times_used <= usage_limit`` constraint backs it).
    """
    locked = Voucher.objects.select_for_update().get(pk=voucher.pk)
    if not locked.active:
        raise VoucherNotFound()
    if locked.usage_limit is not None and locked.times_used >= locked.usage_limit:
        raise VoucherUsedUp()
    if locked.per_customer_limit is not None and (
        customer_uses(voucher=locked, user=user, email=email) >= locked.per_customer_limit
    ):
        raise VoucherUsedUp("You have already used this voucher.")
    Voucher.objects.filter(pk=locked.pk).update(times_used=F("times_used") + 1)
    VoucherUse.objects.create(voucher=locked, order_number=order_number, user=user, email=email)


def release_voucher_use(*, order_number: str) -> int:
    """Give back the voucher use of the order ``order_number`` (cancelled, fully refunded or
    abandoned); return how many uses were released (0 or 1).

    Idempotent: a released use stays released. Locks the use row, then updates the voucher row
    (a conditional ``UPDATE``); call it inside the caller's transaction.
    """
    released = 0
    uses = VoucherUse.objects.select_for_update().filter(
        order_number=order_number, released_at__isnull=True
    )
    for use in uses.order_by("pk"):
        Voucher.objects.filter(pk=use.voucher_id, times_used__gt=0).update(
            times_used=F("times_used") - 1
        )
        VoucherUse.objects.filter(pk=use.pk).update(released_at=timezone.now())
        released += 1
    return released


VOUCHER_FIELDS = (
    "code",
    "description",
    "kind",
    "value",
    "min_spend",
    "starts_at",
    "ends_at",
    "usage_limit",
    "per_customer_limit",
    "active",
    "automatic",
)


def save_voucher(*, voucher: Voucher | None = None, data: dict) -> Voucher:
    """Create a voucher (``voucher`` None) or change the given fields of one; return it.

    ``data`` holds fields of ``VOUCHER_FIELDS`` plus optional ``products``/``categories``
    (lists of instances; they replace the restriction). Runs ``full_clean`` (the code is unique
    whatever its case, a percentage is at most 100): ``ValidationError`` otherwise. Atomic.
    """
    with transaction.atomic():
        voucher = voucher or Voucher()
        for name in VOUCHER_FIELDS:
            if name in data:
                setattr(voucher, name, data[name])
        voucher.full_clean()
        voucher.save()
        if "products" in data:
            voucher.products.set(data["products"])
        if "categories" in data:
            voucher.categories.set(data["categories"])
    return voucher


def delete_voucher(*, voucher: Voucher) -> bool:
    """Delete a voucher no order used; a used one is deactivated instead (its uses are part
    of the orders' history). Return whether it was deleted."""
    with transaction.atomic():
        if VoucherUse.objects.filter(voucher=voucher).exists():
            Voucher.objects.filter(pk=voucher.pk).update(active=False)
            bump_catalog_version()  # .update() sends no post_save (cached promotions)
            return False
        Cart.objects.filter(voucher=voucher).update(voucher=None)
        voucher.delete()
    return True
