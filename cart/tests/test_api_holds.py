"""``POST /api/v1/cart/reserve/``: holds start only here, one per cart, bounded per client IP."""

from datetime import timedelta

import pytest
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from catalog.tests.factories import make_variant
from inventory.models import StockHold

pytestmark = pytest.mark.django_db

ITEMS = "/api/v1/cart/items/"
RESERVE = "/api/v1/cart/reserve/"
SCRIPT_IP = "203.0.113.50"


def new_cart(variant, quantity: int = 1, ip: str = SCRIPT_IP, **headers) -> APIClient:
    """A fresh anonymous client (its own cart, token header only) calling from ``ip``."""
    client = APIClient(REMOTE_ADDR=ip)
    response = client.post(
        ITEMS, {"sku": variant.sku, "quantity": quantity}, format="json", **headers
    )
    assert response.status_code == 201, response.content
    client.cookies.clear()
    client.credentials(HTTP_X_CART_TOKEN=response.json()["token"])
    return client


def test_adding_to_the_cart_holds_nothing():
    variant = make_variant(on_hand=100)
    for _ in range(5):
        new_cart(variant, 99)
    assert not StockHold.objects.exists()


def test_reserving_again_never_extends_the_hold():
    variant = make_variant(on_hand=10)
    client = new_cart(variant, 2)

    first = client.post(RESERVE)
    again = client.post(RESERVE)

    assert first.status_code == again.status_code == 200
    assert again.json()["expires_at"] == first.json()["expires_at"]
    assert StockHold.objects.get().client_ip == SCRIPT_IP


def test_a_script_making_many_carts_from_one_ip_holds_at_most_the_bound(settings):
    settings.SHOP_MAX_HOLDS_PER_IP = 3
    variant = make_variant(on_hand=1000)

    answers = [new_cart(variant, 99).post(RESERVE) for _ in range(10)]

    assert [a.status_code for a in answers] == [200] * 3 + [429] * 7
    refused = answers[-1]
    body = refused.json()
    assert body["code"] == "too_many_holds"
    assert body["detail"]
    assert int(refused["Retry-After"]) == body["retry_after"] > 0
    assert StockHold.objects.values("cart_token").distinct().count() == 3
    # Each held cart holds at most SHOP_MAX_HELD_UNITS_PER_CART of its 99.
    assert set(StockHold.objects.values_list("quantity", flat=True)) == {
        settings.SHOP_MAX_HELD_UNITS_PER_CART
    }
    # A shopper elsewhere is not affected.
    assert new_cart(variant, 1, ip="198.51.100.7").post(RESERVE).status_code == 200


def test_a_forged_forwarded_for_header_does_not_escape_the_bound(settings):
    settings.SHOP_MAX_HOLDS_PER_IP = 1
    variant = make_variant(on_hand=100)
    assert new_cart(variant).post(RESERVE).status_code == 200
    forged = new_cart(variant)
    response = forged.post(RESERVE, HTTP_X_FORWARDED_FOR="192.0.2.99")
    assert response.status_code == 429


def test_renewing_a_hold_forever_is_refused(settings):
    settings.SHOP_MAX_HOLDS_PER_CART_PER_HOUR = 2
    variant = make_variant(on_hand=10)
    client = new_cart(variant)
    statuses = []
    for _ in range(4):  # a script reserving again each time its hold runs out
        statuses.append(client.post(RESERVE).status_code)
        StockHold.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert statuses == [200, 200, 429, 429]


def test_the_schema_documents_too_many_holds():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    responses = schema["paths"]["/api/v1/cart/reserve/"]["post"]["responses"]
    assert "too_many_holds" in responses["429"]["description"]
