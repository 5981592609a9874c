"""API.md "Cart" rules not pinned elsewhere: the token header on every cart answer, currency
on every priced object, odd line ids, bad tokens and archived SKUs."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from cart.models import Cart
from catalog.models import ProductStatus
from catalog.tests.factories import make_variant

pytestmark = pytest.mark.django_db

CART = "/api/v1/cart/"
ITEMS = "/api/v1/cart/items/"


@pytest.fixture
def guest() -> APIClient:
    """An anonymous client that only sends its token header (no cookie), CSRF enforced."""
    return APIClient(enforce_csrf_checks=True)


def add(client, variant, quantity=1):
    response = client.post(ITEMS, {"sku": variant.sku, "quantity": quantity}, format="json")
    assert response.status_code == 201, response.content
    client.cookies.clear()
    client.credentials(HTTP_X_CART_TOKEN=response.json()["token"])
    return response


def test_every_cart_answer_carries_the_token_header(guest):
    variant = make_variant(on_hand=5)
    token = add(guest, variant).json()["token"]
    line_id = guest.get(CART).json()["items"][0]["id"]
    for response in (
        guest.get(CART),
        guest.patch(f"{ITEMS}{line_id}/", {"quantity": 2}, format="json"),
        guest.delete(f"{ITEMS}{line_id}/"),
    ):
        assert response.status_code == 200
        assert response["X-Cart-Token"] == token
        assert response.json()["token"] == token


def test_cart_shape_and_currency_on_every_priced_object(guest):
    variant = make_variant(on_hand=5, price=Decimal("10.00"))
    add(guest, variant, 2)
    variant.price = Decimal("12.00")
    variant.save()
    body = guest.get(CART).json()
    assert set(body) >= {"token", "items", "item_count", "subtotal", "currency", "warnings"}
    line = body["items"][0]
    assert set(line) >= {
        "id",
        "sku",
        "product_name",
        "variant_name",
        "quantity",
        "unit_price",
        "line_total",
        "available",
    }
    assert (line["unit_price"], line["line_total"], line["currency"]) == ("10.00", "20.00", "USD")
    assert (body["subtotal"], body["currency"]) == ("20.00", "USD")
    [warning] = body["warnings"]
    assert (warning["code"], warning["old_price"], warning["new_price"]) == (
        "price_changed",
        "10.00",
        "12.00",
    )
    assert warning["currency"] == "USD"


@pytest.mark.parametrize("line_id", ["-1", "0.5", "abc", "99999999999999999999999"])
@pytest.mark.parametrize("method", ["patch", "delete"])
def test_odd_line_ids_answer_json_404(guest, method, line_id):
    add(guest, make_variant())
    response = getattr(guest, method)(f"{ITEMS}{line_id}/", {"quantity": 1}, format="json")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_patch_to_zero_removes_the_line_and_answers_the_cart(guest):
    add(guest, make_variant())
    line_id = guest.get(CART).json()["items"][0]["id"]
    response = guest.patch(f"{ITEMS}{line_id}/", {"quantity": 0}, format="json")
    assert response.status_code == 200
    assert (response.json()["items"], response.json()["item_count"]) == ([], 0)


@pytest.mark.parametrize("token", ["00000000-0000-0000-0000-000000000000", "junk"])
def test_writes_with_an_unknown_token_are_404(guest, token):
    variant = make_variant()
    guest.credentials(HTTP_X_CART_TOKEN=token)
    for response in (
        guest.post(ITEMS, {"sku": variant.sku, "quantity": 1}, format="json"),
        guest.patch(f"{ITEMS}1/", {"quantity": 1}, format="json"),
        guest.delete(f"{ITEMS}1/"),
        guest.post("/api/v1/cart/reserve/"),
    ):
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"


def test_archived_or_inactive_skus_are_validation_errors(guest):
    archived = make_variant(product__status=ProductStatus.ARCHIVED)
    inactive = make_variant(is_active=False)
    for variant in (archived, inactive):
        response = guest.post(ITEMS, {"sku": variant.sku, "quantity": 1}, format="json")
        assert response.status_code == 400
        assert response.json()["code"] == "validation_error"
        assert list(response.json()["errors"]) == ["sku"]


def test_merge_of_an_unknown_or_own_token_is_404(api_client):
    user = UserFactory()
    api_client.force_authenticate(user)
    add(api_client, make_variant())
    own = api_client.get(CART).json()["token"]
    for token in (own, "00000000-0000-0000-0000-000000000000"):
        response = api_client.post("/api/v1/cart/merge/", {"token": token}, format="json")
        assert (response.status_code, response.json()["code"]) == (404, "not_found")


def test_reserve_answers_expires_at(guest):
    add(guest, make_variant(on_hand=3), 2)
    response = guest.post("/api/v1/cart/reserve/")
    assert response.status_code == 200
    assert list(response.json()) == ["expires_at"]


def test_an_invalid_access_token_on_the_cart_is_401(guest):
    guest.credentials(HTTP_AUTHORIZATION="Bearer not-a-jwt")
    response = guest.get(CART)
    assert (response.status_code, response.json()["code"]) == (401, "authentication_failed")


@pytest.mark.parametrize("quantity", [1, 6])
def test_a_failed_first_add_leaves_no_empty_cart(guest, quantity):
    variant = make_variant(on_hand=5)
    sku = "NOPE" if quantity == 1 else variant.sku
    response = guest.post(ITEMS, {"sku": sku, "quantity": quantity}, format="json")
    assert response.status_code in (400, 409)
    assert "X-Cart-Token" not in response
    assert Cart.objects.count() == 0
