"""Admin for shipping zones, their methods and rate bands (staff price shipping here)."""

from django.contrib import admin

from cart.pricing.models import (
    ShippingMethod,
    ShippingRate,
    ShippingZone,
    TaxRate,
    Voucher,
    VoucherUse,
)


class ShippingMethodInline(admin.TabularInline):
    model = ShippingMethod
    extra = 1
    fields = ["code", "name", "price", "free_above", "min_days", "max_days", "is_active"]
    show_change_link = True


@admin.register(ShippingZone)
class ShippingZoneAdmin(admin.ModelAdmin):
    """A zone (countries) with its methods inline; rate bands are edited on each method."""

    list_display = ["name", "is_default", "country_list"]
    search_fields = ["name"]
    inlines = [ShippingMethodInline]

    @admin.display(description="Countries")
    def country_list(self, zone: ShippingZone) -> str:
        return ", ".join(c.code for c in zone.countries) or "(every other country)"


class ShippingRateInline(admin.TabularInline):
    model = ShippingRate
    extra = 1
    fields = ["min_weight_grams", "max_weight_grams", "min_subtotal", "max_subtotal", "price"]


@admin.register(ShippingMethod)
class ShippingMethodAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "zone", "price", "free_above", "estimated_days", "is_active"]
    list_filter = ["zone", "is_active"]
    list_select_related = ["zone"]
    search_fields = ["code", "name"]
    inlines = [ShippingRateInline]


@admin.register(Voucher)
class VoucherAdmin(admin.ModelAdmin):
    """Vouchers (with a code) and automatic promotions; ``times_used`` is counted by checkout."""

    list_display = [
        "code",
        "kind",
        "value",
        "automatic",
        "active",
        "times_used",
        "usage_limit",
        "starts_at",
        "ends_at",
    ]
    list_filter = ["kind", "automatic", "active"]
    search_fields = ["code", "description"]
    readonly_fields = ["times_used", "created_at"]
    autocomplete_fields = ["products", "categories"]
    fieldsets = [
        (None, {"fields": ["code", "description", "kind", "value", "active", "automatic"]}),
        ("Conditions", {"fields": ["min_spend", "starts_at", "ends_at"]}),
        ("Limits", {"fields": ["usage_limit", "per_customer_limit", "times_used"]}),
        ("Restricted to", {"fields": ["products", "categories"]}),
    ]


@admin.register(VoucherUse)
class VoucherUseAdmin(admin.ModelAdmin):
    """Read-only: uses are recorded by checkout and released by cancellations and refunds."""

    list_display = ["voucher", "order_number", "email", "used_at", "released_at"]
    list_select_related = ["voucher"]
    search_fields = ["order_number", "email", "voucher__code"]
    readonly_fields = ["voucher", "order_number", "user", "email", "used_at", "released_at"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(TaxRate)
class TaxRateAdmin(admin.ModelAdmin):
    """A country's standard rate (empty tax class) and its rates per product tax class."""

    list_display = ["country", "tax_class", "name", "rate"]
    list_filter = ["country"]
    search_fields = ["name", "tax_class"]
