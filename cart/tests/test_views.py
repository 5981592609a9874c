"""The cart page and its HTMX endpoints (rules are the services'; these test HTTP concerns)."""

import json
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.tests.factories import UserFactory
from cart.models import Cart, CartLine, CartStatus
from catalog.models import ProductStatus
from catalog.tests.factories import make_variant

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def add(client, sku, quantity="1", **extra):
    return client.post(reverse("cart:add"), {"sku": sku, "quantity": quantity}, **extra)


def trigger(response) -> dict:
    return json.loads(response["HX-Trigger"])


@pytest.fixture
def variant():
    return make_variant(product__name="Teapot", sku="TEA-1", price=Decimal("12.50"), on_hand=5)


def test_empty_cart_page_invites_to_shop(client):
    response = client.get("/cart/")
    assert response.status_code == 200
    assert b"Your cart is empty" in response.content
    assert b"<html" in response.content


def test_add_without_javascript_sets_the_cookie_and_redirects_back(client, variant):
    response = add(client, "TEA-1", "2", HTTP_REFERER="http://testserver/p/teapot/")

    assert response.status_code == 302
    assert response["Location"] == "http://testserver/p/teapot/"
    cookie = response.cookies["cart_token"]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    cart = Cart.objects.get(token=cookie.value)
    assert cart.user is None
    assert cart.lines.get().quantity == 2
    page = client.get("/cart/")
    assert b"Added 2 \xc3\x97 Teapot to your cart." in page.content


def test_add_refuses_an_offsite_next_url(client, variant):
    response = client.post(reverse("cart:add"), {"sku": "TEA-1", "next": "https://evil.example/"})
    assert response["Location"] == reverse("cart:detail")


def test_add_with_htmx_answers_a_fragment_and_the_new_count(client, variant):
    response = add(client, "TEA-1", "3", **HTMX)

    assert response.status_code == 200
    assert b"<html" not in response.content
    assert b'data-testid="add-confirmation"' in response.content
    assert trigger(response) == {"cart-updated": {"count": 3}}


def test_add_out_of_stock_shows_a_friendly_error_and_changes_nothing(client, variant):
    response = add(client, "TEA-1", "6", **HTMX)

    assert response.status_code == 200
    assert b'data-testid="add-error"' in response.content
    assert b"only 5 can be supplied" in response.content
    assert "HX-Trigger" not in response
    assert not CartLine.objects.exists()


def test_add_sold_out_item_says_out_of_stock(client):
    make_variant(sku="GONE-1", on_hand=0)
    response = add(client, "GONE-1", "1", **HTMX)
    assert b"out of stock" in response.content


@pytest.mark.parametrize(
    ("sku", "quantity", "message"),
    [
        ("NOPE", "1", b"Sorry, that item is not available."),
        ("TEA-1", "abc", b"Quantity must be a whole number"),
        ("TEA-1", "0", b"Quantity must be a whole number"),
        ("TEA-1", "100", b"Quantity must be a whole number"),
        ("x" * 500, "1", b"Sorry, that item is not available."),
    ],
)
def test_add_invalid_input_is_a_message_not_an_error_page(client, variant, sku, quantity, message):
    response = add(client, sku, quantity, **HTMX)
    assert response.status_code == 200
    assert message in response.content


def test_add_archived_product_is_refused_without_javascript(client, variant):
    variant.product.status = ProductStatus.ARCHIVED
    variant.product.save()
    response = add(client, "TEA-1")
    assert response.status_code == 302
    page = client.get(response["Location"])
    assert b"Sorry, that item is not available." in page.content


def test_add_requires_post_and_csrf(variant):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert strict.get(reverse("cart:add")).status_code == 405
    assert add(strict, "TEA-1").status_code == 403


def test_signed_in_shopper_adds_to_their_own_cart_without_a_cookie(client, variant):
    user = UserFactory()
    client.force_login(user)
    response = add(client, "TEA-1")
    assert "cart_token" not in response.cookies
    assert Cart.objects.get(user=user, status=CartStatus.OPEN).lines.count() == 1


def test_cart_page_lists_lines_with_steppers_and_csrf(client, variant):
    add(client, "TEA-1", "2")
    response = client.get("/cart/")
    body = response.content.decode()
    line = CartLine.objects.get()
    assert "Teapot" in body
    assert 'data-testid="subtotal">$25.00' in body
    assert f'hx-post="/cart/lines/{line.pk}/"' in body
    assert 'name="step" value="-1"' in body
    assert 'name="step" value="1"' in body
    assert f'<label class="visually-hidden" for="qty-{line.pk}">' in body
    assert "csrfmiddlewaretoken" in body
    assert reverse("orders:checkout") in body


def test_cart_page_htmx_request_gets_only_the_lines_partial(client, variant):
    add(client, "TEA-1")
    response = client.get("/cart/", **HTMX)
    assert response.status_code == 200
    assert response.content.lstrip().startswith(b'<div id="cart-lines"')
    assert b"<html" not in response.content


