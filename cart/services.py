"""Every write to carts. Stock is only read here (availability) or held via inventory.

Locking: a write locks the cart row (``select_for_update``) first, so concurrent edits of
one cart serialize; a merge locks both carts in primary-key order. Stock rows are locked
only inside ``inventory.services`` (hold_stock), always after the cart row. A cart in checkout
refuses every change (``lock_cart``); its checkout state is written by ``cart.checkout``.
"""

import math
from datetime import datetime, timedelta
from typing import Literal, overload
from uuid import UUID

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from cart.checkout import checkout_is_stale, run_stale_checkout_recovery
from cart.errors import CartEmpty, CartNotFound, CheckoutInProgress
from cart.models import MAX_LINE_QUANTITY, Cart, CartLine, CartStatus
from cart.selectors import cart_lines, open_cart_for_token, open_cart_for_user
from catalog.models import Variant
from inventory import services as inventory
from inventory.errors import InsufficientStock, TooManyHolds
from inventory.selectors import availability, hold_expiry
from inventory.services import StockLine


@overload
def get_cart_for(
    *,
    user: User | AnonymousUser | None = None,
    token: str | UUID | None = None,
    create: Literal[True],
) -> Cart: ...


@overload
def get_cart_for(
    *,
    user: User | AnonymousUser | None = None,
    token: str | UUID | None = None,
    create: bool = False,
) -> Cart | None: ...


def get_cart_for(
    *,
    user: User | AnonymousUser | None = None,
    token: str | UUID | None = None,
    create: bool = False,
) -> Cart | None:
    """Return the open cart of a signed-in ``user``, else of the anonymous ``token``.

    A signed-in user's own cart wins over any token. Raises ``CartNotFound`` for a token that
    is unknown, closed, or belongs to a user. Returns None when there is no cart and
    ``create`` is false; with ``create`` a new cart is made (the one-open-cart-per-user
    constraint settles a race between two first adds).
    """
    if isinstance(user, User):
        cart = open_cart_for_user(user=user)
        if cart is None and create:
            try:
                with transaction.atomic():
                    cart = Cart.objects.create(user=user)
            except IntegrityError:
                cart = open_cart_for_user(user=user)
        return cart
    if token:
        cart = open_cart_for_token(token=token)
        if cart is None:
            raise CartNotFound()
        return cart
    return Cart.objects.create() if create else None


def _validate_quantity(quantity: object, *, allow_zero: bool = False) -> int:
    low = 0 if allow_zero else 1
    if (
        isinstance(quantity, bool)
        or not isinstance(quantity, int)
        or not low <= quantity <= MAX_LINE_QUANTITY
    ):
        raise ValidationError(
            {"quantity": [f"Quantity must be a whole number from {low} to {MAX_LINE_QUANTITY}."]}
        )
    return quantity


def _purchasable_variant(sku: str) -> Variant:
    variant = (
        Variant.objects.purchasable()
        .select_related("product")
        .filter(sku__iexact=str(sku or "").strip())
        .first()
    )
    if variant is None:
        raise ValidationError({"sku": ["Unknown or unavailable SKU."]})
    return variant


def lock_cart(*, cart: Cart) -> Cart:
    """Lock the cart row and return it fresh; must run inside a transaction.

    Locks the one cart row (``select_for_update``). Raises ``CartNotFound`` if the cart is no
    longer open and ``CheckoutInProgress`` while it is in a live checkout.

    A cart in a stale checkout (older than ``cart.checkout.CHECKOUT_TIMEOUT``) belongs to a
    dead checkout whose stock is still allocated (and which may have charged the shopper).
    The cart is not taken out of checkout until that checkout is undone: the recovery the
    orders app registered (``cart.checkout.run_stale_checkout_recovery``) runs here, under
    this lock and inside the caller's transaction, so "out of checkout" and "allocation given
    back" commit (or roll back) together. If the recovery cannot finish (payment service down
    for the refund) the cart stays in checkout (``CheckoutInProgress``) and the
    ``recover_checkouts`` cron retries.
    """
    locked = Cart.objects.select_for_update().filter(pk=cart.pk).first()
    if locked is None or locked.status != CartStatus.OPEN:
        raise CartNotFound()
    if locked.in_checkout:
        if not checkout_is_stale(cart=locked):
            raise CheckoutInProgress()
        if not run_stale_checkout_recovery(cart=locked):
            raise CheckoutInProgress()
        locked = Cart.objects.get(pk=locked.pk)
        if locked.status != CartStatus.OPEN:  # the order had in fact been placed
            raise CartNotFound()
    return locked


