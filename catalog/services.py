"""Every write to the catalog: products, variants, categories, product images.

A new variant's stock row (and starting stock) is created by ``inventory.services``, which
owns the stock tables: every stock change writes a movement there. SKU and slug uniqueness
are checked here and only here (``ensure_sku_free`` / ``ensure_slug_free``; the API's
serializers call them to report the field).
"""

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.files import File
from django.db import IntegrityError, transaction
from django.db.models import F, ProtectedError
from PIL import Image, UnidentifiedImageError

from accounts.models import User
from catalog import thumbnails
from catalog.cache import bump_catalog_version
from catalog.concurrency import claim_version
from catalog.errors import (
    CategoryCycle,
    CategoryNotEmpty,
    InvalidImage,
    InvalidVariant,
    SkuTaken,
    SlugTaken,
)
from catalog.models import Category, Product, ProductImage, ProductStatus, Variant, unique_slug
from catalog.signals import product_updated
from inventory import services as inventory

PRODUCT_FIELDS = ("name", "slug", "description", "category", "attributes", "status")
VARIANT_FIELDS = ("sku", "name", "price", "attributes", "is_active", "position")
CATEGORY_FIELDS = ("name", "slug", "description", "position")


@dataclass
class VariantData:
    """What a new variant needs; ``on_hand`` becomes its initial stock (a restock movement)."""

    sku: str
    price: Decimal
    name: str = ""
    attributes: dict = field(default_factory=dict)
    is_active: bool = True
    position: int = 0
    on_hand: int = 0
    low_stock_threshold: int | None = None


def _variant_data(data: VariantData | Mapping[str, Any]) -> VariantData:
    return data if isinstance(data, VariantData) else VariantData(**data)


def ensure_sku_free(*, sku: str, exclude_pk: int | None = None) -> None:
    """Raise ``SkuTaken`` if a variant other than ``exclude_pk`` uses ``sku`` (any case)."""
    qs = Variant.objects.filter(sku__iexact=sku)
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    if qs.exists():
        raise SkuTaken(sku)


def _check_price(price: Decimal) -> None:
    if price is None or Decimal(price) <= 0:
        raise InvalidVariant("A variant's price must be greater than zero.", field="price")


def repeated_sku_positions(*, skus: list[str]) -> set[int]:
    """Return the positions of SKUs that repeat an earlier one in ``skus`` (case-insensitive).

    SKUs are unique ignoring case and surrounding blanks, within one request as in the table.
    """
    seen: set[str] = set()
    repeated: set[int] = set()
    for position, sku in enumerate(skus):
        key = sku.strip().lower()
        if key in seen:
            repeated.add(position)
        seen.add(key)
    return repeated


def ensure_slug_free(
    *, model: type[Product] | type[Category], slug: str, exclude_pk: int | None = None
) -> None:
    """Raise ``SlugTaken`` if a row of ``model`` other than ``exclude_pk`` uses ``slug``."""
    qs = model.objects.filter(slug=slug)
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    if qs.exists():
        raise SlugTaken(slug)


def _save_variant(variant: Variant) -> None:
    # A savepoint so a racing duplicate SKU surfaces as SkuTaken, not a broken transaction.
    try:
        with transaction.atomic():
            variant.save()
    except IntegrityError as exc:
        if Variant.objects.filter(sku__iexact=variant.sku).exclude(pk=variant.pk).exists():
            raise SkuTaken(variant.sku) from exc
        raise


@transaction.atomic
def add_variant(
    *, product: Product, data: VariantData | Mapping[str, Any], user: User | None = None
) -> Variant:
    """Add a variant to ``product`` with its stock row (and a restock movement if on_hand > 0).

    Atomic. Raises ``SkuTaken`` (case-insensitive) or ``InvalidVariant`` (price <= 0).
    """
    data = _variant_data(data)
    sku = data.sku.strip()
    _check_price(data.price)
    if data.on_hand < 0:
        raise InvalidVariant("Initial stock cannot be negative.", field="on_hand")
    ensure_sku_free(sku=sku)
    variant = Variant(
        product=product,
        sku=sku,
        name=data.name,
        price=data.price,
        attributes=data.attributes or {},
        is_active=data.is_active,
        position=data.position,
    )
    _save_variant(variant)
    inventory.create_stock_item(
        variant=variant,
        on_hand=data.on_hand,
        low_stock_threshold=data.low_stock_threshold,
        user=user,
        note="initial stock",
    )
    return variant


