"""factory-boy factories for the catalog; other apps import these.

``VariantFactory`` gives every variant a stock row (10 on hand unless ``stock=N``; ``stock=False``
for none). ``make_variant(on_hand=..., allocated=..., ...)`` is the short form for tests that
care about stock. Initial stock is written with a ``restock`` movement so the ledger sums to
``on_hand``.
"""

import io
from decimal import Decimal

import factory
from django.core.files.uploadedfile import SimpleUploadedFile
from factory.django import DjangoModelFactory

from catalog.models import Category, Product, ProductImage, ProductStatus, Variant
from inventory.models import MovementReason, StockItem, StockMovement


class CategoryFactory(DjangoModelFactory):
    """A category (a root unless ``parent=`` is given)."""

    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.Sequence(lambda n: f"category-{n}")
    parent = None
    description = ""


class ProductFactory(DjangoModelFactory):
    """An active product with no variants yet (see ``VariantFactory`` / ``make_variant``)."""

    class Meta:
        model = Product

    name = factory.Sequence(lambda n: f"Product {n}")
    slug = factory.Sequence(lambda n: f"product-{n}")
    description = factory.Faker("sentence")
    category = factory.SubFactory(CategoryFactory)
    attributes = factory.LazyFunction(dict)
    status = ProductStatus.ACTIVE


class ProductImageFactory(DjangoModelFactory):
    """A product image pointing at a storage name (no file is written)."""

    class Meta:
        model = ProductImage

    product = factory.SubFactory(ProductFactory)
    image = factory.Sequence(lambda n: f"products/image-{n}.png")
    alt = factory.Sequence(lambda n: f"Image {n}")
    position = 0


def png_bytes(width: int = 1600, height: int = 1200, colour=(40, 90, 160)) -> bytes:
    """Return a PNG picture of ``width`` x ``height`` (a coloured square in a lighter frame)."""
    from PIL import Image, ImageDraw

    picture = Image.new("RGB", (width, height), (230, 230, 225))
    ImageDraw.Draw(picture).rectangle(
        (width // 4, height // 4, width * 3 // 4, height * 3 // 4), fill=colour
    )
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


def uploaded_png(name: str = "photo.png", **size) -> SimpleUploadedFile:
    """Return an uploaded PNG file, as a form or the admin receives it."""
    return SimpleUploadedFile(name, png_bytes(**size), content_type="image/png")


def give_stock(variant: Variant, on_hand: int = 10, allocated: int = 0, **extra) -> StockItem:
    """Create ``variant``'s stock row (plus a ``restock`` movement for the initial on-hand)."""
    item = StockItem.objects.create(variant=variant, on_hand=on_hand, allocated=allocated, **extra)
    if on_hand:
        StockMovement.objects.create(
            variant=variant,
            delta=on_hand,
            reason=MovementReason.RESTOCK,
            on_hand_after=on_hand,
            note="initial stock (test factory)",
        )
    return item


class VariantFactory(DjangoModelFactory):
    """A sellable SKU with a stock row of 10 on hand (``stock=N`` or ``stock=False``)."""

    class Meta:
        model = Variant
        skip_postgeneration_save = True

    product = factory.SubFactory(ProductFactory)
    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Sequence(lambda n: f"Variant {n}")
    price = Decimal("19.99")
    attributes = factory.LazyFunction(dict)
    is_active = True
    position = 0

    @factory.post_generation
    def stock(obj, create, extracted, **kwargs):  # noqa: N805
        if not create or extracted is False:
            return
        on_hand = 10 if extracted is None or extracted is True else int(extracted)
        give_stock(obj, on_hand=on_hand, **kwargs)


def make_variant(
    *,
    on_hand: int = 10,
    allocated: int = 0,
    low_stock_threshold: int | None = None,
    **kwargs,
) -> Variant:
    """Create a variant (and its product) with the given stock; extra kwargs go to the factory."""
    extra = {} if low_stock_threshold is None else {"low_stock_threshold": low_stock_threshold}
    variant = VariantFactory(stock=False, **kwargs)
    give_stock(variant, on_hand=on_hand, allocated=allocated, **extra)
    return variant
