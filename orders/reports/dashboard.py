"""The staff dashboard's figures: sales of the last 30 days, order pipeline, best sellers,
low stock, the packing list. The page is ``orders.reports.views``; the chart layout is
``orders.reports.charts``.

Every figure is aggregated in the database (``TruncDate``, ``Sum``, ``Count``); the page runs
a fixed number of queries whatever the number of orders, products or stock rows.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import TypedDict

from django.db.models import Count, DecimalField, F, Prefetch, Sum
from django.db.models.functions import TruncDate
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from catalog.models import Variant
from inventory.models import StockItem
from inventory.selectors import low_stock_condition, with_available
from orders.models import UNPAID_STATUSES, Order, OrderLine, OrderStatus

DAYS = 30
TOP_PRODUCTS = 10
LOW_STOCK_LIMIT = 50
PACKING_LIMIT = 50


@dataclass(frozen=True)
class DaySales:
    day: date
    orders: int
    revenue: Decimal


def sales_by_day(*, days: int = DAYS, today: date | None = None) -> list[DaySales]:
    """Return one entry per day (oldest first) with the orders placed and their net revenue.

    Net revenue is ``total - refunded_total``, so cancelled (fully refunded) orders count for
    nothing and returns reduce the day the order was placed. Orders never paid (still waiting
    for the payment, or cancelled before it went through) are left out. Days without orders
    are zeros. One query.
    """
    tz = timezone.get_current_timezone()
    today = today or timezone.localdate()
    start = today - timedelta(days=days - 1)
    rows = (
        Order.objects.filter(created_at__date__gte=start, created_at__date__lte=today)
        .exclude(payment_status__in=UNPAID_STATUSES)
        .annotate(day=TruncDate("created_at", tzinfo=tz))
        .values("day")
        .annotate(orders=Count("id"), revenue=Sum(F("total") - F("refunded_total")))
        .order_by("day")
    )
    by_day = {row["day"]: row for row in rows}
    result = []
    for offset in range(days):
        day = start + timedelta(days=offset)
        row = by_day.get(day)
        result.append(
            DaySales(
                day=day,
                orders=row["orders"] if row else 0,
                revenue=(row["revenue"] or Decimal("0.00")) if row else Decimal("0.00"),
            )
        )
    return result


def orders_by_status() -> list[dict]:
    """Return ``[{"status", "label", "count"}]`` for every status (zeros included). One query."""
    counts = dict(
        Order.objects.order_by().values("status").annotate(n=Count("id")).values_list("status", "n")
    )
    return [
        {"status": value, "label": label, "count": counts.get(value, 0)}
        for value, label in OrderStatus.choices
    ]


class ProductSales(TypedDict):
    """One best seller (``variant__product_id`` is None once the variant was deleted)."""

    variant__product_id: int | None
    product_name: str
    units: int
    revenue: Decimal


@dataclass(frozen=True)
class LowStockRow:
    """A stock row at or below its threshold, as the dashboard lists it."""

    variant: Variant
    available: int
    low_stock_threshold: int
    restock_url: str  # its inventory admin page; "" when that admin is not registered


def top_products(
    *, days: int = DAYS, today: date | None = None, limit: int = TOP_PRODUCTS
) -> list[ProductSales]:
    """Return the best sellers by units and revenue, both net of returns (a returned unit
    takes its unit price off the line's revenue), in orders of the last ``days`` days.

    Cancelled orders, drafts and orders waiting for their payment do not count. Grouped by product (lines whose variant was deleted are
    grouped under their snapshot name). One query.
    """
    today = today or timezone.localdate()
    start = today - timedelta(days=days - 1)
    rows = (
        OrderLine.objects.filter(order__created_at__date__gte=start)
        .exclude(
            order__status__in=[
                OrderStatus.CANCELLED,
                OrderStatus.PENDING_PAYMENT,
                OrderStatus.DRAFT,
            ]
        )
        .values("variant__product_id", "product_name")
        .annotate(
            units=Sum(F("quantity") - F("returned_quantity")),
            revenue=Sum(
                F("line_total") - F("unit_price") * F("returned_quantity"),
                output_field=DecimalField(max_digits=12, decimal_places=2),
            ),
        )
        .filter(units__gt=0)
        .order_by("-units", "product_name")[:limit]
    )
    return [
        ProductSales(
            variant__product_id=row["variant__product_id"],
            product_name=row["product_name"],
            units=row["units"],
            revenue=row["revenue"],
        )
        for row in rows
    ]


def low_stock(*, limit: int = LOW_STOCK_LIMIT) -> list[LowStockRow]:
    """Return the stock rows whose available quantity is at or below their threshold, worst
    first, each with its variant (and product) and ``restock_url``. One query.
    """
    rows = (
        with_available(queryset=StockItem.objects.select_related("variant__product"))
        .filter(low_stock_condition(), variant__is_active=True)
        .order_by("available", "variant__sku")[:limit]
    )
    return [
        LowStockRow(
            variant=row.variant,
            available=row.available,
            low_stock_threshold=row.low_stock_threshold,
            restock_url=_restock_url(row),
        )
        for row in rows
    ]


def _restock_url(item: StockItem) -> str:
    try:
        return reverse("admin:inventory_stockitem_change", args=[item.pk])
    except NoReverseMatch:
        return ""


def packing_list(*, limit: int = PACKING_LIMIT) -> list[Order]:
    """Return orders waiting in ``processing``, oldest first, with their lines. Two queries."""
    return list(
        Order.objects.filter(status=OrderStatus.PROCESSING)
        .only("id", "number", "email", "created_at", "status", "shipping_address")
        .prefetch_related(
            Prefetch(
                "lines",
                queryset=OrderLine.objects.only(
                    "id", "order_id", "sku", "product_name", "variant_name", "quantity"
                ),
            )
        )
        .order_by("created_at", "id")[:limit]
    )
