"""When a cart holds stock (``cart.services.reserve_cart``): only when checkout starts, one
hold per cart that a script cannot renew forever, a bounded number per client IP, never more
than the cart could buy."""

from datetime import timedelta

import pytest
from django.db.models import Sum
from django.utils import timezone

from accounts.tests.factories import UserFactory
from cart import services
from cart.models import Cart
from cart.tests.factories import CartFactory, CartLineFactory
from catalog.models import ProductStatus
from catalog.tests.factories import make_variant
from inventory.errors import InsufficientStock, TooManyHolds
from inventory.models import StockHold

pytestmark = pytest.mark.django_db

IP = "203.0.113.9"


def held(cart) -> dict[str, int]:
    rows = StockHold.objects.filter(cart_token=cart.token).select_related("variant")
    return {row.variant.sku: row.quantity for row in rows}


def expire_hold(cart) -> None:
    StockHold.objects.filter(cart_token=cart.token).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )


def hour_passes(cart) -> None:
    expire_hold(cart)
    Cart.objects.filter(pk=cart.pk).update(
        holds_started_since=timezone.now() - timedelta(hours=1, seconds=1)
    )


# ---- only when checkout starts ---------------------------------------------------------------


def test_adding_to_or_changing_a_cart_holds_nothing():
    variant = make_variant(on_hand=10)
    cart = services.add_item_for(token=None, sku=variant.sku, quantity=3)
    line = services.add_item(cart=cart, sku=variant.sku, quantity=2)
    services.set_quantity(cart=cart, line_id=line.pk, quantity=9)
    user = UserFactory()
    services.add_item_for(user=user, sku=variant.sku, quantity=1)
    services.merge_guest_cart(user=user, token=cart.token)

    assert not StockHold.objects.exists()


def test_starting_checkout_holds_each_line_at_its_quantity():
    tea, cup = make_variant(on_hand=10), make_variant(on_hand=10)
    cart = CartFactory()
    CartLineFactory(cart=cart, variant=tea, quantity=3)
    CartLineFactory(cart=cart, variant=cup, quantity=1)

    services.reserve_cart(cart=cart, client_ip=IP)

    assert held(cart) == {tea.sku: 3, cup.sku: 1}
    assert set(StockHold.objects.values_list("client_ip", flat=True)) == {IP}


# ---- never more than the cart could buy --------------------------------------------------------


def test_a_line_that_can_no_longer_be_bought_refuses_the_hold():
    tea, gone = make_variant(on_hand=10), make_variant(on_hand=10)
    cart = CartFactory()
    CartLineFactory(cart=cart, variant=tea, quantity=1)
    CartLineFactory(cart=cart, variant=gone, quantity=1)
    gone.product.status = ProductStatus.ARCHIVED
    gone.product.save()

    with pytest.raises(InsufficientStock) as info:
        services.reserve_cart(cart=cart, client_ip=IP)

    assert info.value.lines == [{"sku": gone.sku, "requested": 1, "available": 0}]
    assert not StockHold.objects.exists()
    assert Cart.objects.get(pk=cart.pk).holds_started == 0


def test_more_than_is_available_refuses_the_hold():
    variant = make_variant(on_hand=2)
    cart = CartFactory()
    CartLineFactory(cart=cart, variant=variant, quantity=3)
    with pytest.raises(InsufficientStock):
        services.reserve_cart(cart=cart, client_ip=IP)
    assert not StockHold.objects.exists()


def test_holds_never_exceed_the_line_quantities_or_the_unit_cap(settings):
    settings.SHOP_MAX_HELD_UNITS_PER_CART = 20
    variants = [make_variant(on_hand=99) for _ in range(4)]
    cart = CartFactory()
    lines = [
        CartLineFactory(cart=cart, variant=v, quantity=q)
        for v, q in zip(variants, [2, 15, 99, 99], strict=True)
    ]

    services.reserve_cart(cart=cart, client_ip=IP)

    holds = held(cart)
    assert holds == {variants[0].sku: 2, variants[1].sku: 15, variants[2].sku: 3}
    for line in lines:
        assert holds.get(line.variant.sku, 0) <= line.quantity


