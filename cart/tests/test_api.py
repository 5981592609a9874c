from decimal import Decimal

import pytest

from accounts.tests.factories import UserFactory
from cart.models import Cart, CartLine, CartStatus
from cart.tests.factories import CartFactory, CartLineFactory
from catalog.tests.factories import make_variant
from inventory.models import StockHold

pytestmark = pytest.mark.django_db

CART = "/api/v1/cart/"
ITEMS = "/api/v1/cart/items/"


def test_first_anonymous_add_creates_a_cart_and_returns_its_token(api_client):
    variant = make_variant(on_hand=5, price=Decimal("12.50"))
    response = api_client.post(ITEMS, {"sku": variant.sku, "quantity": 2}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["token"] == response["X-Cart-Token"]
    assert response.cookies["cart_token"].value == body["token"]
    assert response.cookies["cart_token"]["httponly"]
    assert response.cookies["cart_token"]["samesite"] == "Lax"
    assert body["items"] == [
        {
            "id": CartLine.objects.get().pk,
            "sku": variant.sku,
            "product_name": variant.product.name,
            "variant_name": variant.name,
            "quantity": 2,
            "unit_price": "12.50",
            "current_price": "12.50",
            "line_total": "25.00",
            "discount": "0.00",
            "currency": "USD",
            "available": 5,
        }
    ]
    assert body["item_count"] == 2
    assert body["subtotal"] == "25.00"
    assert (body["discount_total"], body["shipping_method"], body["shipping_total"]) == (
        "0.00",
        "standard",
        "5.00",
    )
    assert (body["tax_total"], body["total"], body["voucher"]) == ("0.00", "30.00", None)
    assert body["currency"] == "USD"
    assert body["warnings"] == []


def test_anonymous_client_reuses_its_token_header(api_client):
    variant = make_variant()
    token = api_client.post(ITEMS, {"sku": variant.sku, "quantity": 1}).json()["token"]
    api_client.cookies.clear()
    api_client.credentials(HTTP_X_CART_TOKEN=token)
    body = api_client.post(ITEMS, {"sku": variant.sku, "quantity": 1}).json()
    assert body["token"] == token
    assert body["items"][0]["quantity"] == 2
    assert Cart.objects.count() == 1


def test_get_cart_with_unknown_or_foreign_token_is_404(api_client):
    foreign = CartFactory(user=UserFactory())
    for token in ["00000000-0000-0000-0000-000000000000", str(foreign.token), "junk"]:
        api_client.credentials(HTTP_X_CART_TOKEN=token)
        response = api_client.get(CART)
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"


def test_get_cart_without_a_cart_is_empty(api_client):
    body = api_client.get(CART).json()
    assert body["token"] is None
    assert body["items"] == []
    assert body["subtotal"] == "0.00"


def test_cart_reports_price_change_and_supply_warnings(api_client):
    variant = make_variant(on_hand=1, price=Decimal("9.00"))
    cart = CartFactory()
    CartLineFactory(cart=cart, variant=variant, quantity=2, unit_price=Decimal("10.00"))
    api_client.credentials(HTTP_X_CART_TOKEN=str(cart.token))
    warnings = api_client.get(CART).json()["warnings"]
    assert {w["code"] for w in warnings} == {"price_changed", "insufficient_stock"}
    assert all(w["sku"] == variant.sku for w in warnings)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"sku": "NOPE", "quantity": 1}, "sku"),
        ({"quantity": 1}, "sku"),
        ({"sku": "X", "quantity": 0}, "quantity"),
        ({"sku": "X", "quantity": 100}, "quantity"),
        ({"sku": "X", "quantity": "many"}, "quantity"),
        ({"sku": "X" * 500, "quantity": 1}, "sku"),
    ],
)
def test_add_item_validation_errors(api_client, payload, field):
    response = api_client.post(ITEMS, payload, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error"
    assert field in body["errors"]


def test_add_item_malformed_json_is_400(api_client):
    response = api_client.post(ITEMS, "{bad", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_add_more_than_available_is_409_with_available(api_client):
    variant = make_variant(on_hand=3)
    response = api_client.post(ITEMS, {"sku": variant.sku, "quantity": 4})
    assert response.status_code == 409
    assert response.json()["code"] == "insufficient_stock"
    assert response.json()["available"] == 3


def test_patch_and_delete_lines(api_client):
    variant, other = make_variant(), make_variant()
    api_client.post(ITEMS, {"sku": variant.sku, "quantity": 1})
    body = api_client.post(ITEMS, {"sku": other.sku, "quantity": 1}).json()
    first, second = (item["id"] for item in body["items"])
    response = api_client.patch(f"{ITEMS}{first}/", {"quantity": 4}, format="json")
    assert response.status_code == 200
    assert response.json()["items"][0]["quantity"] == 4
    response = api_client.patch(f"{ITEMS}{first}/", {"quantity": 0}, format="json")
    assert [i["id"] for i in response.json()["items"]] == [second]
    response = api_client.delete(f"{ITEMS}{second}/")
    assert response.status_code == 200
    assert response.json()["items"] == []


def test_patch_or_delete_a_foreign_line_is_404(api_client):
    foreign = CartLineFactory(cart=CartFactory(user=UserFactory()))
    variant = make_variant()
    api_client.post(ITEMS, {"sku": variant.sku, "quantity": 1})
    assert api_client.patch(f"{ITEMS}{foreign.pk}/", {"quantity": 2}).status_code == 404
    assert api_client.delete(f"{ITEMS}{foreign.pk}/").status_code == 404
    foreign.refresh_from_db()
    assert foreign.quantity == 1


def test_signed_in_user_gets_their_own_cart(api_client):
    user = UserFactory()
    api_client.force_authenticate(user)
    variant = make_variant()
    response = api_client.post(ITEMS, {"sku": variant.sku, "quantity": 1})
    assert response.status_code == 201
    assert Cart.objects.get(token=response.json()["token"]).user == user
    assert "cart_token" not in response.cookies


def test_merge_requires_sign_in_and_merges_the_guest_cart(api_client):
    guest = CartFactory()
    CartLineFactory(cart=guest, quantity=2)
    assert api_client.post("/api/v1/cart/merge/", {"token": str(guest.token)}).status_code == 401
    api_client.force_authenticate(UserFactory())
    response = api_client.post("/api/v1/cart/merge/", {"token": str(guest.token)})
    assert response.status_code == 200
    assert response.json()["item_count"] == 2
    guest.refresh_from_db()
    assert guest.status == CartStatus.MERGED
    again = api_client.post("/api/v1/cart/merge/", {"token": str(guest.token)})
    assert again.status_code == 404
    assert api_client.post("/api/v1/cart/merge/", {"token": "x"}).status_code == 400


def test_reserve_holds_the_cart_and_empty_cart_is_400(api_client):
    assert api_client.post("/api/v1/cart/reserve/").json()["code"] == "cart_empty"
    variant = make_variant(on_hand=4)
    api_client.post(ITEMS, {"sku": variant.sku, "quantity": 3})
    response = api_client.post("/api/v1/cart/reserve/")
    assert response.status_code == 200
    assert "expires_at" in response.json()
    assert StockHold.objects.get(variant=variant).quantity == 3


def test_get_cart_query_count_is_constant(api_client, django_assert_max_num_queries):
    cart = CartFactory()
    api_client.credentials(HTTP_X_CART_TOKEN=str(cart.token))
    CartLineFactory(cart=cart)
    # + shipping methods and their rates, promotions (cart.pricing).
    with django_assert_max_num_queries(8):
        api_client.get(CART)
    for _ in range(10):
        CartLineFactory(cart=cart)
    with django_assert_max_num_queries(8):
        assert len(api_client.get(CART).json()["items"]) == 11
