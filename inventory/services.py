"""The only code that writes stock: stock rows, holds, allocations and the movement ledger.

Layering: inventory sits *below* the catalogue (``catalog > inventory``). It knows a variant
only by its id (the string foreign key ``"catalog.Variant"``) and imports nothing of
``catalog``, ``cart`` or ``orders``; they call these services. Whoever must react to a change
listens to ``inventory.signals`` (the catalogue's cache listens to ``stock_changed``).

Vocabulary: a HOLD (``StockHold``) is a time-limited hold of stock for a cart; an ALLOCATION
(``StockItem.allocated``) is stock committed to a placed order.

Locking rule (every writer follows it, so there are no deadlocks): lock the ``StockItem``
rows involved with ``select_for_update`` ordered by ``variant_id``, once, at the start of the
transaction; then read holds and write. ``hold_stock`` first takes a per-client-IP advisory
lock (before any stock row; no one takes it after one). PostgreSQL enforces ``0 <= allocated <= on_hand``
with CHECK constraints as the last line of defence.

Every writer that changes what shoppers could see (stock, holds) ends with
``send_stock_changed``: its ``.update()`` writes send no model signals (``allocate`` and
``deallocate``, run by every order, only when a stock hint changes: ``_shelf_states``). That
signal goes out after commit; ``stock_low`` is sent inside the transaction (the alert's outbox row commits
with the stock change).
"""

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol
from uuid import UUID

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import User
from inventory.errors import InsufficientStock, TooManyHolds
from inventory.models import (
    MovementReason,
    StockHold,
    StockItem,
    StockMovement,
    default_low_stock_threshold,
)
from inventory.selectors import (
    active_holds,
    available_from,
    hold_expiry,
    holding_carts_from_ip,
    is_low_stock,
    stock_hint,
)
from inventory.signals import send_stock_changed, stock_low


class VariantRef(Protocol):
    """What inventory needs of a variant (a ``catalog.Variant``): its id and SKU."""

    pk: Any
    sku: str


@dataclass(frozen=True)
class StockLine:
    """A quantity of one variant (what a cart line or an order line asks for)."""

    variant_id: int
    quantity: int
    sku: str = ""


def _merge(lines: Iterable[StockLine]) -> dict[int, StockLine]:
    merged: dict[int, StockLine] = {}
    for line in lines:
        if line.quantity <= 0:
            continue
        prev = merged.get(line.variant_id)
        qty = line.quantity + (prev.quantity if prev else 0)
        merged[line.variant_id] = StockLine(
            line.variant_id, qty, line.sku or (prev.sku if prev else "")
        )
    return merged


def _lock(variant_ids: Iterable[int]) -> dict[int, StockItem]:
    """Lock the stock rows of ``variant_ids`` in variant-id order; return them by variant id.

    A variant without a stock row gets one (on_hand 0) so it can be locked like the others.
    """
    ids = sorted(set(variant_ids))
    rows = (
        StockItem.objects.select_for_update(of=("self",))
        .filter(variant_id__in=ids)
        .order_by("variant_id")
    )
    locked = {row.variant_id: row for row in rows}
    missing = [vid for vid in ids if vid not in locked]
    if not missing:
        return locked  # the usual case: one query
    # Create the missing rows (another writer may create them first), then lock them all
    # again in variant order: locks already held are kept, so the order rule still holds.
    StockItem.objects.bulk_create(
        [StockItem(variant_id=vid) for vid in missing], ignore_conflicts=True
    )
    return {row.variant_id: row for row in rows.all()}


def _movement(
    *,
    variant_id: int,
    delta: int,
    reason: str,
    on_hand_after: int,
    user: User | None = None,
    order_number: str = "",
    note: str = "",
) -> StockMovement:
    """Return the (unsaved) ledger row of one change to on-hand: every writer builds it here."""
    return StockMovement(
        variant_id=variant_id,
        delta=delta,
        reason=reason,
        on_hand_after=on_hand_after,
        user=user,
        order_number=order_number,
        note=note,
    )


def _available(item: StockItem, held: dict[int, int]) -> int:
    return available_from(
        on_hand=item.on_hand, allocated=item.allocated, held=held.get(item.variant_id, 0)
    )


