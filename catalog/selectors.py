"""Catalog reads shared by the API and the HTML storefront.

Each selector returns a queryset that runs a fixed number of SQL queries whatever the page
size or the number of variants: availability, prices and the first image are computed in SQL
subqueries, not per row in Python.
"""

from datetime import datetime
from decimal import Decimal
from uuid import UUID

from django.conf import settings
from django.core.files.storage import default_storage
from django.db.models import (
    BooleanField,
    CharField,
    Exists,
    ExpressionWrapper,
    F,
    Func,
    OrderBy,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone

from catalog.models import Category, Product, ProductImage, Variant, VariantQuerySet
from catalog.search import apply_search
from inventory.selectors import (  # the hint rule lives with the stock; re-exported here
    OUT_OF_STOCK,  # noqa: F401
    available_quantity,
    stock_hint,  # noqa: F401
)

ORDERINGS: dict[str, tuple[str | OrderBy, ...]] = {
    "price": ("price_from", "name", "id"),
    "-price": ("-price_from", "name", "id"),
    "name": ("name", "id"),
    "-name": ("-name", "-id"),
    "newest": ("-created_at", "-id"),
    # Summaries kept by catalog.reviews and catalog.popularity (indexed, never summed here).
    "-rating": (F("rating_average").desc(nulls_last=True), "-rating_count", "name", "id"),
    "-popularity": ("-units_sold_30d", "name", "id"),
}


def variant_available(*, now: datetime | None = None, cart_token: UUID | None = None) -> Func:
    """Return the SQL expression of a variant's available quantity (on a ``Variant`` queryset).

    The rule is inventory's (``inventory.selectors.available_quantity``): on hand - allocated
    - unexpired holds, never below 0; 0 without a stock row. Holds of ``cart_token`` (the
    viewer's own cart) are not subtracted.
    """
    return available_quantity(
        variant_ref="pk", stock_path="stock__", now=now, exclude_cart=cart_token
    )


def _active_variants() -> QuerySet[Variant]:
    # The listing's products are already purchasable: their active variants are too.
    return Variant.objects.active().filter(product_id=OuterRef("pk"))


def _first_image(product_ref: str) -> QuerySet[ProductImage]:
    return ProductImage.objects.filter(product_id=OuterRef(product_ref)).order_by("position", "id")


def first_image_name(*, product_ref: str = "pk") -> Coalesce:
    """Return the SQL expression of a product's first image (storage name, ``""`` if none).

    ``product_ref`` is the outer query's path to the product id (``"pk"`` on products,
    ``"variant__product_id"`` on cart lines). A ``LIMIT 1`` subquery: no extra query.
    """
    return Coalesce(
        Subquery(_first_image(product_ref).values("image")[:1]),
        Value(""),
        output_field=CharField(),
    )


def product_listing(
    *,
    category: Category | None = None,
    search: str = "",
    min_price: Decimal | None = None,
    max_price: Decimal | None = None,
    in_stock: bool | None = None,
    attributes: dict[str, list[str]] | None = None,
    ordering: str = "",
) -> QuerySet[Product]:
    """Return active products for a grid, filtered and ordered; one query per page.

    Each product carries ``price_from`` and ``price_to`` (lowest and highest active variant
    price), ``in_stock`` (any active variant with stock available), ``first_image`` /
    ``first_image_alt`` (storage name and alt text of the first image, ``""`` if none) and
    its ``category`` (joined).
    ``category`` includes its descendants. Products without an active variant are not
    listed (nothing to buy). ``search`` matches and ranks as ``catalog.search`` says.
    ``attributes`` (``{"size": ["M", "L"]}``) keeps products with an active variant having,
    for every name, one of its values. ``ordering`` is one of ``ORDERINGS`` (``""`` = by relevance when searching, else by
    name); anything else raises ``ValueError``.
    """
    if ordering and ordering not in ORDERINGS:
        raise ValueError(f"Unknown ordering: {ordering}")
    now = timezone.now()
    qs = (
        Product.objects.purchasable()
        .select_related("category")
        .alias(
            # A LIMIT 1 subquery, not EXISTS: PostgreSQL would turn an EXISTS in the select
            # list into a hashed subplan over every variant; this stays per listed row. An
            # alias, so it is computed once (inside ``in_stock``), not selected as well.
            in_stock_variant=Subquery(
                _active_variants()
                .annotate(available=variant_available(now=now))
                .filter(available__gt=0)
                .values("pk")[:1]
            ),
        )
        .annotate(
            price_from=Subquery(_active_variants().order_by("price").values("price")[:1]),
            # The highest price: a card says "from" only when the variants' prices differ.
            price_to=Subquery(_active_variants().order_by("-price").values("price")[:1]),
            in_stock=ExpressionWrapper(
                Q(in_stock_variant__isnull=False), output_field=BooleanField()
            ),
            first_image=first_image_name(),
            first_image_alt=Coalesce(
                Subquery(_first_image("pk").values("alt")[:1]), Value(""), output_field=CharField()
            ),
        )
        # EXISTS lets PostgreSQL semi-join instead of running the price subquery per row.
        .filter(Exists(_active_variants()))
    )
    if category is not None:
        qs = qs.filter(
            category_id__in=Category.objects.filter(path__startswith=category.path).values("pk")
        )
    search = (search or "").strip()
    if search:
        qs = apply_search(qs, text=search)
    if attributes:
        qs = qs.filter(Exists(_variants_with(attributes)))
    if min_price is not None:
        qs = qs.filter(price_from__gte=min_price)
    if max_price is not None:
        qs = qs.filter(price_from__lte=max_price)
    if in_stock is not None:
        qs = qs.filter(in_stock=in_stock)
    if not ordering and search:
        return qs.order_by(F("search_rank").desc(), "name", "id")
    return qs.order_by(*ORDERINGS.get(ordering, ("name", "id")))


def _variants_with(attributes: dict[str, list[str]]) -> QuerySet[Variant]:
    """Active variants of the outer product whose attributes match (one variant, all names)."""
    variants = _active_variants()
    for index, (name, values) in enumerate(sorted(attributes.items())):
        alias = f"attr_{index}"
        # Cast: SQLite would compare JSON values; PostgreSQL's ->> is text already.
        value = Cast(KeyTextTransform(name, "attributes"), output_field=CharField())
        variants = variants.alias(**{alias: value}).filter(**{f"{alias}__in": values})
    return variants


def variants_with_stock(*, cart_token: UUID | None = None) -> VariantQuerySet:
    """Return variants annotated with ``available`` and ``low_stock_threshold``.

    ``available`` does not subtract the holds of ``cart_token`` (the viewer's own cart).
    """
    return Variant.objects.annotate(
        available=variant_available(cart_token=cart_token),
        low_stock_threshold=Coalesce(
            "stock__low_stock_threshold", Value(settings.SHOP_LOW_STOCK_THRESHOLD)
        ),
    )


def product_detail(
    *, slug: str, cart_token: UUID | None = None, include_inactive: bool = False
) -> Product:
    """Return the active product ``slug`` with images and active variants prefetched.

    ``product.variants.all()`` holds only active variants in position order, each annotated
    with ``available`` (holds of ``cart_token`` not subtracted) and ``low_stock_threshold``.
    Three queries. Raises ``Product.DoesNotExist`` for unknown, draft or archived products.
    ``include_inactive`` (staff screens) also finds draft/archived products and inactive
    variants.
    """
    variants = variants_with_stock(cart_token=cart_token).order_by("position", "id")
    products = Product.objects.all()
    if not include_inactive:
        # Prefetched under a purchasable product: its active variants are purchasable.
        variants = variants.active()
        products = products.purchasable()
    return (
        products.select_related("category")
        .prefetch_related(
            Prefetch("variants", queryset=variants),
            Prefetch("images", queryset=ProductImage.objects.order_by("position", "id")),
        )
        .get(slug=slug)
    )


def image_url(*, name: str) -> str | None:
    """Return the public URL of a stored image name (e.g. ``first_image``), or ``None``."""
    return default_storage.url(name) if name else None
