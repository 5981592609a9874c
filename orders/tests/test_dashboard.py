"""The staff dashboard: access, figures aggregated in the database, constant query count."""

from datetime import timedelta
from decimal import Decimal
from itertools import count

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import StaffUserFactory, UserFactory
from catalog.tests.factories import make_variant
from inventory.tests.factories import StockHoldFactory
from orders.models import Order, OrderLine, OrderStatus
from orders.reports import charts, dashboard

pytestmark = pytest.mark.django_db

URL = "/staff/dashboard/"
_numbers = count(1)


def make_order(*, user=None, status=OrderStatus.RECEIVED, lines=(), days_ago=0, refunded="0"):
    """Create an order with ``lines`` = [(variant, quantity)] placed ``days_ago`` days ago."""
    user = user or UserFactory()
    subtotal = sum((v.price * q for v, q in lines), Decimal("0.00"))
    order = Order.objects.create(
        number=f"T-{next(_numbers):05d}",
        user=user,
        email=user.email,
        status=status,
        currency="USD",
        subtotal=subtotal,
        shipping_total=Decimal("5.00"),
        total=subtotal + Decimal("5.00"),
        refunded_total=Decimal(refunded),
        shipping_address={"full_name": "Ada Lovelace", "city": "London", "country": "GB"},
    )
    for variant, quantity in lines:
        OrderLine.objects.create(
            order=order,
            variant=variant,
            sku=variant.sku,
            product_name=variant.product.name,
            variant_name=variant.name,
            unit_price=variant.price,
            quantity=quantity,
            line_total=variant.price * quantity,
        )
    if days_ago:
        Order.objects.filter(pk=order.pk).update(
            created_at=timezone.now() - timedelta(days=days_ago)
        )
    return order


@pytest.fixture
def staff_client(client):
    client.force_login(StaffUserFactory())
    return client


def test_dashboard_is_linked_from_the_admin_index(staff_client):
    response = staff_client.get(reverse("admin:index"))
    assert response.status_code == 200
    assert URL.encode() in response.content
    assert reverse("orders:staff-dashboard") == URL


def test_anonymous_visitor_is_sent_to_the_admin_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    assert "next=/staff/dashboard/" in response["Location"]


def test_customer_is_sent_to_the_admin_sign_in(client):
    client.force_login(UserFactory())
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_empty_shop_renders_every_section(staff_client):
    response = staff_client.get(URL)
    assert response.status_code == 200
    body = response.content.decode()
    for heading in ("Sales, last 30 days", "Orders by status", "Low stock", "Packing list"):
        assert heading in body
    assert "No sales yet." in body
    assert "Nothing to pack." in body
    assert len(response.context["sales"]) == 30
    assert body.count('class="bar"') == 30


def test_sales_by_day_sums_net_revenue_and_counts_orders_per_day():
    variant = make_variant(price=Decimal("10.00"))
    make_order(lines=[(variant, 2)])  # 25.00
    make_order(lines=[(variant, 1)], refunded="5.00")  # 15.00 - 5.00
    make_order(lines=[(variant, 1)], days_ago=3)  # 15.00
    make_order(lines=[(variant, 1)], days_ago=45)  # outside the window

    sales = dashboard.sales_by_day()

    assert len(sales) == 30
    assert sales[-1].day == timezone.localdate()
    assert (sales[-1].orders, sales[-1].revenue) == (2, Decimal("35.00"))
    assert (sales[-4].orders, sales[-4].revenue) == (1, Decimal("15.00"))
    assert sum(s.orders for s in sales) == 3


def test_cancelled_refunded_order_counts_but_adds_no_revenue():
    variant = make_variant(price=Decimal("10.00"))
    order = make_order(lines=[(variant, 1)], status=OrderStatus.CANCELLED)
    Order.objects.filter(pk=order.pk).update(refunded_total=order.total)

    today = dashboard.sales_by_day()[-1]

    assert today.orders == 1
    assert today.revenue == Decimal("0.00")


def test_revenue_bars_scale_to_the_best_day():
    today = timezone.localdate()
    sales = [
        dashboard.DaySales(day=today - timedelta(days=1), orders=1, revenue=Decimal("50.00")),
        dashboard.DaySales(day=today, orders=2, revenue=Decimal("100.00")),
    ]
    low, high = charts.revenue_bars(sales)
    plot = charts.CHART_HEIGHT - charts.CHART_TOP - charts.CHART_BOTTOM
    assert high.height == plot
    assert low.height == pytest.approx(plot / 2)
    assert low.x < high.x


def test_revenue_bars_of_a_quiet_month_are_flat():
    sales = dashboard.sales_by_day()
    assert all(bar.height == 0 for bar in charts.revenue_bars(sales))


def test_orders_by_status_lists_every_status_with_its_count():
    make_order(status=OrderStatus.PROCESSING)
    make_order(status=OrderStatus.PROCESSING)
    make_order(status=OrderStatus.SHIPPED)

    rows = {row["status"]: row["count"] for row in dashboard.orders_by_status()}

    assert rows == {
        "draft": 0,
        "pending_payment": 0,
        "received": 0,
        "processing": 2,
        "fulfilled": 0,
        "shipped": 1,
        "delivered": 0,
        "cancelled": 0,
    }


