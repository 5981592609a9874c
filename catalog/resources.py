"""CSV/XLSX import and export of products and their variants (django-import-export).

One row per variant (SKU). A row whose product does not exist yet creates it, as a draft, from
the row's ``product``, ``category`` (slug) and ``status`` columns; ``stock`` is the starting
stock of a new variant (existing variants' stock is changed in Stock, never by an import).
Every write goes through ``catalog.services`` (and so ``inventory.services``). Each row is
checked before anything is written: an unknown category, a price that is not positive, a SKU
used by another variant or repeated in the file are row errors shown in the preview.
"""

from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.text import slugify
from import_export import fields, resources, widgets

from catalog import services
from catalog.errors import SkuTaken
from catalog.models import Category, Product, ProductStatus, Variant

COLUMNS = (
    "sku",
    "product",
    "product_slug",
    "category",
    "status",
    "variant_name",
    "price",
    "attributes",
    "is_active",
    "stock",
)


class PriceWidget(widgets.DecimalWidget):
    """A price: a decimal number greater than zero, two places."""

    def clean(self, value: Any, row: dict | None = None, **kwargs: Any) -> Decimal:
        text = str(value if value is not None else "").strip()
        try:
            price = Decimal(text)
        except InvalidOperation:
            raise ValueError(f"“{text}” is not a price.") from None
        if not price.is_finite() or price <= 0:
            raise ValueError("The price must be greater than zero.")
        if price != price.quantize(Decimal("0.01")):
            raise ValueError("The price has at most two decimal places.")
        return price


class AttributesWidget(widgets.Widget):
    """Attributes as ``Name=Value; Name=Value`` in one cell."""

    def clean(self, value: Any, row: dict | None = None, **kwargs: Any) -> dict[str, str]:
        attributes: dict[str, str] = {}
        for pair in str(value or "").split(";"):
            if not pair.strip():
                continue
            name, sep, text = pair.partition("=")
            if not sep or not name.strip() or not text.strip():
                raise ValueError(f"Write attributes as Name=Value; “{pair.strip()}” is not.")
            attributes[name.strip()] = text.strip()
        return attributes

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return "; ".join(f"{k}={v}" for k, v in (value or {}).items())


class ProductWidget(widgets.ForeignKeyWidget):
    """The variant's product, by ``product_slug`` (or the slug of ``product``); created as a
    draft through ``catalog.services.create_product`` when there is none yet."""

    def __init__(self) -> None:
        super().__init__(Product, field="slug")

    def clean(self, value: Any, row: dict | None = None, **kwargs: Any) -> Product:
        row = row or {}
        name = str(row.get("product") or "").strip()
        slug = str(value or "").strip() or slugify(name)
        if not slug:
            raise ValueError("Give the product's name (or the slug of an existing product).")
        product = Product.objects.filter(slug=slug).first()
        if product is not None:
            return product
        if not name:
            raise ValueError(f"There is no product “{slug}”: give its name to create it.")
        category_slug = str(row.get("category") or "").strip()
        category = Category.objects.filter(slug=category_slug).first()
        if category is None:
            raise ValueError(f"Unknown category “{category_slug}”.")
        status = str(row.get("status") or ProductStatus.DRAFT).strip().lower()
        if status not in ProductStatus.values:
            raise ValueError(f"Unknown status “{status}” (draft, active or archived).")
        return services.create_product(name=name, category=category, slug=slug, status=status)

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return value.slug if value else ""


class VariantResource(resources.ModelResource):
    """Products and variants, one row per SKU (see the module docstring)."""

    sku = fields.Field(attribute="sku", column_name="sku")
    product = fields.Field(attribute="product__name", column_name="product", readonly=True)
    product_slug = fields.Field(
        attribute="product", column_name="product_slug", widget=ProductWidget()
    )
    category = fields.Field(
        attribute="product__category__slug", column_name="category", readonly=True
    )
    status = fields.Field(attribute="product__status", column_name="status", readonly=True)
    variant_name = fields.Field(attribute="name", column_name="variant_name", default="")
    price = fields.Field(attribute="price", column_name="price", widget=PriceWidget())
    attributes = fields.Field(
        attribute="attributes", column_name="attributes", widget=AttributesWidget(), default={}
    )
    is_active = fields.Field(
        attribute="is_active", column_name="is_active", widget=widgets.BooleanWidget()
    )
    stock = fields.Field(column_name="stock", readonly=True)

    class Meta:
        model = Variant
        fields = COLUMNS
        export_order = COLUMNS
        import_id_fields = ["sku"]
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = False

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._skus_seen: set[str] = set()
        self.user = kwargs.get("user")

    def get_queryset(self):
        return Variant.objects.select_related("product__category", "stock").order_by("sku")

    def dehydrate_stock(self, variant: Variant) -> int:
        stock = getattr(variant, "stock", None)
        return stock.on_hand if stock else 0

    def get_instance(self, instance_loader, row: dict) -> Variant | None:
        sku = str(row.get("sku") or "").strip()
        return Variant.objects.filter(sku__iexact=sku).first() if sku else None

    def before_import_row(self, row, **kwargs: Any) -> None:
        row["sku"] = str(row.get("sku") or "").strip()
        if row.get("is_active") in (None, ""):
            row["is_active"] = "1"

    def import_instance(self, instance: Variant, row: dict, **kwargs: Any) -> None:
        errors: dict[str, list[str]] = {}
        product_before = instance.product_id if instance.pk else None
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as exc:
            errors = exc.message_dict
        if product_before is not None and instance.product_id != product_before:
            errors.setdefault("product_slug", []).append(
                "A variant cannot move to another product."
            )
        sku = row["sku"]
        if not sku:
            errors.setdefault("sku", []).append("Every row needs a SKU.")
        elif sku.lower() in self._skus_seen:
            errors.setdefault("sku", []).append(f"{sku} is repeated in this file.")
        else:
            try:
                services.ensure_sku_free(sku=sku, exclude_pk=instance.pk)
            except SkuTaken as exc:
                errors.setdefault("sku", []).append(exc.detail)
        self._skus_seen.add(sku.lower())
        if instance.pk is None:
            stock = str(row.get("stock") or "0").strip()
            if not stock.isdigit():
                errors.setdefault("stock", []).append("Starting stock is a whole number ≥ 0.")
        if errors:
            raise ValidationError(errors)

    def save_instance(self, instance: Variant, is_create: bool, row: dict, **kwargs: Any) -> None:
        if is_create:
            variant = services.add_variant(
                product=instance.product,
                data=services.VariantData(
                    sku=instance.sku,
                    name=instance.name,
                    price=instance.price,
                    attributes=instance.attributes,
                    is_active=instance.is_active,
                    on_hand=int(str(row.get("stock") or "0").strip()),
                ),
                user=self.user,
            )
            instance.pk = variant.pk
            return
        services.update_variant(
            variant=instance,
            **{name: getattr(instance, name) for name in services.VARIANT_FIELDS},
        )
