from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from accounts.tests.factories import StaffUserFactory, UserFactory
from catalog.models import Product, ProductStatus, Variant
from catalog.tests.factories import (
    CategoryFactory,
    ProductFactory,
    ProductImageFactory,
    VariantFactory,
    make_variant,
)
from inventory.models import StockItem, StockMovement

pytestmark = pytest.mark.django_db

PRODUCTS = "/api/v1/products/"
CATEGORIES = "/api/v1/categories/"


@pytest.fixture
def staff_client(api_client):
    api_client.force_authenticate(StaffUserFactory())
    return api_client


@pytest.fixture
def customer_client(api_client):
    api_client.force_authenticate(UserFactory())
    return api_client


def new_product_body(**overrides):
    body = {
        "name": "Trail Runner",
        "description": "Light shoe",
        "category": CategoryFactory().slug,
        "attributes": {"brand": "Acme"},
        "variants": [
            {"sku": "TR-40", "name": "EU 40", "price": "89.90", "on_hand": 7},
            {"sku": "TR-41", "name": "EU 41", "price": "89.90", "attributes": {"size": 41}},
        ],
    }
    body.update(overrides)
    return body


# ---- categories ----------------------------------------------------------------------


def test_category_list_shape_and_parent_filters(api_client):
    root = CategoryFactory(name="Shoes", slug="shoes", description="All shoes")
    child = CategoryFactory(name="Running", slug="running", parent=root)
    CategoryFactory(parent=child)
    other_root = CategoryFactory()

    everything = api_client.get(CATEGORIES).json()
    assert everything["count"] == 4
    assert next(c for c in everything["results"] if c["slug"] == "shoes") == {
        "id": root.pk,
        "name": "Shoes",
        "slug": "shoes",
        "parent": None,
        "description": "All shoes",
    }
    roots = api_client.get(CATEGORIES, {"parent": ""}).json()["results"]
    assert {c["slug"] for c in roots} == {"shoes", other_root.slug}
    children = api_client.get(CATEGORIES, {"parent": "shoes"}).json()["results"]
    assert [(c["slug"], c["parent"]) for c in children] == [("running", "shoes")]


def test_category_list_with_unknown_parent_is_a_validation_error(api_client):
    response = api_client.get(CATEGORIES, {"parent": "nope"})
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert "parent" in response.json()["errors"]


def test_category_detail_has_children_and_ancestors_root_first(api_client):
    root = CategoryFactory(slug="root")
    mid = CategoryFactory(slug="mid", parent=root)
    leaf = CategoryFactory(slug="leaf", parent=mid)
    body = api_client.get(f"{CATEGORIES}mid/").json()
    assert [c["slug"] for c in body["children"]] == ["leaf"]
    assert [c["slug"] for c in body["ancestors"]] == ["root"]
    body = api_client.get(f"{CATEGORIES}{leaf.slug}/").json()
    assert [c["slug"] for c in body["ancestors"]] == ["root", "mid"]
    assert body["children"] == []


