"""API.md "Catalog" rules not pinned elsewhere: money and currency on every priced object,
pagination of the public lists, and what a product without images or variants lists as."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from catalog.tests.factories import CategoryFactory, ProductFactory, make_variant

pytestmark = pytest.mark.django_db

PRODUCTS = "/api/v1/products/"


def test_every_priced_catalog_object_has_a_money_string_and_currency():
    variant = make_variant(price=Decimal("19.9"), on_hand=3)
    client = APIClient()
    summary = client.get(PRODUCTS).json()["results"][0]
    assert (summary["price_from"], summary["currency"]) == ("19.90", "USD")
    detail = client.get(f"{PRODUCTS}{variant.product.slug}/").json()
    assert {(v["price"], v["currency"]) for v in detail["variants"]} == {("19.90", "USD")}
    by_sku = client.get(f"/api/v1/variants/{variant.sku}/").json()
    assert (by_sku["price"], by_sku["currency"]) == ("19.90", "USD")
    assert by_sku["product"] == {"slug": variant.product.slug, "name": variant.product.name}


def test_a_product_without_images_lists_a_null_image_url():
    # The server sends null here; the schema should mark image_url nullable (see report).
    make_variant(product=ProductFactory(slug="bare"), price=Decimal("5.00"))
    [row] = APIClient().get(PRODUCTS).json()["results"]
    assert (row["slug"], row["price_from"], row["image_url"]) == ("bare", "5.00", None)


def test_public_lists_are_paginated_20_by_default():
    parent = CategoryFactory()
    for _ in range(21):
        CategoryFactory(parent=parent)
    body = APIClient().get("/api/v1/categories/", {"parent": parent.slug}).json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert (body["count"], len(body["results"])) == (21, 20)
    assert body["next"]
