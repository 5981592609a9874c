"""Best-selling: units sold in the last 30 days, kept in ``Product.units_sold_30d``.

The order flow calls ``record_sales`` when an order is placed (the orders app connects it to
its ``order_placed`` signal, inside the checkout transaction): the day's ``ProductSales`` row
grows, so no sale is lost and nothing else is touched. ``refresh_popularity`` (the
``refresh_popularity`` command, every 10 minutes) recomputes the 30-day totals of every
product that has sales in the window (or had some), slides the window (deletes day rows
older than it) and then invalidates the catalogue cache once. Sorting by popularity reads
the stored column, never sums per request.

Why not recompute per order: the product row update and the catalogue cache invalidation it
needs cost every checkout queries and a lock on the product row (concurrent buyers of one
product queued on it), and emptied every cached page at each order. The best-selling order
may lag real sales by up to the refresh interval, which a best-selling sort can afford.
"""

from collections.abc import Iterable, Mapping
from datetime import date, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from catalog.cache import bump_catalog_version
from catalog.models import Product, ProductSales

WINDOW_DAYS = 30


def _window_start(today: date) -> date:
    return today - timedelta(days=WINDOW_DAYS - 1)


def record_sales(*, units_by_product: Mapping[int, int], day: date | None = None) -> None:
    """Add sold units per product id to ``day`` (today); ``refresh_popularity`` turns them into
    the 30-day totals.

    Runs in the caller's transaction (the checkout's) or its own. Concurrent checkouts add
    with ``F()`` increments, so no sale is lost; the per-day row is created once (a unique
    constraint, retried as an increment when another transaction created it first).
    """
    today = day or timezone.localdate()
    wanted = {pid: units for pid, units in units_by_product.items() if units > 0}
    with transaction.atomic():
        for product_id in sorted(wanted):
            units = wanted[product_id]
            row = ProductSales.objects.filter(product_id=product_id, day=today)
            if row.update(units=F("units") + units):
                continue
            try:
                with transaction.atomic():
                    ProductSales.objects.create(product_id=product_id, day=today, units=units)
            except IntegrityError:
                row.update(units=F("units") + units)


def _refresh(*, product_ids: Iterable[int] | None, today: date) -> int:
    window = ProductSales.objects.filter(product_id=OuterRef("pk"), day__gte=_window_start(today))
    total = Subquery(
        window.order_by().values("product_id").annotate(n=Sum("units")).values("n")[:1]
    )
    products = Product.objects.all()
    if product_ids is not None:
        products = products.filter(pk__in=list(product_ids))
    else:
        products = products.filter(
            Q(units_sold_30d__gt=0) | Q(pk__in=ProductSales.objects.values("product_id"))
        )
    updated = products.update(units_sold_30d=Coalesce(total, Value(0)))
    bump_catalog_version()
    return updated


def refresh_popularity(*, today: date | None = None) -> int:
    """Recompute every product's 30-day total and drop older day rows; return products updated.

    Idempotent; run every few minutes (new sales count from the next run) and at least daily
    (products that stopped selling fall back).
    """
    today = today or timezone.localdate()
    with transaction.atomic():
        updated = _refresh(product_ids=None, today=today)
        ProductSales.objects.filter(day__lt=_window_start(today)).delete()
    return updated