# ---- one hold per cart, not renewable forever -------------------------------------------------


def test_starting_checkout_again_follows_the_cart_and_keeps_the_expiry():
    variant = make_variant(on_hand=10)
    cart = CartFactory()
    line = CartLineFactory(cart=cart, variant=variant, quantity=4)
    first = services.reserve_cart(cart=cart, client_ip=IP)
    services.set_quantity(cart=cart, line_id=line.pk, quantity=2)

    again = services.reserve_cart(cart=cart, client_ip=IP)

    assert again == first
    assert held(cart) == {variant.sku: 2}
    assert Cart.objects.get(pk=cart.pk).holds_started == 1


def test_a_cart_starts_at_most_the_hourly_number_of_holds(settings):
    settings.SHOP_MAX_HOLDS_PER_CART_PER_HOUR = 2
    cart = CartFactory()
    CartLineFactory(cart=cart, quantity=1)
    services.reserve_cart(cart=cart, client_ip=IP)
    expire_hold(cart)
    services.reserve_cart(cart=cart, client_ip=IP)  # came back after the hold ran out
    expire_hold(cart)

    with pytest.raises(TooManyHolds) as info:
        services.reserve_cart(cart=cart, client_ip=IP)

    assert not StockHold.objects.filter(cart_token=cart.token, expires_at__gt=timezone.now())
    assert 0 < info.value.retry_after <= 3600
    hour_passes(cart)
    services.reserve_cart(cart=cart, client_ip=IP)
    assert Cart.objects.get(pk=cart.pk).holds_started == 1


def test_a_script_renewing_a_hold_forever_holds_at_most_the_hourly_share(settings):
    settings.SHOP_MAX_HOLDS_PER_CART_PER_HOUR = 2
    cart = CartFactory()
    CartLineFactory(cart=cart, quantity=1)
    results = []
    for _ in range(10):  # a new hold each time the last one ran out, all within the hour
        try:
            services.reserve_cart(cart=cart, client_ip=IP)
            results.append("held")
        except TooManyHolds:
            results.append("refused")
        expire_hold(cart)
    assert results == ["held", "held"] + ["refused"] * 8


def test_a_refused_hold_does_not_use_up_the_carts_share(settings):
    settings.SHOP_MAX_HOLDS_PER_IP = 1
    first, second = CartFactory(), CartFactory()
    CartLineFactory(cart=first)
    CartLineFactory(cart=second)
    services.reserve_cart(cart=first, client_ip=IP)
    with pytest.raises(TooManyHolds):
        services.reserve_cart(cart=second, client_ip=IP)
    assert Cart.objects.get(pk=second.pk).holds_started == 0


# ---- bounded per client IP -------------------------------------------------------------------


def test_a_script_making_many_carts_from_one_ip_holds_at_most_the_bound(settings):
    settings.SHOP_MAX_HOLDS_PER_IP = 3
    variants = [make_variant(on_hand=1000) for _ in range(5)]
    outcomes = []
    for _ in range(12):
        cart = CartFactory()
        for variant in variants:
            CartLineFactory(cart=cart, variant=variant, quantity=99)
        try:
            services.reserve_cart(cart=cart, client_ip=IP)
            outcomes.append("held")
        except TooManyHolds:
            outcomes.append("refused")

    assert outcomes.count("held") == 3
    assert StockHold.objects.values("cart_token").distinct().count() == 3
    total = StockHold.objects.aggregate(total=Sum("quantity"))["total"]
    assert total == 3 * settings.SHOP_MAX_HELD_UNITS_PER_CART
    # Someone else, elsewhere, can still start checkout.
    other = CartFactory()
    CartLineFactory(cart=other, variant=variants[0], quantity=1)
    services.reserve_cart(cart=other, client_ip="198.51.100.20")
