"""What is purchasable: one rule, as queryset methods and as instance properties."""

import pytest

from catalog.models import Product, ProductStatus, Variant
from catalog.tests.factories import ProductFactory, VariantFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def variants() -> dict[str, Variant]:
    return {
        "buyable": VariantFactory(sku="BUY-1"),
        "switched_off": VariantFactory(sku="OFF-1", is_active=False),
        "draft": VariantFactory(sku="DRAFT-1", product__status=ProductStatus.DRAFT),
        "archived": VariantFactory(sku="ARCH-1", product__status=ProductStatus.ARCHIVED),
    }


def test_purchasable_variants_are_active_variants_of_active_products(variants):
    assert list(Variant.objects.purchasable().values_list("sku", flat=True)) == ["BUY-1"]


def test_active_variants_ignore_the_product_status(variants):
    skus = set(Variant.objects.active().values_list("sku", flat=True))
    assert skus == {"BUY-1", "DRAFT-1", "ARCH-1"}


def test_purchasable_products_are_active_ones(variants):
    ProductFactory(status=ProductStatus.DRAFT)
    expected = {variants["buyable"].product, variants["switched_off"].product}
    assert set(Product.objects.purchasable()) == expected


def test_the_instance_property_agrees_with_the_queryset(variants):
    purchasable = set(Variant.objects.purchasable())
    for variant in Variant.objects.select_related("product"):
        assert variant.is_purchasable is (variant in purchasable)
        assert variant.product.is_purchasable is (variant.product.status == ProductStatus.ACTIVE)
