"""What orders tell the catalogue: verified buyers for reviews, units sold for best-selling."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from catalog import reviews
from catalog.models import ProductSales
from catalog.popularity import refresh_popularity
from catalog.selectors import product_listing
from catalog.tests.factories import make_variant
from orders.tests.factories import fast_gateway, place  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_gateway")]

BODY = "Exactly as described, would buy again."


def test_a_buyer_is_a_verified_buyer():
    variant = make_variant(on_hand=10)
    buyer = UserFactory()
    place(user=buyer, items=[(variant, 1)])
    mine = reviews.submit_review(user=buyer, product=variant.product, rating=5, title="", body=BODY)
    other = reviews.submit_review(
        user=UserFactory(), product=variant.product, rating=1, title="", body=BODY
    )
    assert mine.verified_buyer is True
    assert other.verified_buyer is False


def test_placed_orders_feed_the_best_selling_sort():
    slow = make_variant(on_hand=20, product__name="Slow seller")
    fast = make_variant(on_hand=20, product__name="Fast seller")
    place(items=[(slow, 1)])
    place(items=[(fast, 2)])
    place(items=[(fast, 3)])
    assert ProductSales.objects.get(product=fast.product).units == 5
    fast.product.refresh_from_db()
    assert fast.product.units_sold_30d == 0  # until the next refresh (every 10 minutes)
    assert refresh_popularity() == 2
    fast.product.refresh_from_db()
    assert fast.product.units_sold_30d == 5
    names = [p.name for p in product_listing(ordering="-popularity")]
    assert names[:2] == ["Fast seller", "Slow seller"]


def test_sales_older_than_30_days_drop_out_daily():
    variant = make_variant(on_hand=20)
    place(items=[(variant, 4)])
    later = timezone.localdate() + timedelta(days=30)
    assert refresh_popularity(today=later) == 1
    variant.product.refresh_from_db()
    assert variant.product.units_sold_30d == 0
    assert not ProductSales.objects.exists()
