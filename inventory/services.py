"""The only code that changes stock.

Locking rule (every writer follows it, so there are no deadlocks): lock the ``StockItem``
rows involved with ``select_for_update`` ordered by ``variant_id``, once, at the start of the
transaction; then read reservations and write. PostgreSQL enforces ``0 <= allocated <=
on_hand`` with CHECK constraints as the last line of defence.

Every writer that changes what shoppers could see (stock, holds) ends with
``bump_catalog_version()``: its ``.update()`` writes send no signals, and the catalog caches
stock hints (``catalog.cache``). The bump runs after commit.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.db.models import F, IntegerField, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from catalog.cache import bump_catalog_version
from inventory.errors import InsufficientStock
from inventory.models import MovementReason, Reservation, StockItem, StockMovement
from inventory.signals import stock_low


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
    existing = set(
        StockItem.objects.filter(variant_id__in=ids).values_list("variant_id", flat=True)
    )
    missing = [vid for vid in ids if vid not in existing]
    if missing:
        StockItem.objects.bulk_create(
            [StockItem(variant_id=vid) for vid in missing], ignore_conflicts=True
        )
    rows = (
        StockItem.objects.select_for_update(of=("self",))
        .filter(variant_id__in=ids)
        .order_by("variant_id")
    )
    return {row.variant_id: row for row in rows}


def active_reservations(
    variant_ids: Iterable[int], *, exclude_cart: UUID | None = None, now: datetime | None = None
) -> dict[int, int]:
    """Return ``{variant_id: held quantity}`` of unexpired holds, other carts' only if asked."""
    now = now or timezone.now()
    qs = Reservation.objects.filter(variant_id__in=list(variant_ids), expires_at__gt=now)
    if exclude_cart is not None:
        qs = qs.exclude(cart_token=exclude_cart)
    return dict(qs.values("variant_id").annotate(q=Sum("quantity")).values_list("variant_id", "q"))


def availability(variant_ids: Iterable[int], *, cart_token: UUID | None = None) -> dict[int, int]:
    """Return ``{variant_id: available}`` = on_hand - allocated - other carts' active holds.

    Read-only, no locks: for display and early validation; the writers re-check under lock.
    Two queries whatever the number of variants.
    """
    ids = list(set(variant_ids))
    rows = StockItem.objects.filter(variant_id__in=ids).values_list(
        "variant_id", "on_hand", "allocated"
    )
    free = {vid: on_hand - allocated for vid, on_hand, allocated in rows}
    held = active_reservations(ids, exclude_cart=cart_token) if free else {}
    return {vid: max(0, free.get(vid, 0) - held.get(vid, 0)) for vid in ids}


def _available(item: StockItem, held: dict[int, int]) -> int:
    return item.on_hand - item.allocated - held.get(item.variant_id, 0)


def _check(lines: dict[int, StockLine], items: dict[int, StockItem], held: dict[int, int]) -> None:
    short = []
    for vid, line in lines.items():
        item = items[vid]
        available = max(0, _available(item, held))
        if line.quantity > available:
            short.append({"sku": line.sku, "requested": line.quantity, "available": available})
    if short:
        raise InsufficientStock(short)


def _after_sale_or_adjust(item: StockItem, held: dict[int, int], sku: str = "") -> None:
    """Raise the low-stock flag (and signal after commit) or clear it after a restock."""
    available = _available(item, held)
    if available <= item.low_stock_threshold and not item.low_stock_alerted:
        item.low_stock_alerted = True
        StockItem.objects.filter(pk=item.pk).update(low_stock_alerted=True)
        if not sku:
            sku = item.variant.sku
        transaction.on_commit(
            partial(
                stock_low.send,
                sender=StockItem,
                stock_item_id=item.pk,
                sku=sku,
                available=max(0, available),
            )
        )
    elif available > item.low_stock_threshold and item.low_stock_alerted:
        item.low_stock_alerted = False
        StockItem.objects.filter(pk=item.pk).update(low_stock_alerted=False)


@transaction.atomic
def reserve(
    *, cart_token: UUID, lines: Iterable[StockLine], ttl_seconds: int | None = None
) -> datetime:
    """Hold ``lines`` for the cart until the returned expiry, replacing its earlier holds.

    All or nothing: locks the stock rows (variant-id order) and raises ``InsufficientStock``
    if any line exceeds what other carts and orders leave available.
    """
    merged = _merge(lines)
    ttl = settings.SHOP_RESERVATION_TTL if ttl_seconds is None else ttl_seconds
    expires_at = timezone.now() + timedelta(seconds=ttl)
    items = _lock(merged)
    held = active_reservations(merged, exclude_cart=cart_token)
    _check(merged, items, held)
    Reservation.objects.filter(cart_token=cart_token).delete()
    Reservation.objects.bulk_create(
        [
            Reservation(
                variant_id=vid, cart_token=cart_token, quantity=line.quantity, expires_at=expires_at
            )
            for vid, line in merged.items()
        ]
    )
    bump_catalog_version()
    return expires_at


