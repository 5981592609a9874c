"""Inventory admin: stock with live availability, a low-stock filter, a restock action, holds.

Quantities are read-only here: every change goes through ``inventory.services`` so it is
locked, checked and written to the movement ledger.
"""

from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.utils.html import format_html_join

from inventory import services
from inventory.errors import InsufficientStock
from inventory.models import StockHold, StockItem, StockMovement
from inventory.selectors import is_low_stock, low_stock_condition, with_available


class LowStockFilter(admin.SimpleListFilter):
    title = "stock level"
    parameter_name = "stock_level"

    def lookups(self, request, model_admin):
        return [("low", "Low (at or below threshold)"), ("out", "Out of stock"), ("ok", "OK")]

    def queryset(self, request, queryset):
        match self.value():
            case "low":
                return queryset.filter(low_stock_condition())
            case "out":
                return queryset.filter(available__lte=0)
            case "ok":
                return queryset.exclude(low_stock_condition())
        return queryset


class RestockForm(forms.Form):
    quantity = forms.IntegerField(min_value=1, max_value=1_000_000)
    note = forms.CharField(max_length=255, required=False)


class StockMovementInline(admin.TabularInline):
    """Read-only ledger rows, newest first (used on the variant page)."""

    model = StockMovement
    fields = ["created_at", "delta", "reason", "on_hand_after", "order_number", "user", "note"]
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    ordering = ["-created_at", "-id"]
    verbose_name_plural = "stock movements"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user")

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(StockItem)
class StockItemAdmin(admin.ModelAdmin):
    list_display = [
        "sku",
        "product_name",
        "on_hand",
        "allocated",
        "held_display",
        "available_display",
        "low_stock_threshold",
        "is_low",
    ]
    list_select_related = ["variant__product"]
    list_filter = [LowStockFilter]
    search_fields = ["variant__sku", "variant__product__name"]
    raw_id_fields = ["variant"]
    readonly_fields = [
        "variant",
        "on_hand",
        "allocated",
        "low_stock_alerted",
        "updated_at",
        "recent_movements",
    ]
    fields = [*readonly_fields[:3], "low_stock_threshold", *readonly_fields[3:]]
    actions = ["restock_selected"]
    ordering = ["variant__sku"]
    show_full_result_count = False

    def get_queryset(self, request):
        return with_available(queryset=super().get_queryset(request))

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_adjust_permission(self, request) -> bool:
        return request.user.has_perm("inventory.adjust_stock")

    @admin.display(description="SKU", ordering="variant__sku")
    def sku(self, obj: StockItem) -> str:
        return obj.variant.sku

    @admin.display(description="product", ordering="variant__product__name")
    def product_name(self, obj: StockItem) -> str:
        return f"{obj.variant.product.name} {obj.variant.name}".strip()

    @admin.display(description="held", ordering="held")
    def held_display(self, obj: StockItem) -> int:
        return obj.held

    @admin.display(description="available", ordering="available")
    def available_display(self, obj: StockItem) -> int:
        return obj.available

    @admin.display(description="low", boolean=True)
    def is_low(self, obj: StockItem) -> bool:
        return is_low_stock(available=obj.available, threshold=obj.low_stock_threshold)

    @admin.display(description="recent movements")
    def recent_movements(self, obj: StockItem):
        rows = (
            StockMovement.objects.filter(variant_id=obj.variant_id)
            .select_related("user")
            .order_by("-created_at", "-id")[:50]
        )
        return (
            format_html_join(
                "\n",
                "<div>{} · {} {} → {} {} {}</div>",
                (
                    (
                        f"{m.created_at:%Y-%m-%d %H:%M}",
                        f"{m.delta:+d}",
                        m.reason,
                        m.on_hand_after,
                        m.order_number,
                        m.user or "",
                    )
                    for m in rows
                ),
            )
            or "–"
        )

    @admin.action(description="Restock selected SKUs…", permissions=["adjust"])
    def restock_selected(self, request, queryset):
        form = RestockForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            done = 0
            for item in queryset.select_related("variant"):
                try:
                    services.restock(
                        variant=item.variant,
                        quantity=form.cleaned_data["quantity"],
                        user=request.user,
                        note=form.cleaned_data["note"],
                    )
                    done += 1
                except InsufficientStock as exc:
                    self.message_user(request, exc.detail, messages.ERROR)
            qty = form.cleaned_data["quantity"]
            self.message_user(request, f"Restocked {done} SKU(s) by {qty}.", messages.SUCCESS)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Restock",
            "opts": self.model._meta,
            "form": form,
            "items": queryset.select_related("variant__product"),
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/inventory/restock.html", context)


@admin.register(StockMovement)
class StockMovementAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "variant",
        "delta",
        "reason",
        "on_hand_after",
        "order_number",
        "user",
    ]
    list_select_related = ["variant__product", "user"]
    list_filter = ["reason"]
    search_fields = ["variant__sku", "order_number"]
    raw_id_fields = ["variant", "user"]
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(StockHold)
class StockHoldAdmin(admin.ModelAdmin):
    """Cart holds: made by ``inventory.services.hold_stock``; staff can look or delete."""

    list_display = ["variant", "cart_token", "quantity", "expires_at", "client_ip"]
    list_select_related = ["variant__product"]
    search_fields = ["variant__sku", "cart_token", "client_ip"]
    raw_id_fields = ["variant"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