def test_top_products_rank_by_units_net_of_returns_and_skip_cancelled_orders():
    mug = make_variant(product__name="Mug")
    shirt_s = make_variant(product__name="Shirt")
    shirt_m = make_variant(product=shirt_s.product)
    cap = make_variant(product__name="Cap")
    make_order(lines=[(mug, 3), (shirt_s, 2)])
    make_order(lines=[(shirt_m, 2)])
    make_order(lines=[(cap, 9)], status=OrderStatus.CANCELLED)
    returned = make_order(lines=[(mug, 2)], status=OrderStatus.DELIVERED)
    returned.lines.update(returned_quantity=2)

    top = dashboard.top_products()

    assert [(row["product_name"], row["units"]) for row in top] == [("Shirt", 4), ("Mug", 3)]


def test_top_products_are_capped_at_ten():
    for _ in range(12):
        make_order(lines=[(make_variant(), 1)])
    assert len(dashboard.top_products()) == 10


def test_low_stock_lists_skus_at_or_below_threshold_counting_holds():
    make_variant(on_hand=3, low_stock_threshold=5, sku="LOW-1")
    held = make_variant(on_hand=8, low_stock_threshold=5, sku="HELD-1")
    StockHoldFactory(variant=held, quantity=4)  # 8 - 4 = 4 available
    make_variant(on_hand=20, low_stock_threshold=5, sku="PLENTY-1")
    make_variant(on_hand=10, allocated=10, low_stock_threshold=0, sku="ZERO-1")

    rows = dashboard.low_stock()

    assert [(row.variant.sku, row.available) for row in rows] == [
        ("ZERO-1", 0),
        ("LOW-1", 3),
        ("HELD-1", 4),
    ]


def test_low_stock_rows_link_to_their_stock_item_admin_page():
    variant = make_variant(on_hand=1, low_stock_threshold=5, sku="LINK-1")

    [row] = dashboard.low_stock()

    assert row.restock_url == reverse("admin:inventory_stockitem_change", args=[variant.stock.pk])
    assert (row.variant, row.available, row.low_stock_threshold) == (variant, 1, 5)


def test_packing_list_shows_processing_orders_oldest_first_with_lines_to_pick():
    variant = make_variant(sku="PICK-ME")
    newer = make_order(status=OrderStatus.PROCESSING, lines=[(variant, 2)])
    older = make_order(status=OrderStatus.PROCESSING, lines=[(variant, 1)], days_ago=1)
    make_order(status=OrderStatus.RECEIVED, lines=[(variant, 1)])

    orders = dashboard.packing_list()

    assert [o.number for o in orders] == [older.number, newer.number]
    assert [(line.sku, line.quantity) for line in orders[1].lines.all()] == [("PICK-ME", 2)]


def test_dashboard_page_shows_the_figures(staff_client):
    variant = make_variant(product__name="Teapot", sku="TEA-1", on_hand=2, low_stock_threshold=5)
    order = make_order(status=OrderStatus.PROCESSING, lines=[(variant, 2)])

    body = staff_client.get(URL).content.decode()

    assert "Teapot" in body
    assert f'data-order="{order.number}"' in body
    assert "2 &times; TEA-1" in body
    assert 'data-sku="TEA-1"' in body
    assert 'data-status="processing"><td>Processing</td><td class="num">1</td>' in body
    assert "<svg" in body
    assert 'role="img"' in body


def _populate(n: int) -> None:
    for i in range(n):
        variant = make_variant(on_hand=2, low_stock_threshold=5)
        make_order(status=OrderStatus.PROCESSING, lines=[(variant, 1)], days_ago=i % 5)
        make_order(status=OrderStatus.DELIVERED, lines=[(variant, 1)], days_ago=i % 7)


@pytest.mark.parametrize("size", [2, 12])
def test_dashboard_query_count_is_constant(staff_client, django_assert_max_num_queries, size):
    _populate(size)
    # Session, user, 2 permission lookups (admin sidebar), then sales, statuses, top
    # products, low stock, packing list and its lines.
    with django_assert_max_num_queries(10):
        response = staff_client.get(URL)
    assert response.status_code == 200
    assert len(response.context["packing_list"]) == size


def test_top_products_revenue_is_net_of_returns_like_units():
    lamp = make_variant(product__name="Lamp", price=Decimal("40.00"))
    make_order(lines=[(lamp, 1)])
    returned = make_order(lines=[(lamp, 3)], status=OrderStatus.DELIVERED)
    returned.lines.update(returned_quantity=2)

    [row] = dashboard.top_products()

    assert (row["units"], row["revenue"]) == (2, Decimal("80.00"))


def test_dashboard_money_carries_the_currency(staff_client, settings):
    settings.SHOP_CURRENCY = "NOK"
    variant = make_variant(product__name="Kettle", price=Decimal("1250.00"))
    make_order(lines=[(variant, 1)])

    body = staff_client.get(URL).content.decode()

    assert '<td class="num">1,250.00 NOK</td>' in body  # top products
    assert '<td class="num">1,255.00 NOK</td>' in body  # the day's net revenue
