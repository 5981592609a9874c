"""Issue 18 (storefront polish), the cart: the free-shipping hint, photos, the per-line cap."""

from decimal import Decimal

import pytest

from cart.models import MAX_LINE_QUANTITY, CartLine
from cart.tests.factories import default_shipping_method
from catalog.tests.factories import ProductImageFactory, make_variant

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def teapot():
    variant = make_variant(product__name="Teapot", sku="TEA-1", price=Decimal("23.00"), on_hand=500)
    ProductImageFactory(product=variant.product, image="products/teapot.png")
    return variant


def hint(client) -> str:
    body = client.get("/cart/").content.decode()
    start = body.find('data-testid="free-shipping-hint"')
    return "" if start < 0 else body[start : body.index("</p>", start)]


def test_the_cart_says_how_much_more_ships_free(client, teapot):
    default_shipping_method()  # free from 50.00
    client.post("/cart/add/", {"sku": "TEA-1", "quantity": "1"})
    assert "Add <strong>$27.00</strong> more for free shipping." in hint(client)
    client.post("/cart/add/", {"sku": "TEA-1", "quantity": "2"})
    assert "Your order ships free." in hint(client)


def test_no_free_shipping_hint_without_a_threshold(client, teapot):
    method = default_shipping_method()
    method.free_above = None
    method.save()
    client.post("/cart/add/", {"sku": "TEA-1", "quantity": "1"})
    assert hint(client) == ""


def test_the_hint_follows_quantity_changes_in_the_htmx_fragment(client, teapot):
    default_shipping_method()
    client.post("/cart/add/", {"sku": "TEA-1", "quantity": "1"})
    line = CartLine.objects.get()
    response = client.post(f"/cart/lines/{line.pk}/", {"quantity": "2"}, **HTMX)
    assert "Add <strong>$4.00</strong> more for free shipping." in response.content.decode()


def test_cart_lines_show_the_product_photo(client, teapot):
    client.post("/cart/add/", {"sku": "TEA-1", "quantity": "1"})
    body = client.get("/cart/").content.decode()
    assert 'src="/media/thumbs/products/teapot.png' in body
    assert "tile-initial" not in body


def test_adding_past_the_per_line_cap_says_how_many_more_fit(client, teapot):
    client.post("/cart/add/", {"sku": "TEA-1", "quantity": str(MAX_LINE_QUANTITY - 3)})
    response = client.post("/cart/add/", {"sku": "TEA-1", "quantity": "5"}, **HTMX)
    body = response.content.decode()
    assert f"you have {MAX_LINE_QUANTITY - 3}, so you can add 3 more." in body
    client.post("/cart/add/", {"sku": "TEA-1", "quantity": "3"})
    response = client.post("/cart/add/", {"sku": "TEA-1", "quantity": "1"}, **HTMX)
    assert "so no more can be added" in response.content.decode()
