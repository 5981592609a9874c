"""The address typed at checkout is offered for the address book and prefilled next time;
the full name comes from the account (issue 13, "The order placed is the order confirmed")."""

import re
from decimal import Decimal

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import Address
from accounts.services import remember_address
from accounts.tests.factories import AddressFactory, UserFactory
from catalog.tests.factories import make_variant
from orders.models import Order
from orders.tests.factories import ADDRESS, cart_with, fast_gateway, place  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_gateway")]
CHECKOUT = "/checkout/"
PARIS = {**ADDRESS, "full_name": "Ada King", "line1": "2 Rue Bonaparte", "city": "Paris"}
PARIS.update(postal_code="75006", country="FR")


@pytest.fixture
def teapot():
    return make_variant(product__name="Teapot", sku="TEA-1", price=Decimal("20.00"), on_hand=50)


@pytest.fixture
def shopper(client):
    user = UserFactory(email="ada@example.com", first_name="Ada", last_name="Lovelace")
    client.force_login(user)
    return user


def hidden(response, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"'.encode(), response.content)
    assert match, f"no hidden {name}"
    return match.group(1).decode()


def field_value(response, name: str) -> str | None:
    """The ``value`` of the input ``name`` on the page (None when it has none)."""
    tag = re.search(rf'<input[^>]*name="{name}"[^>]*>'.encode(), response.content)
    assert tag, f"no input {name}"
    value = re.search(rb'value="([^"]*)"', tag.group(0))
    return value.group(1).decode() if value else None


def checked(response, input_id: str) -> bool:
    tag = re.search(rf'<input[^>]*id="{input_id}"[^>]*>'.encode(), response.content)
    assert tag, f"no input #{input_id}"
    return b" checked" in tag.group(0)


def place_from_page(client, page, **fields):
    data = {
        "idempotency_key": hidden(page, "idempotency_key"),
        "expected_total": hidden(page, "expected_total"),
        "payment_token": "tok_success",
        **fields,
    }
    response = client.post(CHECKOUT, data)
    assert response.status_code == 302, response.content[:3000]
    return response


# ------------------------------------------------------------------------------- service


def test_remember_address_adds_an_address_once(shopper):
    first = remember_address(user=shopper, **ADDRESS)
    again = remember_address(user=shopper, **{**ADDRESS, "city": " London "})
    assert again == first
    assert first.is_default  # the first address of the book
    other = remember_address(user=shopper, **PARIS)
    assert other != first
    assert not other.is_default
    assert Address.objects.filter(user=shopper).count() == 2


def test_place_order_saves_the_new_address_only_when_asked(shopper, teapot):
    place(user=shopper, items=[(teapot, 1)])
    assert not Address.objects.filter(user=shopper).exists()
    order = place(user=shopper, items=[(teapot, 1)], save_address=True)
    [saved] = Address.objects.filter(user=shopper)
    assert {name: getattr(saved, name) for name in ADDRESS} == order.shipping_address
    place(user=shopper, items=[(teapot, 1)], save_address=True)
    assert Address.objects.filter(user=shopper).count() == 1


def test_an_order_to_a_saved_address_adds_nothing(shopper, teapot):
    address = AddressFactory(user=shopper, is_default=True)
    cart = cart_with(shopper, (teapot, 1))
    from orders.checkout.services import place_order

    place_order(
        user=shopper,
        cart=cart,
        address_id=address.pk,
        payment_token="tok_success",
        save_address=True,
    )
    assert list(Address.objects.filter(user=shopper)) == [address]


# ---------------------------------------------------------------------------------- HTML


def test_a_first_checkout_starts_with_the_account_name_and_offers_to_save(client, shopper, teapot):
    cart_with(shopper, (teapot, 1))
    page = client.get(CHECKOUT)
    assert page.status_code == 200
    assert field_value(page, "full_name") == "Ada Lovelace"
    assert checked(page, "address-new")
    assert checked(page, "id_save_address")
    assert b"Save this address to my address book" in page.content


def test_the_ticked_box_saves_the_typed_address_and_next_time_it_is_chosen(client, shopper, teapot):
    cart_with(shopper, (teapot, 1))
    place_from_page(client, client.get(CHECKOUT), address="new", save_address="on", **ADDRESS)
    [saved] = Address.objects.filter(user=shopper)
    assert (saved.line1, saved.is_default) == ("1 Analytical Way", True)

    cart_with(shopper, (teapot, 1))
    page = client.get(CHECKOUT)
    assert checked(page, f"address-{saved.pk}")
    assert not checked(page, "address-new")
    assert not checked(page, "id_save_address")  # the book is no longer empty
    assert field_value(page, "full_name") == "Ada Lovelace"


def test_an_unticked_box_saves_nothing_and_next_time_the_last_address_is_filled_in(
    client, shopper, teapot
):
    cart_with(shopper, (teapot, 1))
    place_from_page(client, client.get(CHECKOUT), address="new", **PARIS)
    assert not Address.objects.filter(user=shopper).exists()

    cart_with(shopper, (teapot, 1))
    page = client.get(CHECKOUT)
    assert checked(page, "address-new")
    assert field_value(page, "full_name") == "Ada King"  # the last order's, as it was typed
    assert field_value(page, "line1") == "2 Rue Bonaparte"
    assert re.search(rb'<option value="FR" selected>', page.content)


def test_the_address_the_last_order_went_to_is_chosen_over_the_default(client, shopper, teapot):
    AddressFactory(user=shopper, full_name="Home", is_default=True)
    work = AddressFactory(user=shopper, full_name="Work")
    cart_with(shopper, (teapot, 1))
    place_from_page(client, client.get(CHECKOUT), address=str(work.pk))
    assert Order.objects.get().shipping_address["full_name"] == "Work"

    cart_with(shopper, (teapot, 1))
    page = client.get(CHECKOUT)
    assert checked(page, f"address-{work.pk}")


def test_a_guest_is_not_offered_an_address_book(teapot):
    client = Client()
    client.post("/cart/add/", {"sku": "TEA-1", "quantity": "1"})
    client.post("/checkout/guest/", {"email": "guest@example.com"})
    page = client.get(CHECKOUT)
    assert page.status_code == 200
    assert b'name="save_address"' not in page.content


# ----------------------------------------------------------------------------------- API


def test_the_api_saves_the_address_when_asked(shopper, teapot):
    api = APIClient()
    api.force_authenticate(shopper)
    cart_with(shopper, (teapot, 1))
    body = {"shipping_address": PARIS, "payment_token": "tok_success", "save_address": True}
    response = api.post("/api/v1/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY="a1")
    assert response.status_code == 201, response.json()
    [entry] = api.get("/api/v1/addresses/").json()["results"]
    assert (entry["line1"], entry["country"], entry["is_default"]) == (
        "2 Rue Bonaparte",
        "FR",
        True,
    )


def test_a_guest_cannot_ask_to_save_an_address(teapot):
    added = APIClient().post("/api/v1/cart/items/", {"sku": "TEA-1", "quantity": 1}, format="json")
    body = {
        "shipping_address": ADDRESS,
        "payment_token": "tok_success",
        "email": "guest@example.com",
        "save_address": True,
    }
    response = APIClient().post(
        "/api/v1/orders/",
        body,
        format="json",
        HTTP_IDEMPOTENCY_KEY="g1",
        HTTP_X_CART_TOKEN=added.json()["token"],
    )
    assert (response.status_code, response.json()["code"]) == (400, "validation_error")
    assert "save_address" in response.json()["errors"]
    assert not Order.objects.exists()