def _check(lines: dict[int, StockLine], items: dict[int, StockItem], held: dict[int, int]) -> None:
    short = []
    for vid, line in lines.items():
        available = _available(items[vid], held)
        if line.quantity > available:
            short.append({"sku": line.sku, "requested": line.quantity, "available": available})
    if short:
        raise InsufficientStock(short)


def _after_sale_or_adjust(item: StockItem, held: dict[int, int], sku: str = "") -> None:
    """Raise the low-stock flag (and send ``stock_low``, in this transaction) or clear it."""
    available = _available(item, held)
    low = is_low_stock(available=available, threshold=item.low_stock_threshold)
    if low and not item.low_stock_alerted:
        item.low_stock_alerted = True
        StockItem.objects.filter(pk=item.pk).update(low_stock_alerted=True)
        if not sku:
            sku = item.variant.sku
        stock_low.send(sender=StockItem, stock_item_id=item.pk, sku=sku, available=available)
    elif not low and item.low_stock_alerted:
        item.low_stock_alerted = False
        StockItem.objects.filter(pk=item.pk).update(low_stock_alerted=False)


def _shelf_states(items: dict[int, StockItem], held: dict[int, int]) -> dict[int, str]:
    """Return what shoppers see of each locked row: sold out, low stock or in stock.

    Shoppers never see counts (API.md: stock hints only), so a change that leaves every hint
    as it was needs no ``stock_changed`` notice: the catalogue's cache (every cached page and
    card) stays valid, and no back-in-stock alert can have come due. Allocation and
    deallocation, the per-order writes, send it only when a hint changes; without this every
    order emptied the catalogue cache.
    """
    return {
        vid: stock_hint(available=_available(item, held), threshold=item.low_stock_threshold)
        for vid, item in items.items()
    }


# The key pair of the PostgreSQL advisory lock that serializes new holds per client IP:
# (this constant, hashtext(ip)). Two addresses sharing a hash merely wait for each other.
HOLDS_PER_IP_LOCK = 0x484F4C44  # "HOLD"


def _lock_client_ip(client_ip: str) -> None:
    """Serialize hold writes from ``client_ip`` until the transaction ends.

    PostgreSQL: a transaction-level advisory lock, so two requests from one address cannot
    both count the address's holding carts and both add one. SQLite (development only;
    production refuses it) lets one transaction write at a time.
    """
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [HOLDS_PER_IP_LOCK, client_ip]
        )


def _check_holds_per_ip(*, client_ip: str, cart_token: UUID, now: datetime) -> None:
    limit = settings.SHOP_MAX_HOLDS_PER_IP
    others = holding_carts_from_ip(client_ip=client_ip, exclude_cart=cart_token, now=now)
    if len(others) >= limit:
        soonest = min(others.values(), default=now)
        raise TooManyHolds(
            "Too many carts from your network are holding stock right now; your items are not "
            "held, but you can still place your order.",
            retry_after=max(1, math.ceil((soonest - now).total_seconds())),
        )


def _cap_units(lines: dict[int, StockLine], limit: int) -> dict[int, StockLine]:
    """Return the first ``limit`` units of ``lines`` (in order); later units are dropped."""
    capped: dict[int, StockLine] = {}
    left = limit
    for vid, line in lines.items():
        if left <= 0:
            break
        quantity = min(line.quantity, left)
        capped[vid] = StockLine(vid, quantity, line.sku)
        left -= quantity
    return capped


