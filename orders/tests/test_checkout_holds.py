"""The HTML checkout starts the cart's hold; when no hold can start, the shopper still orders."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import UserFactory
from cart.services import reserve_cart
from cart.tests.factories import CartFactory, CartLineFactory
from catalog.tests.factories import make_variant
from inventory.models import StockHold, StockItem
from orders.models import Order
from orders.tests.factories import ADDRESS, cart_with, fast_gateway  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_gateway")]

CHECKOUT = "/checkout/"
CLIENT_IP = "127.0.0.1"  # the test client's REMOTE_ADDR
NOTE = 'data-testid="hold-unavailable"'


@pytest.fixture
def shopper(client):
    user = UserFactory(email="ada@example.com")
    client.force_login(user)
    return user


@pytest.fixture
def teapot():
    return make_variant(product__name="Teapot", sku="TEA-1", price=Decimal("20.00"), on_hand=5)


def form_key(response) -> str:
    match = re.search(rb'name="idempotency_key" value="([0-9a-f-]{36})"', response.content)
    assert match, "checkout form has no idempotency key"
    return match.group(1).decode()


def place(client, response):
    data = {"idempotency_key": form_key(response), "address": "new", "payment_token": "tok_success"}
    return client.post(CHECKOUT, {**data, **ADDRESS})


def other_carts_holding_from(ip: str, count: int) -> None:
    for _ in range(count):
        cart = CartFactory()
        CartLineFactory(cart=cart, quantity=1)
        reserve_cart(cart=cart, client_ip=ip)


def test_adding_to_the_cart_page_holds_nothing(client, teapot):
    response = client.post(reverse("cart:add"), {"sku": "TEA-1", "quantity": "3"})
    assert response.status_code in (200, 302)
    assert not StockHold.objects.exists()


def test_opening_checkout_again_keeps_the_holds_expiry(client, shopper, teapot):
    cart = cart_with(shopper, (teapot, 2))
    client.get(CHECKOUT)
    first = StockHold.objects.get(cart_token=cart.token)

    client.get(CHECKOUT)

    again = StockHold.objects.get(cart_token=cart.token)
    assert again.expires_at == first.expires_at
    assert again.client_ip == CLIENT_IP


def test_over_the_ip_bound_the_shopper_is_told_and_can_still_order(
    client, shopper, teapot, settings
):
    settings.SHOP_MAX_HOLDS_PER_IP = 2
    other_carts_holding_from(CLIENT_IP, 2)
    cart = cart_with(shopper, (teapot, 2))

    page = client.get(CHECKOUT)

    assert page.status_code == 200
    body = page.content.decode()
    assert NOTE in body
    assert "you can still place your order" in body
    assert 'data-testid="hold-expiry"' not in body
    assert not StockHold.objects.filter(cart_token=cart.token).exists()

    placed = place(client, page)

    order = Order.objects.get(user=shopper)
    assert placed.status_code == 302
    assert placed["Location"] == reverse("orders:confirmation", kwargs={"number": order.number})
    assert StockItem.objects.get(variant=teapot).allocated == 2


def test_a_cart_past_its_hourly_holds_is_told_and_can_still_order(
    client, shopper, teapot, settings
):
    settings.SHOP_MAX_HOLDS_PER_CART_PER_HOUR = 1
    cart = cart_with(shopper, (teapot, 1))
    assert 'data-testid="hold-expiry"' in client.get(CHECKOUT).content.decode()
    StockHold.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    page = client.get(CHECKOUT)

    assert page.status_code == 200
    assert NOTE in page.content.decode()
    assert not StockHold.objects.filter(cart_token=cart.token, expires_at__gt=timezone.now())
    assert place(client, page).status_code == 302
    assert Order.objects.filter(user=shopper).count() == 1
