"""Reads of stock shared by every app: what is held, what is available, what is low.

Each rule is written here once:

- **available** = on hand - allocated (ALLOCATION: committed to placed orders) - unexpired
  HOLDs of other carts (time-limited, for a cart), never below 0. ``available_quantity`` is
  the SQL form (lists, filters, the catalogue's stock hints); ``available_from`` the same rule
  on rows already locked by a writer in ``inventory.services``.
- **low stock**: available at or below the row's ``low_stock_threshold``
  (``is_low_stock`` in Python, ``low_stock_condition`` on querysets from ``with_available``).

Read-only, no locks: for display and early validation; writers re-check under lock.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, TypedDict
from uuid import UUID

from django.db.models import (
    F,
    Func,
    IntegerField,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from inventory.models import StockHold, StockItem

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class StockAvailability(TypedDict):
    """The annotations ``with_available`` adds to stock rows."""

    held: int
    available: int


def available_from(*, on_hand: int, allocated: int, held: int) -> int:
    """Return the available quantity of one stock row: the rule of ``available_quantity``."""
    return max(0, on_hand - allocated - held)


def is_low_stock(*, available: int, threshold: int) -> bool:
    """Return whether ``available`` is low stock: at or below ``threshold``."""
    return available <= threshold


#: What shoppers see of a stock row (API.md ``stock_hint``): never the count.
IN_STOCK = "in_stock"
LOW_STOCK = "low_stock"
OUT_OF_STOCK = "out_of_stock"


def stock_hint(*, available: int, threshold: int) -> str:
    """Return ``"in_stock"``, ``"low_stock"`` (available <= threshold) or ``"out_of_stock"``."""
    if available <= 0:
        return OUT_OF_STOCK
    if is_low_stock(available=available, threshold=threshold):
        return LOW_STOCK
    return IN_STOCK


def low_stock_condition() -> Q:
    """Return the low-stock filter for rows annotated by ``with_available``."""
    return Q(available__lte=F("low_stock_threshold"))


def active_holds(
    *,
    variant_ids: Iterable[int],
    exclude_cart: UUID | None = None,
    now: datetime | None = None,
) -> dict[int, int]:
    """Return ``{variant_id: held quantity}`` of unexpired holds (one query).

    Holds of ``exclude_cart`` are left out; variants without holds are absent.
    """
    qs = StockHold.objects.filter(
        variant_id__in=list(variant_ids), expires_at__gt=now or timezone.now()
    )
    if exclude_cart is not None:
        qs = qs.exclude(cart_token=exclude_cart)
    return dict(qs.values("variant_id").annotate(q=Sum("quantity")).values_list("variant_id", "q"))


def hold_expiry(*, cart_token: UUID, now: datetime | None = None) -> datetime | None:
    """Return when the cart's active hold expires, or None when it holds nothing (one query).

    A cart's hold rows share one expiry (``inventory.services.hold_stock``); the earliest
    unexpired one is returned.
    """
    return (
        StockHold.objects.filter(cart_token=cart_token, expires_at__gt=now or timezone.now())
        .order_by("expires_at")
        .values_list("expires_at", flat=True)
        .first()
    )


def holding_carts_from_ip(
    *, client_ip: str, exclude_cart: UUID | None = None, now: datetime | None = None
) -> dict[UUID, datetime]:
    """Return ``{cart token: hold expiry}`` of the carts with an active hold from ``client_ip``.

    One query. The cart ``exclude_cart`` is left out. Without a lock: the bound on it is
    enforced by ``inventory.services.hold_stock`` under a per-IP lock.
    """
    qs = StockHold.objects.filter(client_ip=client_ip, expires_at__gt=now or timezone.now())
    if exclude_cart is not None:
        qs = qs.exclude(cart_token=exclude_cart)
    rows = qs.values("cart_token").annotate(expires=Min("expires_at"))
    return {row["cart_token"]: row["expires"] for row in rows}


def held_quantity(
    *, variant_ref: str, now: datetime | None = None, exclude_cart: UUID | None = None
) -> Subquery:
    """Return an SQL subquery: the quantity held by unexpired holds (NULL when none).

    ``variant_ref`` names the variant id on the outer queryset (``"variant_id"`` on stock
    items, ``"pk"`` on variants). Holds of ``exclude_cart`` are left out.
    """
    holds = StockHold.objects.filter(
        variant_id=OuterRef(variant_ref), expires_at__gt=now or timezone.now()
    )
    if exclude_cart is not None:
        holds = holds.exclude(cart_token=exclude_cart)
    total = holds.values("variant_id").annotate(total=Sum("quantity")).values("total")
    return Subquery(total, output_field=IntegerField())


def _clamped_available(*, stock_path: str, held: Subquery | F) -> Func:
    return Greatest(
        Value(0),
        Coalesce(F(f"{stock_path}on_hand"), Value(0))
        - Coalesce(F(f"{stock_path}allocated"), Value(0))
        - Coalesce(held, Value(0)),
        output_field=IntegerField(),
    )


def available_quantity(
    *,
    variant_ref: str = "variant_id",
    stock_path: str = "",
    now: datetime | None = None,
    exclude_cart: UUID | None = None,
) -> Func:
    """Return the SQL expression of the available quantity, never below 0.

    On a ``StockItem`` queryset use the defaults. On another model, ``variant_ref`` names the
    variant id and ``stock_path`` the path to its stock row, e.g. on variants
    ``variant_ref="pk", stock_path="stock__"``; a variant without a stock row has 0. Holds of
    ``exclude_cart`` (the viewer's own cart) are not subtracted.
    """
    held = held_quantity(variant_ref=variant_ref, now=now, exclude_cart=exclude_cart)
    return _clamped_available(stock_path=stock_path, held=held)


def with_available(
    *, queryset: QuerySet[StockItem], now: datetime | None = None
) -> QuerySet[WithAnnotations[StockItem, StockAvailability]]:
    """Annotate ``held`` (quantity in unexpired holds) and ``available`` on stock rows.

    (The inventory API shows ``held`` as ``reserved``, its name in the API contract.)
    """
    held = held_quantity(variant_ref="variant_id", now=now)
    return queryset.annotate(held=Coalesce(held, Value(0))).annotate(
        # The same rule as ``available_quantity``, reusing the ``held`` subquery.
        available=_clamped_available(stock_path="", held=F("held"))
    )


def availability(*, variant_ids: Iterable[int], cart_token: UUID | None = None) -> dict[int, int]:
    """Return ``{variant_id: available}`` for every id asked (0 without a stock row).

    The holds of ``cart_token`` count as that cart's own (not subtracted). One query.
    """
    ids = list(set(variant_ids))
    if not ids:
        return {}
    rows = (
        StockItem.objects.filter(variant_id__in=ids)
        .annotate(available=available_quantity(exclude_cart=cart_token))
        .values_list("variant_id", "available")
    )
    found = dict(rows)
    return {vid: found.get(vid, 0) for vid in ids}


__all__ = [
    "active_holds",
    "availability",
    "available_from",
    "available_quantity",
    "held_quantity",
    "hold_expiry",
    "holding_carts_from_ip",
    "is_low_stock",
    "low_stock_condition",
    "with_available",
]