@transaction.atomic
def hold_stock(
    *,
    cart_token: UUID,
    lines: Iterable[StockLine],
    ttl_seconds: int | None = None,
    client_ip: str | None = None,
) -> datetime:
    """Hold ``lines`` for the cart, replacing its earlier hold; return the hold's expiry.

    The rules of a hold (README glossary, "Hold"):

    - One hold per cart. While the cart's hold is active, holding again replaces its
      quantities and keeps its expiry (``ttl_seconds`` is ignored). Otherwise the new hold
      lasts ``ttl_seconds`` (default: ``SHOP_RESERVATION_TTL``).
    - Never more than the cart could buy: all or nothing, every line must be available
      (``InsufficientStock`` lists the short ones), and at most
      ``SHOP_MAX_HELD_UNITS_PER_CART`` units are held in all, the first lines' first; the
      units beyond are simply not held.
    - With ``client_ip`` (the address starting checkout, stored on the hold): at most
      ``SHOP_MAX_HOLDS_PER_IP`` carts hold stock per address at a time; one more raises
      ``TooManyHolds`` (nothing changes). Without it (restoring a hold the cart had) the
      bound is not checked.

    Atomic. Locks, in this order: the client IP (advisory lock, PostgreSQL), then the stock
    rows in variant-id order. The caller may hold the cart row (``cart.services``), never a
    stock row.
    """
    merged = _merge(lines)
    now = timezone.now()
    if client_ip is not None:
        _lock_client_ip(client_ip)
        _check_holds_per_ip(client_ip=client_ip, cart_token=cart_token, now=now)
    items = _lock(merged)
    held = active_holds(variant_ids=merged, exclude_cart=cart_token, now=now)
    _check(merged, items, held)
    ttl = settings.SHOP_RESERVATION_TTL if ttl_seconds is None else ttl_seconds
    expires_at = hold_expiry(cart_token=cart_token, now=now) or now + timedelta(seconds=ttl)
    StockHold.objects.filter(cart_token=cart_token).delete()
    StockHold.objects.bulk_create(
        [
            StockHold(
                variant_id=vid,
                cart_token=cart_token,
                quantity=line.quantity,
                expires_at=expires_at,
                client_ip=client_ip,
            )
            for vid, line in _cap_units(merged, settings.SHOP_MAX_HELD_UNITS_PER_CART).items()
        ]
    )
    send_stock_changed()
    return expires_at


def release_holds(*, cart_token: UUID) -> int:
    """Drop every hold of the cart; return how many were dropped."""
    deleted, _ = StockHold.objects.filter(cart_token=cart_token).delete()
    if deleted:
        send_stock_changed()
    return deleted


def release_expired_holds(*, now: datetime | None = None) -> int:
    """Delete expired holds (they already count for nothing); return how many."""
    deleted, _ = StockHold.objects.filter(expires_at__lte=now or timezone.now()).delete()
    if deleted:
        send_stock_changed()
    return deleted


@transaction.atomic
def allocate(
    *, lines: Iterable[StockLine], order_number: str = "", cart_token: UUID | None = None
) -> None:
    """Allocate stock to an order: all lines or none.

    Locks the stock rows in variant-id order, counts the cart's own holds as its own (they are
    converted, then deleted), raises ``InsufficientStock`` listing every short line.
    """
    merged = _merge(lines)
    items = _lock(merged)
    held = active_holds(variant_ids=merged, exclude_cart=cart_token)
    _check(merged, items, held)
    before = _shelf_states(items, held)
    for vid, line in merged.items():
        item = items[vid]
        item.allocated += line.quantity
        StockItem.objects.filter(pk=item.pk).update(allocated=item.allocated)
    converted = 0
    if cart_token is not None:
        converted, _ = StockHold.objects.filter(cart_token=cart_token).delete()
    for vid, line in merged.items():
        _after_sale_or_adjust(items[vid], held, line.sku)
    # Converted holds counted for shoppers before (``held`` leaves them out): always a notice.
    if converted or _shelf_states(items, held) != before:
        send_stock_changed()


@transaction.atomic
def deallocate(*, lines: Iterable[StockLine], order_number: str = "") -> None:
    """Give back an unshipped order's allocation (cancel). Locks rows in variant-id order."""
    merged = _merge(lines)
    items = _lock(merged)
    held = active_holds(variant_ids=merged)
    before = _shelf_states(items, held)
    for vid, line in merged.items():
        item = items[vid]
        item.allocated = max(0, item.allocated - line.quantity)
        StockItem.objects.filter(pk=item.pk).update(allocated=item.allocated)
    for vid, line in merged.items():
        _after_sale_or_adjust(items[vid], held, line.sku)
    if _shelf_states(items, held) != before:
        send_stock_changed()


