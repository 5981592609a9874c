from django.contrib import admin

from cart.models import Cart, CartLine


class CartLineInline(admin.TabularInline):
    """Read-only: carts change only through the cart services (stock holds, checkout)."""

    model = CartLine
    extra = 0
    fields = ["variant", "quantity", "unit_price", "added_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Cart)
class CartAdmin(admin.ModelAdmin):
    """Support view of shoppers' carts; staff look, the shopper (or checkout) changes them."""

    list_display = ["token", "user", "status", "checkout_order_number", "updated_at"]
    list_filter = ["status"]
    search_fields = ["token", "user__email"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]
    readonly_fields = ["token", "user", "status", "checkout_order_number", "checkout_started_at"]
    inlines = [CartLineInline]

    def has_add_permission(self, request) -> bool:
        return False


# Shipping zones, methods and rates (cart/pricing/admin.py).
from cart.pricing import admin as pricing_admin  # noqa: E402, F401