@transaction.atomic
def create_product(
    *,
    name: str,
    category: Category,
    variants: Iterable[VariantData | Mapping[str, Any]] = (),
    description: str = "",
    attributes: dict | None = None,
    status: str = ProductStatus.ACTIVE,
    slug: str = "",
    user: User | None = None,
) -> Product:
    """Create a product with its variants and their initial stock, all or nothing.

    The slug is generated from the name unless given. Raises ``SlugTaken``, ``SkuTaken``
    (also for two variants of this request sharing a SKU) or ``InvalidVariant``.
    """
    specs = [_variant_data(v) for v in variants]
    repeated = repeated_sku_positions(skus=[spec.sku for spec in specs])
    if repeated:
        raise SkuTaken(specs[min(repeated)].sku)
    if slug:
        ensure_slug_free(model=Product, slug=slug)
    product = Product.objects.create(
        name=name,
        slug=slug or unique_slug(Product, name),
        category=category,
        description=description,
        attributes=attributes or {},
        status=status,
    )
    for spec in specs:
        add_variant(product=product, data=spec, user=user)
    return product


@transaction.atomic
def update_product(
    *, product: Product, expected_version: int | None = None, **changes: Any
) -> Product:
    """Change any of ``PRODUCT_FIELDS`` on ``product``; return it with its new version.

    Locks the product row. Raises ``StaleVersion`` (412) when ``expected_version`` is given
    and the row has moved on, ``SlugTaken``.
    """
    unknown = set(changes) - set(PRODUCT_FIELDS)
    if unknown:
        raise TypeError(f"Cannot update product fields: {', '.join(sorted(unknown))}")
    claim_version(obj=product, expected_version=expected_version)
    if changes.get("slug") and changes["slug"] != product.slug:
        ensure_slug_free(model=Product, slug=changes["slug"], exclude_pk=product.pk)
    for name, value in changes.items():
        setattr(product, name, value)
    product.save()
    product_updated.send(sender=Product, product_id=product.pk)
    return product


@transaction.atomic
def update_variant(
    *,
    variant: Variant,
    low_stock_threshold: int | None = None,
    expected_version: int | None = None,
    **changes: Any,
) -> Variant:
    """Change any of ``VARIANT_FIELDS`` (and the stock's low-stock threshold); return it.

    Stock quantities are not changed here (use ``inventory.services.adjust``). Locks the
    variant row. Raises ``StaleVersion`` (412) when ``expected_version`` is given and the row
    has moved on, ``SkuTaken`` or ``InvalidVariant``.
    """
    unknown = set(changes) - set(VARIANT_FIELDS)
    if unknown:
        raise TypeError(f"Cannot update variant fields: {', '.join(sorted(unknown))}")
    claim_version(obj=variant, expected_version=expected_version)
    if "sku" in changes:
        changes["sku"] = changes["sku"].strip()
        ensure_sku_free(sku=changes["sku"], exclude_pk=variant.pk)
    if "price" in changes:
        _check_price(changes["price"])
    for name, value in changes.items():
        setattr(variant, name, value)
    _save_variant(variant)
    if low_stock_threshold is not None:
        inventory.set_low_stock_threshold(variant=variant, threshold=low_stock_threshold)
    product_updated.send(sender=Product, product_id=variant.product_id)
    return variant


@transaction.atomic
def archive_product(*, product: Product) -> Product:
    """Archive ``product``: it disappears from the shop but stays for orders and reports."""
    if product.status != ProductStatus.ARCHIVED:
        product.status = ProductStatus.ARCHIVED
        claim_version(obj=product, expected_version=None)
        product.save(update_fields=["status", "version", "updated_at"])
        product_updated.send(sender=Product, product_id=product.pk)
    return product


def archive_products(*, products: Iterable[Product]) -> int:
    """Archive many products in one statement; return how many changed."""
    ids = [p.pk for p in products]
    changed = (
        Product.objects.filter(pk__in=ids)
        .exclude(status=ProductStatus.ARCHIVED)
        .update(status=ProductStatus.ARCHIVED, version=F("version") + 1)
    )
    if changed:
        # A queryset update sends no signals: invalidate shoppers' cached catalog pages here.
        bump_catalog_version()
    return changed


