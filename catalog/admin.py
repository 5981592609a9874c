"""Catalog admin: a readable category tree, products with variant and image inlines.

Changelists select/annotate what they show so a 10,000-product catalog lists in a
constant number of queries. Archiving and deleting go through ``catalog.services``.
"""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db.models import Count, Min, OuterRef, Subquery
from django.utils.html import format_html
from import_export.admin import ImportExportMixin

from catalog import services, thumbnails
from catalog.admin_forms import ProductForm, VariantForm, VariantInlineForm
from catalog.concurrency import VersionedFormMixin
from catalog.models import Category, Product, ProductImage, ProductStatus, Variant
from catalog.resources import VariantResource
from inventory import services as inventory
from inventory.admin import StockMovementInline
from shop.admin_io import SPREADSHEET_FORMATS


class VersionedForm(VersionedFormMixin, forms.ModelForm):
    """Refuses a stale save (someone saved the row after the page was opened)."""


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    form = VersionedForm
    list_display = ["tree_name", "slug", "parent", "position", "product_count"]
    list_select_related = ["parent"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["parent"]
    readonly_fields = ["path", "depth"]
    ordering = ["path"]
    list_per_page = 200

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_products=Count("products"))

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if "image" in form.changed_data:
            thumbnails.generate_on_commit(source=obj.image.name, target=thumbnails.CATEGORY_IMAGE)

    @admin.display(description="name", ordering="path")
    def tree_name(self, obj: Category) -> str:
        return format_html(
            '<span style="padding-left:{}em">{}{}</span>',
            obj.depth * 1.5,
            "└ " if obj.depth else "",
            obj.name,
        )

    @admin.display(description="products", ordering="_products")
    def product_count(self, obj: Category) -> int:
        return obj._products


class VariantInline(admin.TabularInline):
    model = Variant
    form = VariantInlineForm
    extra = 0
    fields = [
        "sku",
        "name",
        "price",
        "attributes",
        "is_active",
        "position",
        "stock_on_hand",
        "starting_stock",
    ]
    readonly_fields = ["stock_on_hand"]
    show_change_link = True

    def get_extra(self, request, obj=None, **kwargs) -> int:
        # A new product gets one empty variant row to fill in the same pass.
        return 1 if obj is None else 0

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        # A new product's variants have no stock yet: only their starting stock.
        return [f for f in fields if f != "stock_on_hand"] if obj is None else fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("stock")

    @admin.display(description="on hand")
    def stock_on_hand(self, obj: Variant) -> int | str:
        stock = getattr(obj, "stock", None) if obj.pk else None
        return stock.on_hand if stock else "–"


class ProductImageInline(admin.TabularInline):
    model = ProductImage
    extra = 0
    fields = ["preview", "image", "alt", "position"]
    readonly_fields = ["preview"]

    @admin.display(description="")
    def preview(self, obj: ProductImage) -> str:
        thumb = thumbnails.thumbnail(
            source=obj.image.name if obj.pk else "", target=thumbnails.PRODUCT_IMAGE, alias="line"
        )
        if thumb is None:
            return "–"
        return format_html(
            '<img src="{}" srcset="{}" width="{}" height="{}" alt="{}" loading="lazy">',
            thumb.src,
            thumb.srcset,
            thumb.width,
            thumb.height,
            obj.alt,
        )


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    form = ProductForm
    list_display = ["name", "category", "status", "price_from", "variant_count", "created_at"]
    list_select_related = ["category"]
    list_filter = ["status", "category"]
    search_fields = ["name", "slug", "variants__sku"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["category"]
    readonly_fields = ["created_at", "updated_at"]
    inlines = [VariantInline, ProductImageInline]
    actions = ["archive_selected"]
    show_full_result_count = False

    def get_queryset(self, request):
        variants = Variant.objects.active().filter(product_id=OuterRef("pk"))
        return (
            super()
            .get_queryset(request)
            .annotate(
                _price_from=Subquery(
                    variants.values("product_id").annotate(p=Min("price")).values("p")
                ),
                _variants=Subquery(
                    Variant.objects.filter(product_id=OuterRef("pk"))
                    .values("product_id")
                    .annotate(n=Count("pk"))
                    .values("n")
                ),
            )
        )

    def get_changeform_initial_data(self, request):
        # New products start as drafts: shoppers see them once staff make them active.
        return {"status": ProductStatus.DRAFT, **super().get_changeform_initial_data(request)}

    @admin.display(description="from", ordering="_price_from")
    def price_from(self, obj: Product) -> str:
        if obj._price_from is None:
            return "–"
        return f"{obj._price_from:,.2f} {settings.SHOP_CURRENCY}"

    @admin.display(description="variants")
    def variant_count(self, obj: Product) -> int:
        return obj._variants or 0

    @admin.action(description="Archive selected products", permissions=["change"])
    def archive_selected(self, request, queryset):
        changed = services.archive_products(products=queryset.select_related(None).only("pk"))
        self.message_user(request, f"Archived {changed} product(s).", messages.SUCCESS)

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        if formset.model is Variant:
            # New variants need a stock row so they show in inventory; their starting stock
            # goes through inventory.services (a restock movement), never through this form.
            starting = {
                form.instance.pk: form.cleaned_data.get("starting_stock") or 0
                for form in formset.forms
                if form.instance.pk and form.cleaned_data
            }
            for variant in formset.new_objects:
                inventory.create_stock_item(
                    variant=variant,
                    on_hand=starting.get(variant.pk, 0),
                    user=request.user,
                    note="starting stock (product editor)",
                )
        if formset.model is ProductImage:
            uploaded = formset.new_objects + [
                image for image, fields in formset.changed_objects if "image" in fields
            ]
            for image in uploaded:
                thumbnails.generate_on_commit(
                    source=image.image.name, target=thumbnails.PRODUCT_IMAGE
                )

    def delete_model(self, request, obj):
        if not services.delete_product(product=obj):
            self.message_user(
                request, f"{obj} was ordered, so it was archived instead.", messages.WARNING
            )

    def delete_queryset(self, request, queryset):
        archived = sum(not services.delete_product(product=p) for p in queryset)
        if archived:
            self.message_user(
                request,
                f"{archived} ordered product(s) were archived instead of deleted.",
                messages.WARNING,
            )


@admin.register(Variant)
class VariantAdmin(ImportExportMixin, admin.ModelAdmin):
    """Variants; "Import" and "Export" take products and variants as CSV or XLSX (one row per
    SKU, ``catalog.resources``), with a preview of every row's errors before anything is
    written."""

    form = VariantForm
    resource_classes = [VariantResource]
    formats = SPREADSHEET_FORMATS

    def get_import_resource_kwargs(self, request, **kwargs):
        return {**super().get_import_resource_kwargs(request, **kwargs), "user": request.user}

    list_display = ["sku", "product", "name", "price_money", "is_active"]
    list_select_related = ["product"]
    list_filter = ["is_active"]
    search_fields = ["sku", "product__name"]
    autocomplete_fields = ["product"]
    inlines = [StockMovementInline]
    show_full_result_count = False

    @admin.display(description="price", ordering="price")
    def price_money(self, obj: Variant) -> str:
        return f"{obj.price:,.2f} {settings.SHOP_CURRENCY}"
