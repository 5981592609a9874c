"""Facets and attribute filters of the product list (API and HTML)."""

from decimal import Decimal

import pytest

from catalog.facets import listing_facets
from catalog.selectors import product_listing
from catalog.tests.factories import CategoryFactory, ProductFactory, VariantFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def shirts():
    tops = CategoryFactory(name="Tops", slug="tops")
    hats = CategoryFactory(name="Hats", slug="hats")
    red = ProductFactory(name="Red shirt", category=tops)
    VariantFactory(product=red, price=Decimal("10.00"), attributes={"size": "M", "colour": "red"})
    VariantFactory(product=red, price=Decimal("12.00"), attributes={"size": "L", "colour": "red"})
    blue = ProductFactory(name="Blue shirt", category=tops)
    VariantFactory(product=blue, price=Decimal("15.00"), attributes={"size": "M", "colour": "blue"})
    cap = ProductFactory(name="Cap", category=hats)
    VariantFactory(product=cap, price=Decimal("30.00"), attributes={"size": "L"})
    VariantFactory(product=cap, price=Decimal("31.00"), attributes={"size": "XL"}, is_active=False)
    return {"red": red, "blue": blue, "cap": cap}


def test_facets_count_products_per_category_attribute_value_and_price_range(shirts):
    facets = listing_facets(listing=product_listing())
    assert facets["categories"] == [
        {"slug": "tops", "name": "Tops", "count": 2},
        {"slug": "hats", "name": "Hats", "count": 1},
    ]
    sizes = {item["value"]: item["count"] for item in facets["attributes"]["size"]}
    assert sizes == {"M": 2, "L": 2}  # the inactive XL variant does not count
    assert {item["value"] for item in facets["attributes"]["colour"]} == {"red", "blue"}
    assert facets["price"] == {"min": "10.00", "max": "30.00"}


def test_an_attribute_filter_needs_one_variant_with_every_value(shirts):
    names = lambda **attrs: {p.name for p in product_listing(attributes=attrs)}  # noqa: E731
    assert names(size=["M"]) == {"Red shirt", "Blue shirt"}
    assert names(size=["L"], colour=["blue"]) == set()
    assert names(size=["L", "M"], colour=["red"]) == {"Red shirt"}
    assert names(size=["XL"]) == set()


def test_facets_of_an_empty_listing_are_empty():
    assert listing_facets(listing=product_listing(search="nothing-at-all")) == {
        "categories": [],
        "attributes": {},
        "price": {"min": None, "max": None},
    }


def test_the_api_lists_facets_beside_results_in_constant_queries(
    shirts, api_client, django_assert_max_num_queries
):
    for n in range(5):
        VariantFactory(product__name=f"Extra {n}", attributes={"size": "S"})
    with django_assert_max_num_queries(6):
        response = api_client.get("/api/v1/products/", {"attr_size": "M"})
    assert response.status_code == 200
    body = response.json()
    assert {r["name"] for r in body["results"]} == {"Red shirt", "Blue shirt"}
    assert body["facets"]["categories"] == [{"slug": "tops", "name": "Tops", "count": 2}]
    assert body["facets"]["price"] == {"min": "10.00", "max": "15.00"}


def test_a_bad_attribute_filter_is_a_validation_error(api_client):
    response = api_client.get("/api/v1/products/", {"attr_si ze": "M"})
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert "attr_si ze" in response.json()["errors"]
    response = api_client.get("/api/v1/products/", {"attr_size": "x" * 201})
    assert response.status_code == 400


def test_the_listing_page_offers_facet_filters_that_keep_the_url_shareable(
    shirts, client, django_assert_max_num_queries
):
    with django_assert_max_num_queries(12):
        response = client.get("/search/", {"q": "shirt", "attr_size": "M"})
    body = response.content.decode()
    assert response.status_code == 200
    assert 'name="attr_size" value="M" checked' in body
    assert 'name="attr_colour" value="blue"' in body
    assert "Red shirt" in body
    assert "Cap" not in body
    assert 'href="/search/?q=shirt&amp;category=tops"' in body
    hats = client.get("/search/", {"category": "hats"}).content.decode()
    assert "Cap" in hats
    assert "Red shirt" not in hats
