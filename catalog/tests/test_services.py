from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from catalog import services
from catalog.errors import CategoryCycle, InvalidVariant, SkuTaken, SlugTaken
from catalog.models import Category, Product, ProductStatus, Variant
from catalog.tests.factories import CategoryFactory, ProductFactory, VariantFactory, make_variant
from inventory.models import StockMovement

pytestmark = pytest.mark.django_db


def variant_spec(sku="S-1", **extra):
    return {"sku": sku, "price": Decimal("9.99"), **extra}


def test_create_product_with_variants_and_initial_stock():
    category = CategoryFactory()
    product = services.create_product(
        name="Desk Lamp",
        category=category,
        variants=[
            variant_spec("LAMP-W", name="White", on_hand=4, low_stock_threshold=2),
            variant_spec("LAMP-B", name="Black"),
        ],
        attributes={"brand": "Lumo"},
    )
    assert product.slug == "desk-lamp"
    assert product.status == ProductStatus.ACTIVE
    white, black = product.variants.order_by("sku").reverse()
    assert (white.stock.on_hand, white.stock.low_stock_threshold) == (4, 2)
    assert black.stock.on_hand == 0
    assert list(StockMovement.objects.values_list("variant__sku", "delta", "reason")) == [
        ("LAMP-W", 4, "restock")
    ]


def test_create_product_generates_a_unique_slug():
    category = CategoryFactory()
    ProductFactory(slug="lamp")
    assert services.create_product(name="Lamp", category=category).slug == "lamp-2"


def test_create_product_is_atomic_when_a_sku_is_taken():
    VariantFactory(sku="TAKEN")
    with pytest.raises(SkuTaken):
        services.create_product(
            name="Lamp",
            category=CategoryFactory(),
            variants=[variant_spec("NEW-1", on_hand=3), variant_spec("taken")],
        )
    assert not Product.objects.filter(name="Lamp").exists()
    assert not Variant.objects.filter(sku="NEW-1").exists()


def test_create_product_rejects_duplicate_skus_in_one_request():
    with pytest.raises(SkuTaken):
        services.create_product(
            name="Lamp", category=CategoryFactory(), variants=[variant_spec("a"), variant_spec("A")]
        )


def test_create_product_rejects_taken_slug():
    ProductFactory(slug="lamp")
    with pytest.raises(SlugTaken):
        services.create_product(name="Lamp", slug="lamp", category=CategoryFactory())


@pytest.mark.parametrize("extra", [{"price": Decimal("0")}, {"on_hand": -1}])
def test_add_variant_rejects_invalid_data(extra):
    with pytest.raises(InvalidVariant):
        services.add_variant(product=ProductFactory(), data=variant_spec(**extra))


def test_update_product_and_variant():
    variant = make_variant(sku="V-1", on_hand=3)
    product = services.update_product(product=variant.product, name="Renamed", attributes={"a": 1})
    assert Product.objects.get(pk=product.pk).name == "Renamed"
    services.update_variant(variant=variant, price=Decimal("4.50"), low_stock_threshold=1)
    variant.refresh_from_db()
    assert variant.price == Decimal("4.50")
    assert variant.stock.low_stock_threshold == 1
    assert variant.stock.on_hand == 3


def test_update_variant_rejects_sku_of_another_variant_case_insensitively():
    VariantFactory(sku="ABC")
    variant = VariantFactory(sku="XYZ")
    with pytest.raises(SkuTaken):
        services.update_variant(variant=variant, sku="abc")
    services.update_variant(variant=variant, sku="xyz")
    assert Variant.objects.get(pk=variant.pk).sku == "xyz"


def test_update_rejects_unknown_fields():
    with pytest.raises(TypeError):
        services.update_product(product=ProductFactory(), id=5)
    with pytest.raises(TypeError):
        services.update_variant(variant=VariantFactory(), product=None)


def test_archive_and_delete():
    never_ordered = VariantFactory().product
    assert services.delete_product(product=never_ordered) is True
    assert not Product.objects.filter(pk=never_ordered.pk).exists()

    kept = VariantFactory().product
    services.archive_product(product=kept)
    assert Product.objects.get(pk=kept.pk).status == ProductStatus.ARCHIVED
    assert services.archive_products(products=[kept, VariantFactory().product]) == 1


def test_delete_of_an_ordered_product_archives_it():
    from accounts.tests.factories import UserFactory
    from orders.models import Order, OrderLine

    variant = VariantFactory()
    order = Order.objects.create(
        number="ORD-1",
        user=UserFactory(),
        email="a@example.com",
        currency="USD",
        subtotal=Decimal("1.00"),
        shipping_total=Decimal("0.00"),
        total=Decimal("1.00"),
        shipping_address={},
    )
    OrderLine.objects.create(
        order=order,
        variant=variant,
        sku=variant.sku,
        product_name=variant.product.name,
        unit_price=Decimal("1.00"),
        quantity=1,
        line_total=Decimal("1.00"),
    )
    assert services.delete_product(product=variant.product) is False
    assert Product.objects.get(pk=variant.product_id).status == ProductStatus.ARCHIVED
    # The order line keeps pointing at its variant: nothing was deleted on the way.
    assert OrderLine.objects.get(order=order).variant_id == variant.pk
    assert Variant.objects.filter(pk=variant.pk).exists()


def test_sku_and_slug_uniqueness_answer_400_like_other_invalid_input():
    VariantFactory(sku="TAKEN-1", product__slug="taken")
    with pytest.raises(SkuTaken) as sku:
        services.ensure_sku_free(sku="taken-1")
    with pytest.raises(SlugTaken) as slug:
        services.ensure_slug_free(model=Product, slug="taken")
    assert (sku.value.status_code, slug.value.status_code) == (400, 400)
    services.ensure_sku_free(sku="TAKEN-1", exclude_pk=Variant.objects.get().pk)


def test_category_create_and_move_rewrites_the_subtree_paths():
    shoes = services.create_category(name="Shoes")
    running = services.create_category(name="Running", parent=shoes)
    trail = services.create_category(name="Trail", parent=running)
    sport = services.create_category(name="Sport")
    services.move_category(category=running, parent=sport)
    trail.refresh_from_db()
    assert trail.path == f"/{sport.pk}/{running.pk}/{trail.pk}/"
    assert trail.depth == 2
    assert list(sport.descendants()) == [sport, Category.objects.get(pk=running.pk), trail]
    services.move_category(category=running, parent=None)
    assert Category.objects.get(pk=trail.pk).depth == 1


@pytest.mark.parametrize("target", ["self", "child", "grandchild"])
def test_move_category_under_its_own_subtree_is_a_cycle(target):
    root = services.create_category(name="Root")
    child = services.create_category(name="Child", parent=root)
    grandchild = services.create_category(name="Grandchild", parent=child)
    parent = {"self": root, "child": child, "grandchild": grandchild}[target]
    with pytest.raises(CategoryCycle):
        services.move_category(category=root, parent=parent)
    assert Category.objects.get(pk=root.pk).parent is None


def test_model_clean_also_refuses_cycles():
    root = CategoryFactory()
    child = CategoryFactory(parent=root)
    root.parent = child
    with pytest.raises(ValidationError):
        root.save()


def test_update_category_and_taken_slug():
    CategoryFactory(slug="taken")
    category = services.create_category(name="Bags", slug="bags")
    services.update_category(category=category, name="Bags & Cases", position=3)
    assert Category.objects.get(pk=category.pk).name == "Bags & Cases"
    with pytest.raises(SlugTaken):
        services.update_category(category=category, slug="taken")
    with pytest.raises(SlugTaken):
        services.create_category(name="x", slug="taken")
