"""Every write to the catalog: products, variants, categories.

Stock rows are created here for new variants, but stock *quantities* only ever change through
``inventory.services`` so every change writes a movement.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction

from catalog.cache import bump_catalog_version
from catalog.errors import CategoryCycle, InvalidVariant, SkuTaken, SlugTaken
from catalog.models import Category, Product, ProductStatus, Variant, unique_slug
from inventory import services as inventory
from inventory.models import MovementReason, StockItem

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


def _check_sku_free(sku: str, *, exclude_pk: int | None = None) -> None:
    qs = Variant.objects.filter(sku__iexact=sku)
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    if qs.exists():
        raise SkuTaken(sku)


def _check_price(price: Decimal) -> None:
    if price is None or Decimal(price) <= 0:
        raise InvalidVariant("A variant's price must be greater than zero.", field="price")


def _check_slug_free(model, slug: str, *, exclude_pk: int | None = None) -> None:
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
def add_variant(*, product: Product, data: VariantData | Mapping[str, Any], user=None) -> Variant:
    """Add a variant to ``product`` with its stock row (and a restock movement if on_hand > 0).

    Atomic. Raises ``SkuTaken`` (case-insensitive) or ``InvalidVariant`` (price <= 0).
    """
    data = _variant_data(data)
    sku = data.sku.strip()
    _check_price(data.price)
    if data.on_hand < 0:
        raise InvalidVariant("Initial stock cannot be negative.", field="on_hand")
    _check_sku_free(sku)
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
    stock = (
        {}
        if data.low_stock_threshold is None
        else {"low_stock_threshold": data.low_stock_threshold}
    )
    StockItem.objects.create(variant=variant, **stock)
    if data.on_hand:
        inventory.restock(variant=variant, quantity=data.on_hand, user=user, note="initial stock")
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
    user=None,
) -> Product:
    """Create a product with its variants and their initial stock, all or nothing.

    The slug is generated from the name unless given. Raises ``SlugTaken``, ``SkuTaken``
    (also for two variants of this request sharing a SKU) or ``InvalidVariant``.
    """
    specs = [_variant_data(v) for v in variants]
    seen: set[str] = set()
    for spec in specs:
        key = spec.sku.strip().lower()
        if key in seen:
            raise SkuTaken(spec.sku)
        seen.add(key)
    if slug:
        _check_slug_free(Product, slug)
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
def update_product(*, product: Product, **changes: Any) -> Product:
    """Change any of ``PRODUCT_FIELDS`` on ``product``; return it. Raises ``SlugTaken``."""
    unknown = set(changes) - set(PRODUCT_FIELDS)
    if unknown:
        raise TypeError(f"Cannot update product fields: {', '.join(sorted(unknown))}")
    if changes.get("slug") and changes["slug"] != product.slug:
        _check_slug_free(Product, changes["slug"], exclude_pk=product.pk)
    for name, value in changes.items():
        setattr(product, name, value)
    product.save()
    return product


@transaction.atomic
def update_variant(
    *, variant: Variant, low_stock_threshold: int | None = None, **changes: Any
) -> Variant:
    """Change any of ``VARIANT_FIELDS`` (and the stock's low-stock threshold); return it.

    Stock quantities are not changed here (use ``inventory.services.adjust``). Raises
    ``SkuTaken`` or ``InvalidVariant``.
    """
    unknown = set(changes) - set(VARIANT_FIELDS)
    if unknown:
        raise TypeError(f"Cannot update variant fields: {', '.join(sorted(unknown))}")
    if "sku" in changes:
        changes["sku"] = changes["sku"].strip()
        _check_sku_free(changes["sku"], exclude_pk=variant.pk)
    if "price" in changes:
        _check_price(changes["price"])
    for name, value in changes.items():
        setattr(variant, name, value)
    _save_variant(variant)
    if low_stock_threshold is not None:
        item, _ = StockItem.objects.get_or_create(variant=variant)
        item.low_stock_threshold = low_stock_threshold
        item.save(update_fields=["low_stock_threshold", "updated_at"])
    return variant


def archive_product(*, product: Product) -> Product:
    """Archive ``product``: it disappears from the shop but stays for orders and reports."""
    if product.status != ProductStatus.ARCHIVED:
        product.status = ProductStatus.ARCHIVED
        product.save(update_fields=["status", "updated_at"])
    return product


def archive_products(*, products: Iterable[Product]) -> int:
    """Archive many products in one statement; return how many changed."""
    ids = [p.pk for p in products]
    changed = (
        Product.objects.filter(pk__in=ids)
        .exclude(status=ProductStatus.ARCHIVED)
        .update(status=ProductStatus.ARCHIVED)
    )
    if changed:
        # A queryset update sends no signals: invalidate shoppers' cached catalog pages here.
        bump_catalog_version()
    return changed


def was_ordered(product: Product) -> bool:
    """Return whether any variant of ``product`` appears on an order line."""
    return Variant.objects.filter(product=product, order_lines__isnull=False).exists()


@transaction.atomic
def delete_product(*, product: Product) -> bool:
    """Delete ``product`` if it was never ordered, else archive it.

    Returns ``True`` when the rows were deleted. Ordered products are never hard-deleted:
    order lines, invoices and returns keep pointing at their variants.
    """
    if was_ordered(product):
        archive_product(product=product)
        return False
    product.delete()
    return True


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
        _check_slug_free(Category, slug)
    return Category.objects.create(
        name=name,
        parent=parent,
        slug=slug or unique_slug(Category, name),
        description=description,
        position=position,
    )


@transaction.atomic
def update_category(*, category: Category, **changes: Any) -> Category:
    """Change any of ``CATEGORY_FIELDS``; use ``move_category`` to change the parent."""
    unknown = set(changes) - set(CATEGORY_FIELDS)
    if unknown:
        raise TypeError(f"Cannot update category fields: {', '.join(sorted(unknown))}")
    if changes.get("slug") and changes["slug"] != category.slug:
        _check_slug_free(Category, changes["slug"], exclude_pk=category.pk)
    for name, value in changes.items():
        setattr(category, name, value)
    category.save()
    return category


@transaction.atomic
def move_category(*, category: Category, parent: Category | None) -> Category:
    """Move ``category`` (and its subtree) under ``parent`` (``None``: make it a root).

    Rewrites the subtree's materialized paths in one statement. Raises ``CategoryCycle``
    when ``parent`` is the category itself or one of its descendants.
    """
    category = Category.objects.select_for_update().get(pk=category.pk)
    _check_no_cycle(category, parent)
    category.parent = parent
    category.save()
    return category


def set_stock_level(*, variant: Variant, on_hand: int, user=None, note: str = "") -> None:
    """Bring ``variant``'s on-hand to ``on_hand`` with a correction (or restock) movement.

    Raises ``InsufficientStock`` if that is below what is allocated to orders.
    """
    current = StockItem.objects.filter(variant=variant).values_list("on_hand", flat=True).first()
    delta = on_hand - (current or 0)
    if delta:
        reason = MovementReason.RESTOCK if delta > 0 else MovementReason.CORRECTION
        inventory.adjust(variant=variant, delta=delta, reason=reason, user=user, note=note)
