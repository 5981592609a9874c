"""Starting checkout from many threads at once (PostgreSQL): the hold rules still hold."""

import pytest
from django.db.models import Sum

from cart.models import Cart
from cart.services import reserve_cart
from cart.tests.factories import CartFactory, CartLineFactory
from catalog.tests.factories import make_variant
from inventory.errors import TooManyHolds
from inventory.models import StockHold
from inventory.tests.test_concurrency import run_in_threads

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

IP = "203.0.113.88"


def test_many_carts_from_one_ip_at_once_hold_at_most_the_bound(settings):
    settings.SHOP_MAX_HOLDS_PER_IP = 3
    variant = make_variant(on_hand=1000)
    carts = []
    for _ in range(12):
        cart = CartFactory()
        CartLineFactory(cart=cart, variant=variant, quantity=99)
        carts.append(cart)

    results = run_in_threads([lambda c=c: reserve_cart(cart=c, client_ip=IP) for c in carts])

    assert sum(1 for r in results if not isinstance(r, Exception)) == 3
    assert all(isinstance(r, TooManyHolds) for r in results if isinstance(r, Exception)), results
    assert StockHold.objects.values("cart_token").distinct().count() == 3
    total = StockHold.objects.aggregate(total=Sum("quantity"))["total"]
    assert total == 3 * settings.SHOP_MAX_HELD_UNITS_PER_CART


def test_one_cart_starting_checkout_many_times_at_once_starts_one_hold():
    cart = CartFactory()
    CartLineFactory(cart=cart, variant=make_variant(on_hand=10), quantity=2)

    results = run_in_threads([lambda: reserve_cart(cart=cart, client_ip=IP) for _ in range(8)])

    assert len(set(results)) == 1, results  # every call answers the one hold's expiry
    assert Cart.objects.get(pk=cart.pk).holds_started == 1
    assert StockHold.objects.get().quantity == 2
