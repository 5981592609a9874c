"""Input validation and output shapes of the catalog API (writes go through catalog.services).

SKU and slug uniqueness is a rule of ``catalog.services``; the input serializers ask it
(``_unique``) so a taken value is reported on its field, with the other invalid fields.
"""

from collections.abc import Callable
from decimal import Decimal

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalog import reviews, services
from catalog.models import Category, Product, ProductStatus, Review, Variant
from catalog.selectors import image_url, stock_hint
from shop.api.fields import SlugRelatedField
from shop.errors import DomainError

MAX_JSON_KEYS = 50


def _absolute(request, url: str | None) -> str | None:
    if url and request is not None and url.startswith("/"):
        return request.build_absolute_uri(url)
    return url


def _unique(check: Callable[..., None], value: str, **kwargs) -> str:
    """Run a ``catalog.services.ensure_*_free`` check; its refusal becomes a field error."""
    try:
        check(**kwargs)
    except DomainError as exc:
        raise serializers.ValidationError(exc.detail) from exc
    return value


class AttributesField(serializers.DictField):
    """A flat JSON object of short attributes (``{"brand": "Acme", "size": "M"}``)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(child=serializers.JSONField(), **kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if len(value) > MAX_JSON_KEYS:
            raise serializers.ValidationError(f"At most {MAX_JSON_KEYS} attributes.")
        for key, item in value.items():
            if len(str(key)) > 100:
                raise serializers.ValidationError("Attribute names are at most 100 characters.")
            if not isinstance(item, str | int | float | bool) and item is not None:
                raise serializers.ValidationError(f"Attribute {key!r} must be a plain value.")
            if isinstance(item, str) and len(item) > 500:
                raise serializers.ValidationError(f"Attribute {key!r} is too long.")
        return value


# ---- categories -----------------------------------------------------------------------


class CategorySerializer(serializers.ModelSerializer):
    parent = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)

    class Meta:
        model = Category
        fields = ["id", "name", "slug", "parent", "description"]
        read_only_fields = fields


class CategoryDetailSerializer(CategorySerializer):
    children = serializers.SerializerMethodField()
    ancestors = serializers.SerializerMethodField()

    class Meta(CategorySerializer.Meta):
        fields = [*CategorySerializer.Meta.fields, "children", "ancestors"]
        read_only_fields = fields

    @extend_schema_field(CategorySerializer(many=True))
    def get_children(self, obj: Category) -> list[dict]:
        children = obj.children.select_related("parent").order_by("position", "name", "id")
        return CategorySerializer(children, many=True).data

    @extend_schema_field(CategorySerializer(many=True))
    def get_ancestors(self, obj: Category) -> list[dict]:
        return CategorySerializer(obj.ancestors().select_related("parent"), many=True).data


class CategoryRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["slug", "name"]
        read_only_fields = fields


# ---- products (shopper shapes) ---------------------------------------------------------


class CurrencyMixin(serializers.Serializer):
    currency = serializers.SerializerMethodField()

    def get_currency(self, obj) -> str:
        return settings.SHOP_CURRENCY


class RatingSerializer(serializers.Serializer):
    """``{average: "4.3" | null, count}``: the product's published reviews."""

    average = serializers.CharField(allow_null=True, read_only=True)
    count = serializers.IntegerField(read_only=True)


def rating_data(product: Product) -> dict:
    """Return a product's ``rating`` object (average to one decimal, as a string)."""
    average = product.rating_average
    return {
        "average": None if average is None else f"{average:.1f}",
        "count": product.rating_count,
    }


class RatingMixin(serializers.Serializer):
    rating = serializers.SerializerMethodField()

    @extend_schema_field(RatingSerializer)
    def get_rating(self, obj: Product) -> dict:
        return rating_data(obj)


class ProductSummarySerializer(CurrencyMixin, RatingMixin, serializers.ModelSerializer):
    """A grid card; expects a ``catalog.selectors.product_listing`` row."""

    category = CategoryRefSerializer(read_only=True)
    price_from = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)
    in_stock = serializers.BooleanField(read_only=True)
    image_url = serializers.SerializerMethodField()

    class Meta:
        model = Product
        fields = [
            "id",
            "slug",
            "name",
            "category",
            "price_from",
            "currency",
            "in_stock",
            "image_url",
            "rating",
        ]
        read_only_fields = fields

    @extend_schema_field({"type": "string", "format": "uri", "nullable": True})
    def get_image_url(self, obj: Product) -> str | None:
        return _absolute(self.context.get("request"), image_url(name=obj.first_image))

    def to_representation(self, instance: Product) -> dict:
        # Hand-written: a page has up to 100 cards and the generic field loop (nested
        # category serializer, method fields) was most of the list's Python time. The
        # declared fields above still describe the shape for the schema.
        category = instance.category
        price = instance.price_from
        return {
            "id": instance.pk,
            "slug": instance.slug,
            "name": instance.name,
            "category": {"slug": category.slug, "name": category.name},
            "price_from": None
            if price is None
            else self.fields["price_from"].to_representation(price),
            "currency": settings.SHOP_CURRENCY,
            "in_stock": bool(instance.in_stock),
            "image_url": self.get_image_url(instance),
            "rating": rating_data(instance),
        }