def test_unknown_category_is_404_with_error_shape(api_client):
    response = api_client.get(f"{CATEGORIES}missing/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_category_list_query_count_is_constant(api_client, django_assert_max_num_queries):
    root = CategoryFactory()
    for _ in range(30):
        CategoryFactory(parent=root)
    with django_assert_max_num_queries(2):
        assert len(api_client.get(CATEGORIES, {"page_size": 5}).json()["results"]) == 5
    with django_assert_max_num_queries(2):
        assert len(api_client.get(CATEGORIES, {"page_size": 30}).json()["results"]) == 30


# ---- product list ---------------------------------------------------------------------


def test_product_summary_has_exactly_the_contract_fields(api_client):
    category = CategoryFactory(name="Shoes", slug="shoes")
    product = ProductFactory(name="Trail", slug="trail", category=category)
    make_variant(product=product, price=Decimal("30.00"), on_hand=0)
    make_variant(product=product, price=Decimal("25.50"), on_hand=2)
    ProductImageFactory(product=product, image="products/trail.png")
    body = api_client.get(PRODUCTS).json()
    assert body["count"] == 1
    assert body["results"][0] == {
        "id": product.pk,
        "slug": "trail",
        "name": "Trail",
        "category": {"slug": "shoes", "name": "Shoes"},
        "price_from": "25.50",
        "currency": "USD",
        "in_stock": True,
        "image_url": "http://testserver/media/products/trail.png",
        "rating": {"average": None, "count": 0},
    }


def test_product_list_hides_archived_and_draft(api_client):
    VariantFactory(product__slug="live")
    VariantFactory(product__status=ProductStatus.ARCHIVED)
    VariantFactory(product__status=ProductStatus.DRAFT)
    assert [p["slug"] for p in api_client.get(PRODUCTS).json()["results"]] == ["live"]


def test_product_list_filters(api_client):
    shoes = CategoryFactory(slug="shoes")
    trail = CategoryFactory(slug="trail", parent=shoes)
    a = make_variant(product__category=trail, product__name="Alpha", price=Decimal("10.00"))
    make_variant(product__category=shoes, product__name="Beta", price=Decimal("60.00"), on_hand=0)
    make_variant(product__name="Gamma kettle", price=Decimal("35.00"), sku="KET-1")

    def slugs(**params):
        response = api_client.get(PRODUCTS, params)
        assert response.status_code == 200, response.json()
        return [p["name"] for p in response.json()["results"]]

    assert slugs(category="shoes") == ["Alpha", "Beta"]
    assert slugs(category="trail") == ["Alpha"]
    assert slugs(search="ket-1") == ["Gamma kettle"]
    assert slugs(min_price="20", max_price="50") == ["Gamma kettle"]
    assert slugs(in_stock="true") == ["Alpha", "Gamma kettle"]
    assert slugs(in_stock="false") == ["Beta"]
    assert slugs(ordering="-price") == ["Beta", "Gamma kettle", "Alpha"]
    assert slugs(ordering="newest")[0] == "Gamma kettle"
    assert a.product.name == "Alpha"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"ordering": "bogus"}, "ordering"),
        ({"min_price": "abc"}, "min_price"),
        ({"max_price": "1e400"}, "max_price"),
        ({"max_price": "NaN"}, "max_price"),
        ({"category": "nope"}, "category"),
        ({"in_stock": "maybe"}, "in_stock"),
        ({"search": "x" * 201}, "search"),
    ],
)
def test_invalid_filter_values_are_validation_errors(api_client, params, field):
    response = api_client.get(PRODUCTS, params)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error"
    assert field in body["errors"]


def test_page_size_is_clamped_to_100(api_client):
    response = api_client.get(PRODUCTS, {"page_size": 1000})
    assert response.status_code == 200


@pytest.mark.parametrize("page_size", [5, 40])
def test_product_list_runs_constant_queries(api_client, django_assert_max_num_queries, page_size):
    category = CategoryFactory()
    for _ in range(page_size):
        product = ProductFactory(category=category)
        VariantFactory(product=product)
        VariantFactory(product=product)
        ProductImageFactory(product=product)
    # count + page + the category slug lookup + two for the facets, whatever the page size
    with django_assert_max_num_queries(5):
        response = api_client.get(PRODUCTS, {"page_size": page_size, "category": category.slug})
    assert len(response.json()["results"]) == page_size


# ---- product detail -------------------------------------------------------------------


def test_product_detail_shape_hides_counts(api_client):
    product = ProductFactory(slug="kettle", attributes={"brand": "Acme"})
    make_variant(product=product, sku="K-1", name="Red", on_hand=20, position=1)
    make_variant(product=product, sku="K-2", name="Blue", on_hand=3, position=2)
    make_variant(product=product, sku="K-3", name="Green", on_hand=0, position=3)
    make_variant(product=product, sku="K-4", is_active=False)
    ProductImageFactory(product=product, image="products/k.png", alt="Kettle")
    body = api_client.get(f"{PRODUCTS}kettle/").json()
    assert set(body) == {
        "id",
        "slug",
        "name",
        "description",
        "category",
        "attributes",
        "images",
        "variants",
        "rating",
    }
    assert body["attributes"] == {"brand": "Acme"}
    assert body["images"] == [{"url": "http://testserver/media/products/k.png", "alt": "Kettle"}]
    assert body["variants"][0] == {
        "sku": "K-1",
        "name": "Red",
        "price": "19.99",
        "currency": "USD",
        "attributes": {},
        "in_stock": True,
        "stock_hint": "in_stock",
    }
    assert [(v["sku"], v["stock_hint"]) for v in body["variants"]] == [
        ("K-1", "in_stock"),
        ("K-2", "low_stock"),
        ("K-3", "out_of_stock"),
    ]