@transaction.atomic
def delete_product(*, product: Product) -> bool:
    """Delete ``product`` unless records elsewhere protect it; then archive it instead.

    Returns ``True`` when the rows were deleted. The catalogue does not know who keeps
    references: an app whose records must keep pointing at variants (orders: order lines,
    hence invoices and returns) declares its foreign key ``on_delete=PROTECT``, and the
    refused delete becomes an archive.
    """
    try:
        with transaction.atomic():
            product.delete()
    except ProtectedError:
        archive_product(product=product)
        return False
    return True


def _check_image(image: File) -> None:
    try:
        image.seek(0)
        with Image.open(image) as picture:
            picture.verify()
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        OSError,
        ValueError,
        SyntaxError,
    ) as exc:
        raise InvalidImage() from exc
    finally:
        image.seek(0)


def add_product_image(
    *, product: Product, image: File, alt: str = "", position: int = 0
) -> ProductImage:
    """Store ``image`` (an uploaded file) as a picture of ``product``; return the new row.

    The file goes to the default storage (local disk or object storage) under ``products/``
    with a name no other upload has, before the row is written (no storage call inside a
    transaction); its thumbnails (``catalog.thumbnails``) are made once the row is committed.
    Raises ``InvalidImage`` if the file is not a picture.
    """
    _check_image(image)
    row = ProductImage(product=product, alt=alt, position=position)
    row.image.save(os.path.basename(image.name or "image"), image, save=False)
    row.save()
    thumbnails.generate_on_commit(source=str(row.image.name), target=thumbnails.PRODUCT_IMAGE)
    return row


def _check_no_cycle(category: Category, parent: Category | None) -> None:
    if parent is None or category.pk is None:
        return
    parent.refresh_from_db(fields=["path"])
    if parent.pk == category.pk or parent.path.startswith(category.path):
        raise CategoryCycle()


@transaction.atomic
def create_category(
    *,
    name: str,
    parent: Category | None = None,
    slug: str = "",
    description: str = "",
    position: int = 0,
) -> Category:
    """Create a category (a root unless ``parent``); the slug is generated unless given."""
    if slug:
        ensure_slug_free(model=Category, slug=slug)
    return Category.objects.create(
        name=name,
        parent=parent,
        slug=slug or unique_slug(Category, name),
        description=description,
        position=position,
    )


_UNCHANGED: Any = object()


@transaction.atomic
def update_category(
    *,
    category: Category,
    expected_version: int | None = None,
    parent: Category | None = _UNCHANGED,
    **changes: Any,
) -> Category:
    """Change any of ``CATEGORY_FIELDS`` and, when ``parent`` is given, move the category.

    Locks the category row. A move takes the subtree along (``None``: make it a root).
    Raises ``StaleVersion`` (412) when ``expected_version`` is given and the row has moved on,
    ``CategoryCycle`` for a move under itself or a descendant, ``SlugTaken``.
    """
    unknown = set(changes) - set(CATEGORY_FIELDS)
    if unknown:
        raise TypeError(f"Cannot update category fields: {', '.join(sorted(unknown))}")
    claim_version(obj=category, expected_version=expected_version)
    if changes.get("slug") and changes["slug"] != category.slug:
        ensure_slug_free(model=Category, slug=changes["slug"], exclude_pk=category.pk)
    if parent is not _UNCHANGED:
        category.refresh_from_db(fields=["path"])
        _check_no_cycle(category, parent)
        category.parent = parent
    for name, value in changes.items():
        setattr(category, name, value)
    category.save()
    return category


@transaction.atomic
def delete_category(*, category: Category) -> None:
    """Delete an empty category. Locks its row; raises ``CategoryNotEmpty`` (409) while it
    has subcategories or products (archived ones count: they keep their category)."""
    Category.objects.select_for_update().filter(pk=category.pk).first()
    if category.children.exists() or Product.objects.filter(category=category).exists():
        raise CategoryNotEmpty()
    category.delete()


@transaction.atomic
def move_category(*, category: Category, parent: Category | None) -> Category:
    """Move ``category`` (and its subtree) under ``parent`` (``None``: make it a root).

    Rewrites the subtree's materialized paths in one statement. Raises ``CategoryCycle``
    when ``parent`` is the category itself or one of its descendants.
    """
    return update_category(category=Category.objects.get(pk=category.pk), parent=parent)
