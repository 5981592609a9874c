from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from catalog.models import Product, ProductStatus
from catalog.selectors import image_url, product_detail, product_listing, stock_hint
from catalog.tests.factories import (
    CategoryFactory,
    ProductFactory,
    ProductImageFactory,
    VariantFactory,
    make_variant,
)
from inventory.tests.factories import StockHoldFactory

pytestmark = pytest.mark.django_db


def test_listing_shows_only_active_products_with_an_active_variant():
    shown = VariantFactory().product
    VariantFactory(product__status=ProductStatus.ARCHIVED)
    VariantFactory(product__status=ProductStatus.DRAFT)
    VariantFactory(is_active=False)
    ProductFactory()  # no variants at all
    assert list(product_listing()) == [shown]


def test_listing_annotates_lowest_active_price_and_first_image():
    product = ProductFactory()
    VariantFactory(product=product, price=Decimal("30.00"))
    VariantFactory(product=product, price=Decimal("12.50"))
    VariantFactory(product=product, price=Decimal("5.00"), is_active=False)
    ProductImageFactory(product=product, image="products/b.png", position=2)
    ProductImageFactory(product=product, image="products/a.png", alt="Front", position=1)
    row = product_listing().get()
    assert row.price_from == Decimal("12.50")
    assert row.first_image == "products/a.png"
    assert row.first_image_alt == "Front"
    assert image_url(name=row.first_image).endswith("products/a.png")


def test_listing_without_image_has_empty_first_image():
    VariantFactory()
    row = product_listing().get()
    assert row.first_image == ""
    assert image_url(name=row.first_image) is None


def test_category_filter_includes_descendants_only():
    root = CategoryFactory()
    child = CategoryFactory(parent=root)
    grandchild = CategoryFactory(parent=child)
    other = CategoryFactory()
    in_root = VariantFactory(product__category=root).product
    in_grandchild = VariantFactory(product__category=grandchild).product
    VariantFactory(product__category=other)
    assert set(product_listing(category=root)) == {in_root, in_grandchild}
    assert list(product_listing(category=child)) == [in_grandchild]


def test_search_matches_name_description_and_sku_without_duplicates():
    by_name = VariantFactory(product__name="Blue Kettle").product
    by_desc = VariantFactory(product__description="a kettle for tea").product
    by_sku = VariantFactory(sku="KET-001").product
    VariantFactory(product=by_sku, sku="KET-002")
    VariantFactory(product__name="Toaster")
    assert set(product_listing(search="kettle")) == {by_name, by_desc}
    assert list(product_listing(search="ket-00")) == [by_sku]


def test_price_range_filters_on_price_from():
    cheap = VariantFactory(price=Decimal("5.00")).product
    mid = VariantFactory(price=Decimal("20.00")).product
    VariantFactory(price=Decimal("90.00"))
    assert set(product_listing(max_price=Decimal("20.00"))) == {cheap, mid}
    assert list(product_listing(min_price=Decimal("10"), max_price=Decimal("50"))) == [mid]


def test_in_stock_counts_allocations_and_unexpired_holds_only():
    free = make_variant(on_hand=3).product
    allocated = make_variant(on_hand=3, allocated=3).product
    held_var = make_variant(on_hand=2)
    StockHoldFactory(variant=held_var, quantity=2)
    expired_var = make_variant(on_hand=2)
    StockHoldFactory(
        variant=expired_var, quantity=2, expires_at=timezone.now() - timedelta(seconds=1)
    )
    no_stock_row = VariantFactory(stock=False).product
    rows = {p.pk: p.in_stock for p in product_listing()}
    assert rows == {
        free.pk: True,
        allocated.pk: False,
        held_var.product_id: False,
        expired_var.product_id: True,
        no_stock_row.pk: False,
    }
    assert set(product_listing(in_stock=True)) == {free, expired_var.product}
    assert set(product_listing(in_stock=False)) == {allocated, held_var.product, no_stock_row}


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("price", ["b", "a", "c"]),
        ("-price", ["c", "a", "b"]),
        ("name", ["a", "b", "c"]),
        ("-name", ["c", "b", "a"]),
        ("newest", ["c", "b", "a"]),
        ("", ["a", "b", "c"]),
    ],
)
def test_ordering(ordering, expected):
    for name, price in [("a", "10.00"), ("b", "5.00"), ("c", "50.00")]:
        VariantFactory(product__name=name, price=Decimal(price))
    assert [p.name for p in product_listing(ordering=ordering)] == expected


def test_unknown_ordering_is_rejected():
    with pytest.raises(ValueError, match="Unknown ordering"):
        product_listing(ordering="bogus")


def test_listing_page_is_one_query(django_assert_num_queries):
    for _ in range(6):
        product = ProductFactory()
        VariantFactory(product=product)
        ProductImageFactory(product=product)
    with django_assert_num_queries(1):
        rows = list(product_listing()[:5])
        assert [r.category.name for r in rows]


def test_detail_prefetches_active_variants_with_availability(django_assert_num_queries):
    product = ProductFactory()
    second = make_variant(product=product, on_hand=3, position=2, low_stock_threshold=5)
    first = make_variant(product=product, on_hand=1, allocated=1, position=1)
    make_variant(product=product, is_active=False)
    ProductImageFactory(product=product)
    with django_assert_num_queries(3):
        found = product_detail(slug=product.slug)
        variants = list(found.variants.all())
        assert len(found.images.all()) == 1
    assert [v.pk for v in variants] == [first.pk, second.pk]
    assert [(v.available, v.low_stock_threshold) for v in variants] == [(0, 5), (3, 5)]


def test_detail_does_not_subtract_the_viewers_own_hold():
    variant = make_variant(on_hand=2)
    hold = StockHoldFactory(variant=variant, quantity=2)
    assert product_detail(slug=variant.product.slug).variants.all()[0].available == 0
    mine = product_detail(slug=variant.product.slug, cart_token=hold.cart_token)
    assert mine.variants.all()[0].available == 2


@pytest.mark.parametrize("status", [ProductStatus.ARCHIVED, ProductStatus.DRAFT])
def test_detail_hides_inactive_products(status):
    product = VariantFactory(product__status=status).product
    with pytest.raises(Product.DoesNotExist):
        product_detail(slug=product.slug)


@pytest.mark.parametrize(
    ("available", "threshold", "hint"),
    [(0, 5, "out_of_stock"), (-1, 5, "out_of_stock"), (5, 5, "low_stock"), (6, 5, "in_stock")],
)
def test_stock_hint(available, threshold, hint):
    assert stock_hint(available=available, threshold=threshold) == hint