def _check_supply(*, cart: Cart, variant: Variant, quantity: int) -> None:
    available = availability(variant_ids=[variant.pk], cart_token=cart.token).get(variant.pk, 0)
    if quantity > available:
        raise InsufficientStock(
            [{"sku": variant.sku, "requested": quantity, "available": available}]
        )


def _over_line_cap_message(*, in_cart: int) -> str:
    """Say how many more of an item fit in the cart (``MAX_LINE_QUANTITY`` per line)."""
    room = MAX_LINE_QUANTITY - in_cart
    if room <= 0:
        return (
            f"At most {MAX_LINE_QUANTITY} of one item per cart: you already have "
            f"{in_cart}, so no more can be added."
        )
    return (
        f"At most {MAX_LINE_QUANTITY} of one item per cart: you have {in_cart}, "
        f"so you can add {room} more."
    )


def _touch(cart: Cart) -> None:
    Cart.objects.filter(pk=cart.pk).update(updated_at=timezone.now())


@transaction.atomic
def add_item(*, cart: Cart, sku: str, quantity: int) -> CartLine:
    """Add ``quantity`` of ``sku`` to the cart (adding to an existing line of that SKU).

    Atomic; locks the cart row. The unit price is snapshotted when the line is created.
    Raises ``ValidationError`` (quantity outside 1..``MAX_LINE_QUANTITY`` per line,
    unknown/archived/inactive SKU), ``InsufficientStock`` (with ``available``) when more than
    can be supplied is asked, ``CartNotFound``/``CheckoutInProgress`` for a closed cart or a
    cart in checkout.
    """
    _validate_quantity(quantity)
    variant = _purchasable_variant(sku)
    cart = lock_cart(cart=cart)
    line = CartLine.objects.filter(cart=cart, variant=variant).first()
    new_quantity = quantity + (line.quantity if line else 0)
    if new_quantity > MAX_LINE_QUANTITY:
        raise ValidationError(
            {"quantity": [_over_line_cap_message(in_cart=new_quantity - quantity)]}
        )
    _check_supply(cart=cart, variant=variant, quantity=new_quantity)
    if line is None:
        line = CartLine.objects.create(
            cart=cart, variant=variant, quantity=new_quantity, unit_price=variant.price
        )
    else:
        line.quantity = new_quantity
        line.save(update_fields=["quantity"])
    _touch(cart)
    return line


@transaction.atomic
def add_item_for(
    *,
    user: User | AnonymousUser | None = None,
    token: str | UUID | None = None,
    sku: str,
    quantity: int,
) -> Cart:
    """Add ``quantity`` of ``sku`` to the caller's cart, creating the cart with its first line.

    One transaction: an add that fails (``ValidationError``, ``InsufficientStock``) leaves no
    empty cart behind. Raises what ``get_cart_for`` and ``add_item`` raise.
    """
    cart = get_cart_for(user=user, token=token, create=True)
    add_item(cart=cart, sku=sku, quantity=quantity)
    return cart


def _own_line(cart: Cart, line_id: int | str) -> CartLine:
    try:
        pk = int(line_id)
    except (TypeError, ValueError):
        raise CartNotFound("Cart line not found.") from None
    line = CartLine.objects.select_related("variant").filter(cart=cart, pk=pk).first()
    if line is None:
        raise CartNotFound("Cart line not found.")
    return line


