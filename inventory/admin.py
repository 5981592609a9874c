"""Inventory admin: stock with live availability, a low-stock filter, a restock action, holds.

Quantities are read-only here: every change goes through ``inventory.services`` so it is
locked, checked and written to the movement ledger.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html_join
from django.views.decorators.http import require_POST
from import_export.admin import ImportMixin

from inventory import services
from inventory.errors import InsufficientStock
from inventory.models import MovementReason, StockHold, StockItem, StockMovement
from inventory.resources import StockLevelResource
from inventory.selectors import is_low_stock, low_stock_condition, with_available
from shop.admin_io import StreamedExportMixin


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


class StockAdjustmentForm(forms.Form):
    """A write-off or correction from the stock item's page, always with a reason."""

    KINDS = {
        # kind: (label, movement reason, sign of the quantity; 0: "set on hand to")
        "damaged": ("Write off: damaged", MovementReason.DAMAGE, -1),
        "lost": ("Write off: lost or stolen", MovementReason.CORRECTION, -1),
        "found": ("Found: add units", MovementReason.CORRECTION, +1),
        "counted": ("Counted: set on hand to", MovementReason.CORRECTION, 0),
    }
    kind = forms.ChoiceField(choices=[(k, v[0]) for k, v in KINDS.items()])
    quantity = forms.IntegerField(min_value=0, max_value=1_000_000)
    reason = forms.CharField(max_length=255, help_text="Recorded in the stock ledger.")

    def clean(self):
        data = super().clean()
        if data.get("kind") != "counted" and data.get("quantity") == 0:
            raise forms.ValidationError("Enter how many units.")
        return data


def apply_adjustment(*, item: StockItem, data: dict, user) -> StockItem:
    """Apply a ``StockAdjustmentForm``'s cleaned data through ``inventory.services``."""
    label, reason, sign = StockAdjustmentForm.KINDS[data["kind"]]
    note = f"{label}: {data['reason']}"
    if sign == 0:
        delta = data["quantity"] - item.on_hand
        if delta == 0:
            return item
        return services.adjust(
            variant=item.variant, delta=delta, reason=reason, user=user, note=note
        )
    return services.adjust(
        variant=item.variant, delta=sign * data["quantity"], reason=reason, user=user, note=note
    )


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
class StockItemAdmin(ImportMixin, StreamedExportMixin, admin.ModelAdmin):
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
    change_form_template = "admin/inventory/stockitem/change_form.html"
    resource_classes = [StockLevelResource]
    export_name = "stock-levels"
    import_export_change_list_template = "admin/shop/change_list_import_export_streamed.html"

    def has_import_permission(self, request) -> bool:
        # Counted quantities change stock: the same permission as adjusting it.
        return self.has_adjust_permission(request)

    def get_import_resource_kwargs(self, request, **kwargs):
        return {**super().get_import_resource_kwargs(request, **kwargs), "user": request.user}

    def get_queryset(self, request):
        return with_available(
            queryset=super().get_queryset(request).select_related("variant__product")
        )

    def get_urls(self):
        return [
            path(
                "<int:object_id>/adjust/",
                self.admin_site.admin_view(require_POST(self.adjust_view)),
                name="inventory_stockitem_adjust",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_adjust": self.has_adjust_permission(request),
            "adjust_form": StockAdjustmentForm(),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def adjust_view(self, request: HttpRequest, object_id: int):
        if not self.has_adjust_permission(request):
            raise PermissionDenied
        item = get_object_or_404(StockItem.objects.select_related("variant"), pk=object_id)
        back = HttpResponseRedirect(reverse("admin:inventory_stockitem_change", args=[item.pk]))
        form = StockAdjustmentForm(request.POST)
        if not form.is_valid():
            for field, errors in form.errors.items():
                label = "" if field == "__all__" else f"{form.fields[field].label}: "
                self.message_user(request, f"{label}{' '.join(errors)}", messages.ERROR)
            return back
        try:
            item = apply_adjustment(item=item, data=form.cleaned_data, user=request.user)
        except InsufficientStock as exc:
            self.message_user(request, exc.detail, messages.ERROR)
        else:
            self.message_user(
                request, f"{item.variant.sku}: {item.on_hand} on hand now.", messages.SUCCESS
            )
        return back

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