@pytest.mark.parametrize("status", [ProductStatus.ARCHIVED, ProductStatus.DRAFT])
def test_inactive_product_detail_is_404_for_shoppers(customer_client, status):
    VariantFactory(product__slug="gone", product__status=status)
    assert APIClient().get(f"{PRODUCTS}gone/").status_code == 404
    assert customer_client.get(f"{PRODUCTS}gone/").status_code == 404


def test_staff_see_archived_product_with_stock_numbers(staff_client):
    make_variant(product__slug="gone", product__status=ProductStatus.ARCHIVED, on_hand=4)
    body = staff_client.get(f"{PRODUCTS}gone/").json()
    assert body["status"] == "archived"
    assert body["variants"][0]["available"] == 4


@pytest.mark.parametrize("variant_count", [1, 6])
def test_product_detail_runs_constant_queries(
    api_client, django_assert_max_num_queries, variant_count
):
    product = ProductFactory(slug="many")
    for _ in range(variant_count):
        make_variant(product=product)
        ProductImageFactory(product=product)
    with django_assert_max_num_queries(3):
        response = api_client.get(f"{PRODUCTS}many/")
    assert len(response.json()["variants"]) == variant_count


# ---- variants ------------------------------------------------------------------------


def test_variant_by_sku_is_case_insensitive(api_client):
    make_variant(sku="AbC-1", product__slug="p", product__name="P")
    body = api_client.get("/api/v1/variants/abc-1/").json()
    assert body["sku"] == "AbC-1"
    assert body["product"] == {"slug": "p", "name": "P"}
    assert body["stock_hint"] == "in_stock"


def test_variant_of_archived_product_or_inactive_is_404(api_client):
    VariantFactory(sku="OLD-1", product__status=ProductStatus.ARCHIVED)
    VariantFactory(sku="OFF-1", is_active=False)
    assert api_client.get("/api/v1/variants/OLD-1/").status_code == 404
    assert api_client.get("/api/v1/variants/OFF-1/").status_code == 404
    assert api_client.get("/api/v1/variants/NOPE/").status_code == 404


# ---- staff writes --------------------------------------------------------------------


def test_staff_create_product_with_variants_and_stock(staff_client):
    response = staff_client.post(PRODUCTS, new_product_body(), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["slug"] == "trail-runner"
    assert [v["sku"] for v in body["variants"]] == ["TR-40", "TR-41"]
    assert [v["available"] for v in body["variants"]] == [7, 0]
    variant = Variant.objects.get(sku="TR-40")
    assert StockItem.objects.get(variant=variant).on_hand == 7
    movement = StockMovement.objects.get(variant=variant)
    assert (movement.delta, movement.reason) == (7, "restock")


def test_create_product_reports_nested_errors_with_dotted_paths(staff_client):
    VariantFactory(sku="TAKEN-1")
    body = new_product_body(
        variants=[
            {"sku": "ok-1", "price": "1.00"},
            {"sku": "taken-1", "price": "0"},
            {"sku": "OK-1", "price": "2.00"},
        ]
    )
    response = staff_client.post(PRODUCTS, body, format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert "variants.1.sku" in errors
    assert "variants.1.price" in errors
    assert not Product.objects.filter(name="Trail Runner").exists()


def test_create_product_detects_duplicate_skus_within_the_request(staff_client):
    body = new_product_body(
        variants=[{"sku": "dup-1", "price": "1.00"}, {"sku": "DUP-1", "price": "2.00"}]
    )
    response = staff_client.post(PRODUCTS, body, format="json")
    assert response.status_code == 400
    assert "variants.1.sku" in response.json()["errors"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"variants": []}, "variants"),
        ({"category": "nope"}, "category"),
        ({"name": "x" * 201}, "name"),
        ({"name": 12.5, "variants": "nope"}, "variants"),
        ({"attributes": ["not", "an", "object"]}, "attributes"),
        ({"status": "deleted"}, "status"),
    ],
)
def test_create_product_rejects_bad_input(staff_client, body, field):
    response = staff_client.post(PRODUCTS, new_product_body(**body), format="json")
    assert response.status_code == 400
    assert any(key.split(".")[0] == field for key in response.json()["errors"])