def test_plus_button_increments_and_updates_the_badge(client, variant):
    add(client, "TEA-1", "1")
    line = CartLine.objects.get()

    response = client.post(f"/cart/lines/{line.pk}/", {"quantity": "1", "step": "1"}, **HTMX)

    assert response.status_code == 200
    assert trigger(response) == {"cart-updated": {"count": 2}}
    assert b'data-testid="subtotal">$25.00' in response.content
    assert b"<html" not in response.content
    line.refresh_from_db()
    assert line.quantity == 2


def test_minus_on_one_removes_the_line(client, variant):
    add(client, "TEA-1", "1")
    line = CartLine.objects.get()
    response = client.post(f"/cart/lines/{line.pk}/", {"quantity": "1", "step": "-1"}, **HTMX)
    assert trigger(response) == {"cart-updated": {"count": 0}}
    assert b"Your cart is empty" in response.content
    assert not CartLine.objects.exists()


def test_typed_quantity_is_set(client, variant):
    add(client, "TEA-1", "1")
    line = CartLine.objects.get()
    client.post(f"/cart/lines/{line.pk}/", {"quantity": "4", "step": "0"}, **HTMX)
    line.refresh_from_db()
    assert line.quantity == 4


def test_quantity_above_stock_shows_an_error_and_keeps_the_line(client, variant):
    add(client, "TEA-1", "1")
    line = CartLine.objects.get()
    response = client.post(f"/cart/lines/{line.pk}/", {"quantity": "9"}, **HTMX)
    assert b'data-testid="cart-error"' in response.content
    assert b"only 5 can be supplied" in response.content
    line.refresh_from_db()
    assert line.quantity == 1


@pytest.mark.parametrize("quantity", ["", "abc", "-3", "1000"])
def test_bad_quantity_is_a_message(client, variant, quantity):
    add(client, "TEA-1", "1")
    line = CartLine.objects.get()
    response = client.post(f"/cart/lines/{line.pk}/", {"quantity": quantity}, **HTMX)
    assert response.status_code == 200
    assert b'data-testid="cart-error"' in response.content
    line.refresh_from_db()
    assert line.quantity == 1


def test_update_without_javascript_redirects_to_the_cart(client, variant):
    add(client, "TEA-1", "1")
    line = CartLine.objects.get()
    response = client.post(f"/cart/lines/{line.pk}/", {"quantity": "3"})
    assert response.status_code == 302
    assert response["Location"] == reverse("cart:detail")


def test_remove_button_removes_the_line(client, variant):
    add(client, "TEA-1", "2")
    other = make_variant(sku="MUG-1")
    add(client, "MUG-1", "1")
    line = CartLine.objects.get(variant=variant)

    response = client.post(f"/cart/lines/{line.pk}/remove/", **HTMX)

    assert trigger(response) == {"cart-updated": {"count": 1}}
    assert list(CartLine.objects.values_list("variant_id", flat=True)) == [other.pk]


def test_someone_elses_line_cannot_be_changed(client, variant):
    stranger = UserFactory()
    stranger_cart = Cart.objects.create(user=stranger)
    their_line = CartLine.objects.create(
        cart=stranger_cart, variant=variant, quantity=1, unit_price=variant.price
    )
    add(client, "TEA-1", "1")

    update = client.post(f"/cart/lines/{their_line.pk}/", {"quantity": "5"}, **HTMX)
    remove = client.post(f"/cart/lines/{their_line.pk}/remove/", **HTMX)

    assert b"Cart line not found." in update.content
    assert b"Cart line not found." in remove.content
    their_line.refresh_from_db()
    assert their_line.quantity == 1


def test_price_change_and_availability_warnings_are_shown(client, variant):
    add(client, "TEA-1", "3")
    variant.price = Decimal("15.00")
    variant.save()
    variant.stock.allocated = 4
    variant.stock.save()

    body = client.get("/cart/").content.decode()

    assert 'data-testid="cart-warnings"' in body
    assert "changed from 12.50 to 15.00" in body
    assert "Only 1 of Teapot can be supplied." in body


def test_stale_cookie_shows_an_empty_cart_and_is_dropped(client, variant):
    add(client, "TEA-1")
    Cart.objects.update(status=CartStatus.ORDERED)
    response = client.get("/cart/")
    assert b"Your cart is empty" in response.content
    assert response.cookies["cart_token"].value == ""


def test_a_stale_cookie_gets_a_new_cart_on_add(client, variant):
    add(client, "TEA-1")
    Cart.objects.update(status=CartStatus.MERGED)
    response = add(client, "TEA-1")
    new_cart = Cart.objects.get(status=CartStatus.OPEN)
    assert response.cookies["cart_token"].value == str(new_cart.token)


@pytest.mark.parametrize("lines", [1, 8])
def test_cart_page_query_count_is_constant(client, django_assert_max_num_queries, lines):
    for i in range(lines):
        make_variant(sku=f"Q-{i}")
        add(client, f"Q-{i}")
    # Cart by token, lines, availability (2), badge count, category menu, free-shipping
    # threshold, shipping methods and their rates, promotions.
    with django_assert_max_num_queries(10):
        response = client.get("/cart/")
    assert response.status_code == 200
    assert len(response.context["cart"].lines) == lines