@transaction.atomic
def ship(*, lines: Iterable[StockLine], order_number: str, user: User | None = None) -> None:
    """Ship allocated stock: ``on_hand`` and ``allocated`` both go down; writes ``sale`` moves.

    Locks rows in variant-id order. Raises ``InsufficientStock`` (nothing shipped) if a line
    asks for more than is allocated.
    """
    merged = _merge(lines)
    items = _lock(merged)
    short = [
        {"sku": line.sku, "requested": line.quantity, "available": items[vid].allocated}
        for vid, line in merged.items()
        if line.quantity > items[vid].allocated
    ]
    if short:
        raise InsufficientStock(short, detail="Cannot ship more than is allocated.")
    for vid, line in merged.items():
        item = items[vid]
        item.on_hand -= line.quantity
        item.allocated -= line.quantity
        StockItem.objects.filter(pk=item.pk).update(on_hand=item.on_hand, allocated=item.allocated)
        _movement(
            variant_id=vid,
            delta=-line.quantity,
            reason=MovementReason.SALE,
            on_hand_after=item.on_hand,
            user=user,
            order_number=order_number,
        ).save()
    send_stock_changed()


ADJUST_REASONS = {MovementReason.RESTOCK, MovementReason.CORRECTION, MovementReason.DAMAGE}


@transaction.atomic
def adjust(
    *, variant: VariantRef, delta: int, reason: str, user: User | None = None, note: str = ""
) -> StockItem:
    """Change ``on_hand`` by ``delta`` (restock, correction, damage) and record the movement.

    Locks the variant's stock row. Raises ``InsufficientStock`` if on-hand would drop below
    what is allocated (or below zero); ``ValueError`` for an unknown reason or zero delta.
    """
    if reason not in ADJUST_REASONS:
        raise ValueError(f"Unknown adjustment reason: {reason}")
    if delta == 0:
        raise ValueError("delta must not be zero")
    item = _lock([variant.pk])[variant.pk]
    if item.on_hand + delta < item.allocated:
        raise InsufficientStock(
            [
                {
                    "sku": variant.sku,
                    "requested": -delta,
                    "available": item.on_hand - item.allocated,
                }
            ],
            detail="On-hand cannot go below the quantity allocated to orders.",
        )
    item.on_hand += delta
    StockItem.objects.filter(pk=item.pk).update(on_hand=item.on_hand)
    _movement(
        variant_id=variant.pk,
        delta=delta,
        reason=reason,
        on_hand_after=item.on_hand,
        user=user,
        note=note,
    ).save()
    _after_sale_or_adjust(item, active_holds(variant_ids=[variant.pk]), variant.sku)
    send_stock_changed()
    item.refresh_from_db()
    return item


def restock(
    *, variant: VariantRef, quantity: int, user: User | None = None, note: str = ""
) -> StockItem:
    """Add ``quantity`` units received from a supplier (a ``restock`` movement).

    Raises ``ValueError`` unless ``quantity`` is positive.
    """
    if quantity <= 0:
        raise ValueError("quantity must be positive")
    return adjust(
        variant=variant, delta=quantity, reason=MovementReason.RESTOCK, user=user, note=note
    )


@transaction.atomic
def receive_return(
    *, lines: Iterable[StockLine], order_number: str, user: User | None = None
) -> None:
    """Put returned units back on hand and record ``return`` movements."""
    merged = _merge(lines)
    items = _lock(merged)
    held = active_holds(variant_ids=merged)
    for vid, line in merged.items():
        item = items[vid]
        item.on_hand += line.quantity
        StockItem.objects.filter(pk=item.pk).update(on_hand=item.on_hand)
        _movement(
            variant_id=vid,
            delta=line.quantity,
            reason=MovementReason.RETURN,
            on_hand_after=item.on_hand,
            user=user,
            order_number=order_number,
        ).save()
        _after_sale_or_adjust(item, held, line.sku)
    send_stock_changed()