@transaction.atomic
def set_quantity(*, cart: Cart, line_id: int, quantity: int) -> CartLine | None:
    """Set a line's quantity (0 removes it); return the line, or None when removed.

    Atomic; locks the cart row. A line of another cart raises ``CartNotFound`` (404).
    Raises ``ValidationError`` outside 0..``MAX_LINE_QUANTITY`` and ``InsufficientStock``
    when raising the quantity above what can be supplied (lowering it is always allowed).
    """
    _validate_quantity(quantity, allow_zero=True)
    cart = lock_cart(cart=cart)
    line = _own_line(cart, line_id)
    if quantity == 0:
        line.delete()
        _touch(cart)
        return None
    if quantity > line.quantity:
        _check_supply(cart=cart, variant=line.variant, quantity=quantity)
    line.quantity = quantity
    line.save(update_fields=["quantity"])
    _touch(cart)
    return line


@transaction.atomic
def remove_line(*, cart: Cart, line_id: int) -> None:
    """Remove a line of the cart. Atomic; locks the cart row; foreign line → ``CartNotFound``."""
    cart = lock_cart(cart=cart)
    _own_line(cart, line_id).delete()
    _touch(cart)


def refresh_line_price(*, line: CartLine) -> CartLine:
    """Set the line's price snapshot to its variant's current price; return the line.

    The checkout calls it for every line whose price changed, so that the shopper, told of
    the change, can retry at the new prices. Takes no lock of its own: the caller holds the
    cart row (``lock_cart``) in the current transaction. ``line.variant`` must be loaded.
    """
    price = line.variant.price
    CartLine.objects.filter(pk=line.pk).update(unit_price=price)
    line.unit_price = price
    return line


@transaction.atomic
def merge_guest_cart(*, user: User, token: str | UUID) -> Cart:
    """Merge the anonymous cart ``token`` into the user's open cart; return the user's cart.

    Quantities add up, capped by ``MAX_LINE_QUANTITY`` and by what can be supplied (lines
    that cannot be supplied at all are dropped); a new line keeps the guest's price snapshot so a price
    change still shows as a warning. The guest cart's holds are released and its status
    becomes ``merged``. Atomic; locks both cart rows in primary-key order. Raises
    ``CartNotFound`` for an unknown, closed or foreign token.
    """
    guest = open_cart_for_token(token=token)
    if guest is None:
        raise CartNotFound()
    own = get_cart_for(user=user, create=True)
    first, second = sorted([guest, own], key=lambda c: c.pk)
    locked = {c.pk: lock_cart(cart=c) for c in (first, second)}
    guest, own = locked[guest.pk], locked[own.pk]
    inventory.release_holds(cart_token=guest.token)
    guest_lines = list(CartLine.objects.filter(cart=guest).select_related("variant__product"))
    existing = {line.variant_id: line for line in CartLine.objects.filter(cart=own)}
    stock = availability(variant_ids=[g.variant_id for g in guest_lines], cart_token=own.token)
    for g in guest_lines:
        variant = g.variant
        if not variant.is_purchasable:
            continue
        mine = existing.get(variant.pk)
        current = mine.quantity if mine else 0
        wanted = min(
            current + g.quantity, MAX_LINE_QUANTITY, max(current, stock.get(variant.pk, 0))
        )
        if wanted <= current:
            continue
        if mine is None:
            CartLine.objects.create(
                cart=own, variant=variant, quantity=wanted, unit_price=g.unit_price
            )
        else:
            mine.quantity = wanted
            mine.save(update_fields=["quantity"])
    Cart.objects.filter(pk=guest.pk).update(status=CartStatus.MERGED, updated_at=timezone.now())
    _touch(own)
    return own


def merge_cart_on_login(*, user: User, token: str | None) -> Cart | None:
    """Merge the browser's cookie cart into the user's cart at sign-in, if there is one.

    Never fails the login: an unknown or stale token is ignored. Returns the user's cart when
    a merge happened.
    """
    if not token or open_cart_for_token(token=token) is None:
        return None
    try:
        return merge_guest_cart(user=user, token=token)
    except (CartNotFound, CheckoutInProgress):
        return None


