"""Search: ranked full-text plus trigram typos on PostgreSQL, a substring fallback on SQLite."""

import pytest
from django.db import connection

from catalog.search import refresh_search_index, suggestions
from catalog.selectors import product_listing
from catalog.tests.factories import ProductFactory, VariantFactory

pytestmark = pytest.mark.django_db


def _product(name: str, *, description: str = "", sku: str | None = None):
    product = ProductFactory(name=name, description=description)
    VariantFactory(product=product, **({"sku": sku} if sku else {}))
    return product


def _names(search: str) -> list[str]:
    return [p.name for p in product_listing(search=search)]


def test_search_finds_by_name_description_and_sku():
    lamp = _product("Desk lamp", description="A bright light for reading")
    _product("Garden chair", sku="CHAIR-OAK-1")
    _product("Sofa", description="Seats three")
    assert _names("lamp") == [lamp.name]
    assert _names("CHAIR-OAK-1") == ["Garden chair"]
    assert _names("three") == ["Sofa"]


@pytest.mark.postgres
def test_typos_still_find_the_product():
    _product("Desk lamp")
    _product("Steel saucepan 2L")
    _product("Coffee mug")
    assert _names("lamb") == ["Desk lamp"]
    assert _names("sacepan") == ["Steel saucepan 2L"]


@pytest.mark.postgres
def test_results_rank_a_name_match_above_a_description_match():
    _product("Blue vase", description="Looks good with a lamp beside it")
    _product("Reading lamp", description="Warm light")
    assert _names("lamp") == ["Reading lamp", "Blue vase"]


@pytest.mark.postgres
def test_a_sku_change_reaches_the_search_index():
    product = _product("Plain thing", sku="OLD-1")
    variant = product.variants.get()
    variant.sku = "NEWCODE-9"
    variant.save()
    assert _names("NEWCODE-9") == ["Plain thing"]


@pytest.mark.postgres
def test_refresh_search_index_fills_rows_written_in_bulk():
    product = _product("Bulk kettle")
    type(product).objects.filter(pk=product.pk).update(search_vector=None)
    assert refresh_search_index(product_ids=[product.pk]) == 1
    product.refresh_from_db()
    assert "kettl" in str(product.search_vector)


@pytest.mark.postgres
def test_the_search_indexes_exist():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'catalog_product'"
        )
        indexes = dict(cursor.fetchall())
    assert "USING gin (search_vector)" in indexes["catalog_prod_search"]
    assert "gin_trgm_ops" in indexes["catalog_prod_name_trgm"]


def test_suggestions_return_names_and_slugs_of_active_products():
    lamp = _product("Desk lamp")
    _product("Lamp shade").status = "draft"
    ProductFactory(name="Lamp draft", status="draft")
    found = suggestions(text="lamp")
    assert {"name": lamp.name, "slug": lamp.slug} in found
    assert all(item["name"] != "Lamp draft" for item in found)
    assert suggestions(text="l") == []


def test_the_suggestions_fragment_lists_matching_products(client, django_assert_max_num_queries):
    lamp = _product("Desk lamp")
    with django_assert_max_num_queries(3):
        response = client.get("/search/suggest/", {"q": "lamp"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    body = response.content.decode()
    assert f'href="/p/{lamp.slug}/"' in body
    assert 'role="option"' in body
    assert client.get("/search/suggest/", {"q": ""}).content.strip() == b""


def test_the_header_search_box_asks_for_suggestions(client):
    body = client.get("/").content.decode()
    assert 'hx-get="/search/suggest/"' in body
    assert 'role="combobox"' in body


@pytest.mark.parametrize("size", [3, 30])
def test_a_search_request_takes_constant_queries(api_client, size, django_assert_max_num_queries):
    for n in range(size):
        _product(f"Lamp model {n}", description="A lamp")
    # count + page + the two facet queries, whatever the catalogue size
    with django_assert_max_num_queries(4):
        response = api_client.get("/api/v1/products/", {"search": "lamb", "page_size": 24})
    assert response.status_code == 200
