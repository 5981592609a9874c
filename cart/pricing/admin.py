"""Admin for shipping zones, their methods and rate bands (staff price shipping here)."""

from django.contrib import admin

from cart.pricing.models import ShippingMethod, ShippingRate, ShippingZone


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
