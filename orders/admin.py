"""Orders admin: list, read-only inlines, status-move actions and returns, all via services."""

from django.contrib import admin, messages
from django.db.models import Prefetch
from django.utils.html import format_html_join

from orders.invoices.admin import InvoiceInline  # also registers InvoiceAdmin
from orders.lifecycle import transition_order
from orders.models import (
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
    PackingTask,
    Payment,
    ReturnLine,
    ReturnRequest,
    ReturnStatus,
    Shipment,
)
from orders.returns.services import receive_return
from shop.errors import DomainError


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class OrderLineInline(ReadOnlyInline):
    model = OrderLine
    fields = [
        "sku",
        "product_name",
        "variant_name",
        "quantity",
        "unit_price",
        "line_total",
        "returned_quantity",
    ]
    readonly_fields = fields


class OrderEventInline(ReadOnlyInline):
    model = OrderEvent
    fields = ["created_at", "type", "from_status", "to_status", "user", "note"]
    readonly_fields = fields


class PaymentInline(ReadOnlyInline):
    model = Payment
    fields = [
        "created_at",
        "kind",
        "result",
        "amount",
        "currency",
        "attempt",
        "reference",
        "gateway_transaction_id",
        "error",
    ]
    readonly_fields = fields


class ShipmentInline(ReadOnlyInline):
    model = Shipment
    fields = ["created_at", "carrier", "tracking_number", "status"]
    readonly_fields = fields


def _move_action(to_status: str, label: str):
    """An action moving the selected orders to ``to_status``; cancelling (which refunds) needs
    the cancel permission, every other move the transition one."""

    def action(modeladmin, request, queryset):
        moved = 0
        for order in queryset.order_by("pk"):
            try:
                transition_order(
                    order=order, to_status=to_status, user=request.user, note="Admin action"
                )
                moved += 1
            except DomainError as exc:
                modeladmin.message_user(request, f"{order.number}: {exc.detail}", messages.ERROR)
        if moved:
            modeladmin.message_user(
                request, f"{moved} order(s) moved to {to_status}.", messages.SUCCESS
            )

    action.__name__ = f"move_to_{to_status}"
    action.short_description = label
    action.allowed_permissions = (
        ("cancel",) if to_status == OrderStatus.CANCELLED else ("transition",)
    )
    return action


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["number", "user", "status", "payment_status", "total", "currency", "created_at"]
    list_filter = ["status", "payment_status", "created_at"]
    search_fields = ["number", "email", "user__email"]
    list_select_related = ["user"]
    date_hierarchy = "created_at"
    raw_id_fields = ["user"]
    inlines = [OrderLineInline, OrderEventInline, PaymentInline, ShipmentInline, InvoiceInline]
    actions = [
        _move_action(OrderStatus.PROCESSING, "Start processing (creates packing task)"),
        _move_action(OrderStatus.FULFILLED, "Mark fulfilled (packed)"),
        _move_action(OrderStatus.SHIPPED, "Ship (book courier)"),
        _move_action(OrderStatus.DELIVERED, "Mark delivered"),
        _move_action(OrderStatus.CANCELLED, "Cancel and refund"),
    ]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Order._meta.fields]

    def has_transition_permission(self, request) -> bool:
        return request.user.has_perm("orders.transition_order")

    def has_cancel_permission(self, request) -> bool:
        return request.user.has_perm("orders.cancel_order")

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReturnLineInline(ReadOnlyInline):
    model = ReturnLine
    fields = ["order_line", "quantity"]
    readonly_fields = fields


@admin.register(ReturnRequest)
class ReturnRequestAdmin(admin.ModelAdmin):
    list_display = ["id", "order", "status", "refund_amount", "created_at", "received_at"]
    list_filter = ["status"]
    search_fields = ["order__number", "order__email"]
    list_select_related = ["order"]
    readonly_fields = [
        "order",
        "status",
        "reason",
        "refund_amount",
        "created_at",
        "received_at",
        "received_by",
    ]
    inlines = [ReturnLineInline]
    actions = ["receive"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_receive_permission(self, request) -> bool:
        return request.user.has_perm("orders.receive_return")

    @admin.action(
        description="Receive items: restock, refund, credit note", permissions=["receive"]
    )
    def receive(self, request, queryset):
        done = 0
        for rr in queryset.filter(status=ReturnStatus.REQUESTED).order_by("pk"):
            try:
                receive_return(return_request=rr, user=request.user)
                done += 1
            except DomainError as exc:
                self.message_user(request, f"Return {rr.pk}: {exc.detail}", messages.ERROR)
        self.message_user(request, f"{done} return(s) received and refunded.", messages.SUCCESS)


class PackingStateFilter(admin.SimpleListFilter):
    title = "packing"
    parameter_name = "packed"

    def lookups(self, request, model_admin):
        return [("no", "To pick"), ("yes", "Packed")]

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.filter(packed_at__isnull=True)
        if self.value() == "yes":
            return queryset.filter(packed_at__isnull=False)
        return queryset


@admin.register(PackingTask)
class PackingListAdmin(admin.ModelAdmin):
    """The packing list: orders in processing and the lines to pick for each."""

    list_display = ["order", "created_at", "items_to_pick", "packed_at", "packed_by"]
    list_filter = [PackingStateFilter]
    search_fields = ["order__number"]
    list_select_related = ["order", "packed_by"]
    readonly_fields = ["order", "created_at", "packed_at", "packed_by"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .prefetch_related(Prefetch("order__lines", queryset=OrderLine.objects.order_by("sku")))
        )

    @admin.display(description="Pick")
    def items_to_pick(self, task) -> str:
        return format_html_join(
            "",
            "<div>{} × {} <small>({} {})</small></div>",
            (
                (line.quantity, line.sku, line.product_name, line.variant_name)
                for line in task.order.lines.all()
            ),
        )

    def has_add_permission(self, request) -> bool:
        return False
