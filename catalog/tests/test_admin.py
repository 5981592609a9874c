from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from catalog.models import Product, ProductStatus, Variant
from catalog.tests.factories import (
    CategoryFactory,
    ProductFactory,
    ProductImageFactory,
    VariantFactory,
)
from inventory.models import StockItem

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_browser(client):
    user = get_user_model().objects.create_superuser(email="root@example.com", password="x")
    client.force_login(user)
    return client


def make_products(n: int) -> None:
    categories = [CategoryFactory(), CategoryFactory()]
    for i in range(n):
        product = ProductFactory(category=categories[i % 2])
        VariantFactory(product=product)
        VariantFactory(product=product)


@pytest.mark.parametrize("count", [5, 60])
def test_product_changelist_query_count_does_not_grow(
    admin_browser, django_assert_max_num_queries, count
):
    make_products(count)
    with django_assert_max_num_queries(12):
        response = admin_browser.get(reverse("admin:catalog_product_changelist"))
    assert response.status_code == 200
    assert response.content.count(b'class="action-select"') == min(count, 100)


def test_product_changelist_search_by_sku(admin_browser):
    VariantFactory(sku="FIND-ME", product__name="Needle")
    VariantFactory(product__name="Hay")
    response = admin_browser.get(reverse("admin:catalog_product_changelist"), {"q": "find-me"})
    assert b"Needle" in response.content
    assert b"Hay" not in response.content


def test_product_change_page_renders_inlines(admin_browser, django_assert_max_num_queries):
    product = ProductFactory()
    for _ in range(4):
        VariantFactory(product=product)
    ProductImageFactory(product=product)
    with django_assert_max_num_queries(25):
        response = admin_browser.get(reverse("admin:catalog_product_change", args=[product.pk]))
    assert response.status_code == 200
    assert b"variants-TOTAL_FORMS" in response.content


def test_bulk_archive_action(admin_browser):
    a, b = VariantFactory().product, VariantFactory().product
    response = admin_browser.post(
        reverse("admin:catalog_product_changelist"),
        {"action": "archive_selected", "_selected_action": [a.pk, b.pk]},
    )
    assert response.status_code == 302
    assert set(Product.objects.values_list("status", flat=True)) == {ProductStatus.ARCHIVED}


def test_adding_a_variant_inline_creates_its_stock_row(admin_browser):
    product = ProductFactory()
    url = reverse("admin:catalog_product_change", args=[product.pk])
    data = {
        "name": product.name,
        "slug": product.slug,
        "description": "",
        "category": product.category_id,
        "attributes": "{}",
        "status": "active",
        "variants-TOTAL_FORMS": "1",
        "variants-INITIAL_FORMS": "0",
        "variants-0-sku": "ADM-1",
        "variants-0-name": "One",
        "variants-0-price": "3.00",
        "variants-0-attributes": "{}",
        "variants-0-is_active": "on",
        "variants-0-position": "0",
        "images-TOTAL_FORMS": "0",
        "images-INITIAL_FORMS": "0",
    }
    response = admin_browser.post(url, data)
    assert response.status_code == 302, response.content[:2000]
    variant = Variant.objects.get(sku="ADM-1")
    assert variant.price == Decimal("3.00")
    assert StockItem.objects.get(variant=variant).on_hand == 0


def test_category_changelist_shows_an_indented_tree(admin_browser, django_assert_max_num_queries):
    root = CategoryFactory(name="Root")
    child = CategoryFactory(name="Child", parent=root)
    CategoryFactory(name="Grandchild", parent=child)
    with django_assert_max_num_queries(10):
        response = admin_browser.get(reverse("admin:catalog_category_changelist"))
    body = response.content.decode()
    assert 'padding-left:3.0em">└ Grandchild' in body
    assert body.index("Root") < body.index("Child") < body.index("Grandchild")


def test_category_admin_refuses_a_cycle(admin_browser):
    root = CategoryFactory(name="Root", slug="root")
    child = CategoryFactory(name="Child", parent=root)
    response = admin_browser.post(
        reverse("admin:catalog_category_change", args=[root.pk]),
        {"name": "Root", "slug": "root", "parent": child.pk, "description": "", "position": 0},
    )
    assert response.status_code == 200
    assert b"own subtree" in response.content
    root.refresh_from_db()
    assert root.parent is None