class VariantSerializer(CurrencyMixin, serializers.ModelSerializer):
    """A variant as shoppers see it: a stock hint, never the count.

    Expects ``available`` and ``low_stock_threshold`` annotations
    (``catalog.selectors.variants_with_stock``).
    """

    in_stock = serializers.SerializerMethodField()
    stock_hint = serializers.SerializerMethodField()

    class Meta:
        model = Variant
        fields = ["sku", "name", "price", "currency", "attributes", "in_stock", "stock_hint"]
        read_only_fields = fields

    def get_in_stock(self, obj: Variant) -> bool:
        return obj.available > 0

    @extend_schema_field(serializers.ChoiceField(choices=["in_stock", "low_stock", "out_of_stock"]))
    def get_stock_hint(self, obj: Variant) -> str:
        return stock_hint(available=obj.available, threshold=obj.low_stock_threshold)


class ProductRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Product
        fields = ["slug", "name"]
        read_only_fields = fields


class VariantWithProductSerializer(VariantSerializer):
    product = ProductRefSerializer(read_only=True)

    class Meta(VariantSerializer.Meta):
        fields = [*VariantSerializer.Meta.fields, "product"]
        read_only_fields = fields


class ImageSerializer(serializers.Serializer):
    url = serializers.SerializerMethodField()
    alt = serializers.CharField(read_only=True)

    @extend_schema_field({"type": "string", "format": "uri", "nullable": True})
    def get_url(self, obj) -> str | None:
        return _absolute(self.context.get("request"), image_url(name=obj.image.name))


class ProductDetailSerializer(RatingMixin, serializers.ModelSerializer):
    """A product page; expects ``catalog.selectors.product_detail``."""

    category = CategoryRefSerializer(read_only=True)
    images = ImageSerializer(many=True, read_only=True)
    variants = VariantSerializer(many=True, read_only=True)

    class Meta:
        model = Product
        fields = [
            "id",
            "slug",
            "name",
            "description",
            "category",
            "attributes",
            "images",
            "variants",
            "rating",
        ]
        read_only_fields = fields


# ---- staff shapes ----------------------------------------------------------------------


class StaffVariantSerializer(VariantSerializer):
    """A variant for staff: adds activity, position and the stock numbers."""

    available = serializers.IntegerField(read_only=True)
    low_stock_threshold = serializers.IntegerField(read_only=True)

    class Meta(VariantSerializer.Meta):
        fields = [
            "id",
            *VariantSerializer.Meta.fields,
            "is_active",
            "position",
            "available",
            "low_stock_threshold",
        ]
        read_only_fields = fields


class StaffVariantWithProductSerializer(StaffVariantSerializer):
    product = ProductRefSerializer(read_only=True)

    class Meta(StaffVariantSerializer.Meta):
        fields = [*StaffVariantSerializer.Meta.fields, "product"]
        read_only_fields = fields


class StaffProductSerializer(ProductDetailSerializer):
    """A product for staff: every variant (also inactive), status and timestamps."""

    variants = StaffVariantSerializer(many=True, read_only=True)

    class Meta(ProductDetailSerializer.Meta):
        fields = [*ProductDetailSerializer.Meta.fields, "status", "created_at", "updated_at"]
        read_only_fields = fields


# ---- staff input -----------------------------------------------------------------------


def _category_field(**kwargs) -> serializers.SlugRelatedField:
    return SlugRelatedField(slug_field="slug", queryset=Category.objects.all(), **kwargs)


class VariantInputSerializer(serializers.Serializer):
    """A new variant; ``on_hand`` is its initial stock (a restock movement)."""

    sku = serializers.RegexField(r"^[A-Za-z0-9][A-Za-z0-9._-]*$", max_length=64)
    name = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    price = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0.01"))
    attributes = AttributesField(default=dict)
    is_active = serializers.BooleanField(required=False, default=True)
    position = serializers.IntegerField(required=False, default=0, min_value=0, max_value=10**6)
    on_hand = serializers.IntegerField(required=False, default=0, min_value=0, max_value=10**9)
    low_stock_threshold = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=0, max_value=10**9
    )

    def validate_sku(self, value: str) -> str:
        return _unique(services.ensure_sku_free, value, sku=value)


class ProductInputSerializer(serializers.Serializer):
    """A new product with its variants, created in one transaction."""

    name = serializers.CharField(max_length=200)
    slug = serializers.SlugField(max_length=220, required=False, allow_blank=True, default="")
    description = serializers.CharField(
        max_length=20000, required=False, allow_blank=True, default=""
    )
    category = _category_field()
    attributes = AttributesField(default=dict)
    status = serializers.ChoiceField(choices=ProductStatus.choices, default=ProductStatus.ACTIVE)
    variants = VariantInputSerializer(many=True, min_length=1, max_length=100)

    def validate_slug(self, value: str) -> str:
        if not value:
            return value
        return _unique(services.ensure_slug_free, value, model=Product, slug=value)

    def validate_variants(self, variants: list[dict]) -> list[dict]:
        repeated = services.repeated_sku_positions(skus=[spec["sku"] for spec in variants])
        if repeated:
            raise serializers.ValidationError(
                [
                    {"sku": ["Two variants share this SKU."]} if i in repeated else {}
                    for i in range(len(variants))
                ]
            )
        return variants