def test_create_product_rejects_missing_fields_and_malformed_json(staff_client):
    response = staff_client.post(PRODUCTS, {}, format="json")
    assert response.status_code == 400
    assert {"name", "category", "variants"} <= set(response.json()["errors"])
    response = staff_client.post(PRODUCTS, "{nope", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_anonymous_write_is_401_and_customer_403(customer_client):
    body = new_product_body()
    anonymous = APIClient()
    response = anonymous.post(PRODUCTS, body, format="json")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    response = customer_client.post(PRODUCTS, body, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    VariantFactory(sku="S-1", product__slug="p")
    assert customer_client.patch(f"{PRODUCTS}p/", {"name": "x"}).status_code == 403
    assert customer_client.delete(f"{PRODUCTS}p/").status_code == 403
    assert customer_client.patch("/api/v1/variants/S-1/", {"name": "x"}).status_code == 403
    assert (
        customer_client.post(f"{PRODUCTS}p/variants/", {"sku": "N", "price": "1"}).status_code
        == 403
    )


def test_staff_patch_product(staff_client):
    VariantFactory(product__slug="p")
    other = CategoryFactory(slug="other")
    response = staff_client.patch(
        f"{PRODUCTS}p/", {"name": "New name", "category": "other", "attributes": {"a": 1}}
    )
    assert response.status_code == 200, response.json()
    product = Product.objects.get(slug="p")
    assert (product.name, product.category, product.attributes) == ("New name", other, {"a": 1})


def test_staff_patch_product_rejects_taken_slug(staff_client):
    ProductFactory(slug="taken")
    ProductFactory(slug="p")
    response = staff_client.patch(f"{PRODUCTS}p/", {"slug": "taken"})
    assert response.status_code == 400
    assert "slug" in response.json()["errors"]


def test_delete_archives_and_product_disappears_for_shoppers(staff_client):
    VariantFactory(product__slug="p")
    assert staff_client.delete(f"{PRODUCTS}p/").status_code == 204
    assert Product.objects.get(slug="p").status == ProductStatus.ARCHIVED
    assert APIClient().get(f"{PRODUCTS}p/").status_code == 404
    assert APIClient().get(PRODUCTS).json()["count"] == 0


def test_staff_add_variant(staff_client):
    ProductFactory(slug="p")
    response = staff_client.post(
        f"{PRODUCTS}p/variants/", {"sku": "NEW-1", "price": "5.00", "on_hand": 3}
    )
    assert response.status_code == 201, response.json()
    assert response.json()["product"]["slug"] == "p"
    assert response.json()["available"] == 3


def test_staff_add_variant_with_taken_sku_is_400(staff_client):
    ProductFactory(slug="p")
    VariantFactory(sku="NEW-1")
    response = staff_client.post(f"{PRODUCTS}p/variants/", {"sku": "new-1", "price": "5.00"})
    assert response.status_code == 400
    assert "sku" in response.json()["errors"]


def test_staff_patch_variant(staff_client):
    make_variant(sku="V-1", on_hand=10)
    response = staff_client.patch(
        "/api/v1/variants/v-1/", {"price": "7.25", "is_active": False, "low_stock_threshold": 2}
    )
    assert response.status_code == 200, response.json()
    variant = Variant.objects.get(sku="V-1")
    assert (variant.price, variant.is_active) == (Decimal("7.25"), False)
    assert variant.stock.low_stock_threshold == 2


@pytest.mark.parametrize(
    "body", [{"price": "-1"}, {"price": "abc"}, {"sku": "bad sku"}, {"position": -1}]
)
def test_staff_patch_variant_rejects_bad_values(staff_client, body):
    VariantFactory(sku="V-1")
    response = staff_client.patch("/api/v1/variants/V-1/", body)
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