def release(*, cart_token: UUID) -> int:
    """Drop every hold of the cart; return how many were dropped."""
    deleted, _ = Reservation.objects.filter(cart_token=cart_token).delete()
    if deleted:
        bump_catalog_version()
    return deleted


def release_expired(*, now: datetime | None = None) -> int:
    """Delete expired holds (they already count for nothing); return how many."""
    deleted, _ = Reservation.objects.filter(expires_at__lte=now or timezone.now()).delete()
    if deleted:
        bump_catalog_version()
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
    held = active_reservations(merged, exclude_cart=cart_token)
    _check(merged, items, held)
    for vid, line in merged.items():
        item = items[vid]
        item.allocated += line.quantity
        StockItem.objects.filter(pk=item.pk).update(allocated=item.allocated)
    if cart_token is not None:
        Reservation.objects.filter(cart_token=cart_token).delete()
    for vid, line in merged.items():
        _after_sale_or_adjust(items[vid], held, line.sku)
    bump_catalog_version()


@transaction.atomic
def deallocate(*, lines: Iterable[StockLine], order_number: str = "") -> None:
    """Give back an unshipped order's allocation (cancel). Locks rows in variant-id order."""
    merged = _merge(lines)
    items = _lock(merged)
    for vid, line in merged.items():
        item = items[vid]
        item.allocated = max(0, item.allocated - line.quantity)
        StockItem.objects.filter(pk=item.pk).update(allocated=item.allocated)
    held = active_reservations(merged)
    for vid, line in merged.items():
        _after_sale_or_adjust(items[vid], held, line.sku)
    bump_catalog_version()


@transaction.atomic
def ship(*, lines: Iterable[StockLine], order_number: str, user=None) -> None:
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
        StockMovement.objects.create(
            variant_id=vid,
            delta=-line.quantity,
            reason=MovementReason.SALE,
            on_hand_after=item.on_hand,
            user=user,
            order_number=order_number,
        )
    bump_catalog_version()


ADJUST_REASONS = {MovementReason.RESTOCK, MovementReason.CORRECTION, MovementReason.DAMAGE}


@transaction.atomic
def adjust(*, variant, delta: int, reason: str, user=None, note: str = "") -> StockItem:
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
    StockMovement.objects.create(
        variant=variant,
        delta=delta,
        reason=reason,
        on_hand_after=item.on_hand,
        user=user,
        note=note,
    )
    _after_sale_or_adjust(item, active_reservations([variant.pk]), variant.sku)
    bump_catalog_version()
    item.refresh_from_db()
    return item


def restock(*, variant, quantity: int, user=None, note: str = "") -> StockItem:
    """Add ``quantity`` units received from a supplier."""
    if quantity <= 0:
        raise ValueError("quantity must be positive")
    return adjust(
        variant=variant, delta=quantity, reason=MovementReason.RESTOCK, user=user, note=note
    )


@transaction.atomic
def receive_return(*, lines: Iterable[StockLine], order_number: str, user=None) -> None:
    """Put returned units back on hand and record ``return`` movements."""
    merged = _merge(lines)
    items = _lock(merged)
    held = active_reservations(merged)
    for vid, line in merged.items():
        item = items[vid]
        item.on_hand += line.quantity
        StockItem.objects.filter(pk=item.pk).update(on_hand=item.on_hand)
        StockMovement.objects.create(
            variant_id=vid,
            delta=line.quantity,
            reason=MovementReason.RETURN,
            on_hand_after=item.on_hand,
            user=user,
            order_number=order_number,
        )
        _after_sale_or_adjust(item, held, line.sku)
    bump_catalog_version()


def held_quantity(
    *, variant_ref: str, now: datetime | None = None, exclude_cart: UUID | None = None
) -> Subquery:
    """Return an SQL subquery: the quantity held by unexpired reservations (NULL when none).

    ``variant_ref`` names the variant id on the outer queryset (``"variant_id"`` on stock
    items, ``"pk"`` on variants). Holds of ``exclude_cart`` are left out.
    """
    holds = Reservation.objects.filter(
        variant_id=OuterRef(variant_ref), expires_at__gt=now or timezone.now()
    )
    if exclude_cart is not None:
        holds = holds.exclude(cart_token=exclude_cart)
    total = holds.values("variant_id").annotate(total=Sum("quantity")).values("total")
    return Subquery(total, output_field=IntegerField())


def with_available(qs: QuerySet[StockItem], *, now: datetime | None = None) -> QuerySet[StockItem]:
    """Annotate ``reserved`` (active holds) and ``available`` on a StockItem queryset."""
    held = held_quantity(variant_ref="variant_id", now=now)
    return qs.annotate(reserved=Coalesce(held, Value(0))).annotate(
        available=F("on_hand") - F("allocated") - F("reserved")
    )


__all__ = [
    "StockLine",
    "active_reservations",
    "adjust",
    "allocate",
    "availability",
    "deallocate",
    "held_quantity",
    "receive_return",
    "release",
    "release_expired",
    "reserve",
    "restock",
    "ship",
    "with_available",
]
