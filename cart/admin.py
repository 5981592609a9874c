from django.contrib import admin

from cart.models import Cart, CartLine


class CartLineInline(admin.TabularInline):
    model = CartLine
    extra = 0
    raw_id_fields = ["variant"]
    readonly_fields = ["unit_price", "added_at"]


@admin.register(Cart)
class CartAdmin(admin.ModelAdmin):
    list_display = ["token", "user", "status", "updated_at"]
    list_filter = ["status"]
    search_fields = ["token", "user__email"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]
    readonly_fields = ["token", "checkout_reference", "checkout_started_at"]
    inlines = [CartLineInline]
