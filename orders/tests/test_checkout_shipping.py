"""Checkout with shipping methods (API and HTML): re-priced on the server, refused when the
method does not serve the address, the cheapest when none is chosen."""

import re
from decimal import Decimal

import pytest

from accounts.tests.factories import UserFactory
from cart.tests.factories import (
    ShippingMethodFactory,
    ShippingZoneFactory,
    default_shipping_method,
)
from catalog.tests.factories import make_variant
from orders.models import Order
from orders.tests.factories import ADDRESS, cart_with, fast_gateway  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_gateway")]
ORDERS = "/api/v1/orders/"
CHECKOUT = "/checkout/"


@pytest.fixture
def uk_express():
    """GB: standard 3.00 and express 12.00 (the default zone keeps 5.00 for the rest)."""
    default_shipping_method()
    zone = ShippingZoneFactory(name="UK", countries=["GB"])
    ShippingMethodFactory(zone=zone, code="standard", name="Standard", price="3.00")
    ShippingMethodFactory(
        zone=zone, code="express", name="Express", price="12.00", min_days=1, max_days=1
    )
    return zone


@pytest.fixture
def shopper_cart():
    user = UserFactory()
    cart_with(user, (make_variant(price=Decimal("20.00"), on_hand=5), 1))
    return user


def post(api_client, user, **body):
    api_client.force_authenticate(user)
    data = {"shipping_address": ADDRESS, "payment_token": "tok_success", **body}
    return api_client.post(ORDERS, data, format="json", HTTP_IDEMPOTENCY_KEY="k-1")


def test_the_chosen_method_is_priced_on_the_server_and_recorded(
    api_client, shopper_cart, uk_express
):
    response = post(api_client, shopper_cart, shipping_method="express")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["shipping_method"], body["shipping_total"], body["total"]) == (
        "express",
        "12.00",
        "32.00",
    )
    order = Order.objects.get()
    assert (order.shipping_method, order.shipping_method_name) == ("express", "Express")


def test_without_a_method_the_cheapest_serving_the_address_is_used(
    api_client, shopper_cart, uk_express
):
    response = post(api_client, shopper_cart)
    assert response.status_code == 201
    assert (response.json()["shipping_method"], response.json()["shipping_total"]) == (
        "standard",
        "3.00",
    )


def test_a_method_that_does_not_serve_the_address_is_400(api_client, shopper_cart, uk_express):
    address = {**ADDRESS, "country": "US"}  # the default zone: standard only
    response = post(api_client, shopper_cart, shipping_method="express", shipping_address=address)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error"
    assert "shipping_method" in body["errors"]
    assert not Order.objects.exists()


def test_an_unknown_method_is_400(api_client, shopper_cart, uk_express):
    response = post(api_client, shopper_cart, shipping_method="teleport")
    assert response.status_code == 400
    assert "shipping_method" in response.json()["errors"]


def test_the_expected_total_guards_the_shipping_price_too(api_client, shopper_cart, uk_express):
    response = post(api_client, shopper_cart, shipping_method="express", expected_total="23.00")
    assert response.status_code == 409
    assert response.json() == {
        "code": "cart_changed",
        "detail": response.json()["detail"],
        "total": "32.00",
    }


def test_the_default_seed_keeps_v1_totals(api_client, shopper_cart):
    default_shipping_method()
    response = post(api_client, shopper_cart, shipping_address={**ADDRESS, "country": "US"})
    assert (response.json()["shipping_method"], response.json()["shipping_total"]) == (
        "standard",
        "5.00",
    )


# ------------------------------------------------------------------------------ HTML


def form_data(response, **overrides):
    key = re.search(rb'name="idempotency_key" value="([0-9a-f-]{36})"', response.content)
    total = re.search(rb'name="expected_total" value="([0-9.]+)"', response.content)
    assert key
    assert total
    data = {
        "idempotency_key": key.group(1).decode(),
        "expected_total": total.group(1).decode(),
        "address": "new",
        "payment_token": "tok_success",
        **ADDRESS,
    }
    data.update(overrides)
    return data


def test_the_checkout_page_lists_the_methods_of_the_address_country(
    client, shopper_cart, uk_express
):
    shopper_cart.addresses.create(**ADDRESS, is_default=True)  # GB
    client.force_login(shopper_cart)
    html = client.get(CHECKOUT).content.decode()
    assert 'name="shipping_method" value="standard"' in html
    assert 'name="shipping_method" value="express"' in html
    assert re.search(r'value="standard"[^>]*checked', html)
    assert 'data-total="32.00"' in html  # the express option's total, for shop.js
    assert 'name="expected_total" value="23.00"' in html


def test_choosing_express_in_the_form_places_the_order_with_it(client, shopper_cart, uk_express):
    client.force_login(shopper_cart)
    page = client.get(CHECKOUT)
    data = form_data(page, shipping_method="express", expected_total="32.00")
    response = client.post(CHECKOUT, data)
    assert response.status_code == 302
    order = Order.objects.get()
    assert (order.shipping_method, order.shipping_total, order.total) == (
        "express",
        Decimal("12.00"),
        Decimal("32.00"),
    )


def test_a_changed_method_without_script_asks_again_with_its_total(
    client, shopper_cart, uk_express
):
    client.force_login(shopper_cart)
    data = form_data(client.get(CHECKOUT), shipping_method="express")  # total shown: 23.00
    response = client.post(CHECKOUT, data)
    assert response.status_code == 200
    assert not Order.objects.exists()
    html = response.content.decode()
    assert 'name="expected_total" value="32.00"' in html
    assert re.search(r'value="express"[^>]*checked', html)


def test_a_method_not_serving_the_address_is_shown_on_the_form(client, shopper_cart, uk_express):
    client.force_login(shopper_cart)
    data = form_data(client.get(CHECKOUT), shipping_method="express", country="US")
    response = client.post(CHECKOUT, data)
    assert response.status_code == 200
    assert "does not deliver to this address" in response.content.decode()
    assert not Order.objects.exists()