def set_on_hand(
    *, variant: VariantRef, on_hand: int, user: User | None = None, note: str = ""
) -> None:
    """Bring the variant's on-hand to ``on_hand`` with a restock (up) or correction (down).

    Nothing is written when it is already there. Raises ``InsufficientStock`` if that is
    below what is allocated to orders.
    """
    current = StockItem.objects.filter(variant_id=variant.pk).values_list("on_hand", flat=True)
    delta = on_hand - (current.first() or 0)
    if delta:
        reason = MovementReason.RESTOCK if delta > 0 else MovementReason.CORRECTION
        adjust(variant=variant, delta=delta, reason=reason, user=user, note=note)


@transaction.atomic
def create_stock_item(
    *,
    variant: VariantRef,
    on_hand: int = 0,
    low_stock_threshold: int | None = None,
    user: User | None = None,
    note: str = "initial stock",
) -> StockItem:
    """Create the stock row of a new variant, with ``on_hand`` as its starting stock.

    Starting stock goes through ``restock`` (a ``restock`` movement in the ledger, the
    low-stock check and its alert) like any delivery. ``low_stock_threshold`` defaults to
    ``SHOP_LOW_STOCK_THRESHOLD``. Atomic. Raises ``ValueError`` for a negative ``on_hand`` and
    ``IntegrityError`` if the variant already has a stock row.
    """
    if on_hand < 0:
        raise ValueError("on_hand cannot be negative")
    extra = {} if low_stock_threshold is None else {"low_stock_threshold": low_stock_threshold}
    item = StockItem.objects.create(variant_id=variant.pk, **extra)
    if on_hand:
        item = restock(variant=variant, quantity=on_hand, user=user, note=note)
    return item


@transaction.atomic
def create_stock_items(
    *,
    on_hand: Mapping[int, int],
    low_stock_threshold: int | None = None,
    note: str = "initial stock",
    batch_size: int = 2000,
) -> int:
    """Create stock rows for many new variants at once (``{variant_id: starting on-hand}``).

    For bulk loads (``seed_shop``): a few statements whatever the number of variants. Each
    positive starting stock is recorded as the ``restock`` movement ``restock`` would write.
    No low-stock alert goes out for a starting stock: rows that start at or below their
    threshold are marked as already alerted. Variants that already have a stock row are
    skipped. Atomic; returns how many rows were created.
    """
    if any(quantity < 0 for quantity in on_hand.values()):
        raise ValueError("on_hand cannot be negative")
    threshold = (
        default_low_stock_threshold() if low_stock_threshold is None else low_stock_threshold
    )
    ids = list(on_hand)
    existing: set[int] = set()
    for start in range(0, len(ids), batch_size):
        chunk = ids[start : start + batch_size]
        rows = StockItem.objects.filter(variant_id__in=chunk).values_list("variant_id", flat=True)
        existing.update(rows)
    new = {vid: qty for vid, qty in on_hand.items() if vid not in existing}
    StockItem.objects.bulk_create(
        [
            StockItem(
                variant_id=vid,
                on_hand=qty,
                low_stock_threshold=threshold,
                low_stock_alerted=is_low_stock(available=qty, threshold=threshold),
            )
            for vid, qty in new.items()
        ],
        batch_size=batch_size,
    )
    StockMovement.objects.bulk_create(
        [
            _movement(
                variant_id=vid,
                delta=qty,
                reason=MovementReason.RESTOCK,
                on_hand_after=qty,
                note=note,
            )
            for vid, qty in new.items()
            if qty
        ],
        batch_size=batch_size,
    )
    if new:
        send_stock_changed()
    return len(new)


def set_low_stock_threshold(*, variant: VariantRef, threshold: int) -> StockItem:
    """Set the variant's low-stock threshold (creating its stock row if missing); return it.

    The low-stock flag is re-evaluated at the next stock change, not here.
    """
    item, _ = StockItem.objects.get_or_create(variant_id=variant.pk)
    item.low_stock_threshold = threshold
    item.save(update_fields=["low_stock_threshold", "updated_at"])
    return item


__all__ = [
    "ADJUST_REASONS",
    "StockLine",
    "VariantRef",
    "adjust",
    "allocate",
    "create_stock_item",
    "create_stock_items",
    "deallocate",
    "hold_stock",
    "receive_return",
    "release_expired_holds",
    "release_holds",
    "restock",
    "set_low_stock_threshold",
    "set_on_hand",
    "ship",
]