# A cart may start SHOP_MAX_HOLDS_PER_CART_PER_HOUR holds in this window.
HOLD_START_WINDOW = timedelta(hours=1)


def _count_hold_start(*, cart: Cart, now: datetime) -> None:
    """Count a new hold of the (locked) cart, or raise ``TooManyHolds`` when over its share."""
    since = cart.holds_started_since
    started = cart.holds_started
    if since is None or now - since >= HOLD_START_WINDOW:
        since, started = now, 0
    if started >= settings.SHOP_MAX_HOLDS_PER_CART_PER_HOUR:
        raise TooManyHolds(
            "Your items were already held for you more than once this hour, so they are not "
            "held again; you can still place your order.",
            retry_after=max(1, math.ceil((since + HOLD_START_WINDOW - now).total_seconds())),
        )
    Cart.objects.filter(pk=cart.pk).update(holds_started=started + 1, holds_started_since=since)


@transaction.atomic
def reserve_cart(*, cart: Cart, client_ip: str, ttl_seconds: int | None = None) -> datetime:
    """Hold the cart's stock while its shopper checks out; return the hold's expiry.

    Called when checkout starts (``POST /api/v1/cart/reserve/``, opening ``/checkout/``);
    adding to the cart holds nothing. The rules (README glossary, "Hold"):

    - Only what the cart could buy: a line that cannot be supplied (its variant is no longer
      purchasable, or more than is available) refuses the hold with ``InsufficientStock``, as
      placing the order would; each line is held for at most its quantity and at most
      ``SHOP_MAX_HELD_UNITS_PER_CART`` units in all (``inventory.services.hold_stock``).
    - One hold per cart: while it is active, reserving again re-holds the cart's current
      lines and keeps the expiry, so it never extends the hold.
    - A new hold (none active) is one of at most ``SHOP_MAX_HOLDS_PER_CART_PER_HOUR`` a cart
      may start in an hour, and one of at most ``SHOP_MAX_HOLDS_PER_IP`` carts holding stock
      for ``client_ip`` at a time; beyond either, ``TooManyHolds`` (429) and nothing changes.

    ``ttl_seconds`` (default ``SHOP_RESERVATION_TTL``) applies to a new hold. Atomic; locks
    the cart row, then (inside inventory) the client IP and the stock rows in variant order.
    Raises ``CartEmpty``, ``InsufficientStock``, ``TooManyHolds``, and ``CartNotFound`` /
    ``CheckoutInProgress`` as ``lock_cart`` does.
    """
    cart = lock_cart(cart=cart)
    rows = cart_lines(cart=cart)
    if not rows:
        raise CartEmpty()
    unavailable = [
        {"sku": row.variant.sku, "requested": row.quantity, "available": 0}
        for row in rows
        if not row.variant.is_purchasable
    ]
    if unavailable:
        raise InsufficientStock(unavailable)
    now = timezone.now()
    if hold_expiry(cart_token=cart.token, now=now) is None:
        _count_hold_start(cart=cart, now=now)
    return inventory.hold_stock(
        cart_token=cart.token,
        lines=[StockLine(row.variant_id, row.quantity, row.variant.sku) for row in rows],
        ttl_seconds=ttl_seconds,
        client_ip=client_ip,
    )


def purge_anonymous_carts(*, older_than_days: int, now: datetime | None = None) -> int:
    """Delete anonymous carts untouched for ``older_than_days`` and release their holds.

    Each cart is released and deleted in its own transaction; returns how many were deleted.
    """
    cutoff = (now or timezone.now()) - timedelta(days=older_than_days)
    carts = Cart.objects.filter(user__isnull=True, updated_at__lt=cutoff).values_list("pk", "token")
    count = 0
    for pk, token in carts.iterator():
        with transaction.atomic():
            inventory.release_holds(cart_token=token)
            deleted, _ = Cart.objects.filter(pk=pk, updated_at__lt=cutoff).delete()
            count += 1 if deleted else 0
    return count