class ProductUpdateSerializer(serializers.Serializer):
    """Fields staff can change on a product (all optional)."""

    name = serializers.CharField(max_length=200, required=False)
    slug = serializers.SlugField(max_length=220, required=False)
    description = serializers.CharField(max_length=20000, required=False, allow_blank=True)
    category = _category_field(required=False)
    attributes = AttributesField()
    status = serializers.ChoiceField(choices=ProductStatus.choices, required=False)

    def validate_slug(self, value: str) -> str:
        product = self.context.get("product")
        exclude_pk = product.pk if product is not None else None
        return _unique(
            services.ensure_slug_free, value, model=Product, slug=value, exclude_pk=exclude_pk
        )


class VariantUpdateSerializer(serializers.Serializer):
    """Fields staff can change on a variant (stock quantities change via inventory)."""

    sku = serializers.RegexField(r"^[A-Za-z0-9][A-Za-z0-9._-]*$", max_length=64, required=False)
    name = serializers.CharField(max_length=120, required=False, allow_blank=True)
    price = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=Decimal("0.01"), required=False
    )
    attributes = AttributesField()
    is_active = serializers.BooleanField(required=False)
    position = serializers.IntegerField(required=False, min_value=0, max_value=10**6)
    low_stock_threshold = serializers.IntegerField(required=False, min_value=0, max_value=10**9)

    def validate_sku(self, value: str) -> str:
        variant = self.context.get("variant")
        exclude_pk = variant.pk if variant is not None else None
        return _unique(services.ensure_sku_free, value, sku=value, exclude_pk=exclude_pk)


class CategoryInputSerializer(serializers.Serializer):
    """A category staff create or change (``parent``: a slug, or null for a root)."""

    name = serializers.CharField(max_length=120)
    slug = serializers.SlugField(max_length=140, required=False)
    parent = _category_field(required=False, allow_null=True)
    description = serializers.CharField(max_length=20000, required=False, allow_blank=True)
    position = serializers.IntegerField(required=False, min_value=0, max_value=10**6)

    def validate_slug(self, value: str) -> str:
        category = self.context.get("category")
        exclude_pk = category.pk if category is not None else None
        return _unique(
            services.ensure_slug_free, value, model=Category, slug=value, exclude_pk=exclude_pk
        )


# ---- reviews ---------------------------------------------------------------------------


class ReviewSerializer(serializers.ModelSerializer):
    """A published review as shoppers read it (the author's first name and initial only)."""

    author = serializers.SerializerMethodField()

    class Meta:
        model = Review
        fields = ["id", "rating", "title", "body", "author", "verified_buyer", "created_at"]
        read_only_fields = fields

    def get_author(self, obj: Review) -> str:
        return reviews.author_name(review=obj)


class ReviewInputSerializer(serializers.Serializer):
    rating = serializers.IntegerField(min_value=1, max_value=5)
    title = serializers.CharField(
        max_length=reviews.TITLE_MAX_LENGTH, required=False, allow_blank=True, default=""
    )
    body = serializers.CharField(
        min_length=reviews.BODY_MIN_LENGTH, max_length=reviews.BODY_MAX_LENGTH
    )

    def validate(self, attrs: dict) -> dict:
        errors = reviews.validate_review(**attrs)
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class ReviewCreatedSerializer(serializers.ModelSerializer):
    class Meta:
        model = Review
        fields = ["id", "status", "verified_buyer"]
        read_only_fields = fields


# ---- wishlist --------------------------------------------------------------------------


class WishlistEntrySerializer(serializers.Serializer):
    """A wishlist entry; expects a ``catalog.wishlist.wishlist_products`` row (a product)."""

    product = ProductSummarySerializer(read_only=True)
    added_at = serializers.DateTimeField(read_only=True)

    def to_representation(self, instance: Product) -> dict:
        return {
            "product": ProductSummarySerializer(instance, context=self.context).data,
            "added_at": self.fields["added_at"].to_representation(instance.added_at),
        }


class WishlistInputSerializer(serializers.Serializer):
    product = SlugRelatedField(
        slug_field="slug",
        queryset=Product.objects.purchasable(),
        help_text="The product's slug.",
    )


# ---- back-in-stock alerts ----------------------------------------------------------------


class StockAlertInputSerializer(serializers.Serializer):
    email = serializers.EmailField(
        max_length=254, required=False, help_text="Required unless signed in (then: yours)."
    )


class StockAlertSerializer(serializers.Serializer):
    status = serializers.CharField(read_only=True)
    expires_at = serializers.DateTimeField(read_only=True)
