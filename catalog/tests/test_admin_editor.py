"""The product editor: a sellable product in one pass (draft first, variants with starting
stock, attributes as rows, image thumbnails, prices as money)."""

from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.roles import CATALOG_MANAGERS
from accounts.tests.factories import StaffUserFactory
from catalog.models import Product, ProductStatus, Variant
from catalog.tests.factories import CategoryFactory, ProductFactory, ProductImageFactory
from inventory.models import MovementReason, StockItem, StockMovement

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(client):
    client.force_login(StaffUserFactory(roles=[CATALOG_MANAGERS]))
    return client


def new_product_data(category, **extra) -> dict:
    return {
        "name": "Fjell Summit Lamp",
        "slug": "fjell-summit-lamp",
        "description": "Bright.",
        "category": category.pk,
        "attributes-name": ["Material", ""],
        "attributes-value": ["Aluminium", ""],
        "status": "draft",
        "variants-TOTAL_FORMS": "1",
        "variants-INITIAL_FORMS": "0",
        "variants-0-sku": "LAMP-S",
        "variants-0-name": "S",
        "variants-0-price": "99.72",
        "variants-0-attributes-name": ["Size", "Colour", ""],
        "variants-0-attributes-value": ["S", "Red", ""],
        "variants-0-is_active": "on",
        "variants-0-position": "0",
        "variants-0-starting_stock": "12",
        "images-TOTAL_FORMS": "0",
        "images-INITIAL_FORMS": "0",
        **extra,
    }


def test_the_add_page_starts_a_draft_with_one_variant_row(manager):
    response = manager.get(reverse("admin:catalog_product_add"))
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert form.initial["status"] == ProductStatus.DRAFT
    page = response.content.decode()
    assert 'name="variants-0-starting_stock"' in page
    assert 'name="attributes-name"' in page
    assert 'name="variants-0-attributes-value"' in page


def test_one_pass_makes_a_draft_with_stock_and_attributes(manager):
    category = CategoryFactory()
    response = manager.post(reverse("admin:catalog_product_add"), new_product_data(category))
    assert response.status_code == 302, response.content.decode()[:3000]
    product = Product.objects.get(slug="fjell-summit-lamp")
    assert product.status == ProductStatus.DRAFT
    assert product.attributes == {"Material": "Aluminium"}
    variant = Variant.objects.get(sku="LAMP-S")
    assert variant.attributes == {"Size": "S", "Colour": "Red"}
    assert StockItem.objects.get(variant=variant).on_hand == 12
    movement = StockMovement.objects.get(variant=variant)
    assert (movement.reason, movement.delta) == (MovementReason.RESTOCK, 12)
    assert not Product.objects.purchasable().filter(pk=product.pk).exists()


def test_drafts_are_not_listed_to_shoppers(manager, client):
    category = CategoryFactory()
    manager.post(reverse("admin:catalog_product_add"), new_product_data(category))
    client.logout()
    listing = client.get("/api/v1/products/").json()
    assert "fjell-summit-lamp" not in [p["slug"] for p in listing["results"]]
    assert client.get("/api/v1/products/fjell-summit-lamp/").status_code == 404


def test_attribute_rows_refuse_a_value_without_a_name(manager):
    data = new_product_data(CategoryFactory())
    data["variants-0-attributes-name"] = ["", ""]
    data["variants-0-attributes-value"] = ["Red", ""]
    response = manager.post(reverse("admin:catalog_product_add"), data)
    assert response.status_code == 200
    assert "Give the attribute with value “Red” a name." in response.content.decode()
    assert not Product.objects.exists()


def test_attribute_rows_refuse_a_name_twice(manager):
    data = new_product_data(CategoryFactory())
    data["attributes-name"] = ["Material", "material"]
    data["attributes-value"] = ["Steel", "Wood"]
    response = manager.post(reverse("admin:catalog_product_add"), data)
    assert "listed twice" in response.content.decode()


def test_negative_starting_stock_is_refused(manager):
    data = new_product_data(CategoryFactory(), **{"variants-0-starting_stock": "-1"})
    response = manager.post(reverse("admin:catalog_product_add"), data)
    assert response.status_code == 200
    assert not Variant.objects.filter(sku="LAMP-S").exists()


def test_existing_attributes_show_as_rows(manager):
    product = ProductFactory(attributes={"Brand": "Fjell"})
    page = manager.get(reverse("admin:catalog_product_change", args=[product.pk])).content
    assert b'value="Brand"' in page
    assert b'value="Fjell"' in page


def test_prices_show_as_money_in_the_list(manager, settings):
    settings.SHOP_CURRENCY = "EUR"
    product = ProductFactory(name="Priced")
    Variant.objects.create(product=product, sku="P-1", price=Decimal("99.72"))
    page = manager.get(reverse("admin:catalog_product_changelist")).content.decode()
    assert "99.72 EUR" in page
    assert "99.7200" not in page


def test_images_show_as_thumbnails(manager):
    image = ProductImageFactory(alt="Lamp front")
    page = manager.get(reverse("admin:catalog_product_change", args=[image.product_id]))
    html = page.content.decode()
    assert '<img src="' in html
    assert 'alt="Lamp front"' in html
