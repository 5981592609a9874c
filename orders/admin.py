"""Orders admin: the order workspace (one page to run an order), the packing list.

Every change goes through the orders services (``transition_order``, ``cancel_order``); the
page offers only the moves ``ALLOWED_TRANSITIONS`` allows from the order's status and the
user's permissions allow. Other apps add panels to the order page with
``register_order_panel`` (notifications lists the emails sent), so this module never imports
a higher app.
"""

from collections.abc import Callable

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.views.decorators.http import require_POST
from django_countries import countries

from accounts.addresses.rules import ADDRESS_FIELD_NAMES
from orders.fulfilment.couriers import TRACKING_URLS, tracking_url
from orders.invoices import admin as invoices_admin
from orders.lifecycle import CONFIRMATION_ONLY, allowed_targets, cancel_order, transition_order
from orders.models import (
    InvoiceKind,
    Order,
    OrderLine,
    OrderStatus,
    PackingTask,
)
from orders.payments import admin as payments_admin  # noqa: F401 - registers its admins
from orders.resources import OrderResource
from orders.returns import admin as returns_admin  # noqa: F401 - registers its admins
from orders.selectors import customer_summary
from shop.admin_io import StreamedExportMixin
from shop.errors import DomainError


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


#: ``panel(request, order) -> HTML or None`` callables other apps add to the order page.
OrderPanel = Callable[[HttpRequest, Order], SafeString | None]
ORDER_PANELS: list[OrderPanel] = []


def register_order_panel(panel: OrderPanel) -> OrderPanel:
    """Add ``panel`` to the order page (usable as a decorator); higher apps call this."""
    ORDER_PANELS.append(panel)
    return panel


#: The label of each move's button on the order page.
MOVE_LABELS = {
    OrderStatus.PROCESSING: "Start processing",
    OrderStatus.FULFILLED: "Mark packed",
    OrderStatus.SHIPPED: "Ship",
    OrderStatus.DELIVERED: "Mark delivered",
    OrderStatus.CANCELLED: "Cancel and refund",
}


class ShipForm(forms.Form):
    """Ship with the carrier's tracking number, or leave it empty to book with the courier."""

    carrier = forms.ChoiceField(
        choices=[("", "Book with courier"), *((c, c) for c in TRACKING_URLS)],
        required=False,
    )
    other_carrier = forms.CharField(max_length=64, required=False, label="Other carrier")
    tracking_number = forms.CharField(max_length=64, required=False)

    def clean(self):
        data = super().clean()
        carrier = data.get("other_carrier", "").strip() or data.get("carrier", "")
        tracking = data.get("tracking_number", "").strip()
        if carrier and not tracking:
            raise forms.ValidationError(f"Enter the tracking number {carrier} gave you.")
        if tracking and not carrier:
            raise forms.ValidationError("Pick the carrier of that tracking number.")
        data["carrier"], data["tracking_number"] = carrier, tracking
        return data


def format_address(address: object) -> list[str]:
    """Return the snapshot address as its printed lines (name, street, city, country)."""
    if not isinstance(address, dict):
        return []
    get = {name: str(address.get(name) or "").strip() for name in ADDRESS_FIELD_NAMES}
    country = get["country"]
    lines = [
        get["full_name"],
        get["line1"],
        get["line2"],
        " ".join(part for part in (get["postal_code"], get["city"]) if part),
        str(countries.name(country) or country) if country else "",
        get["phone"],
    ]
    return [line for line in lines if line]


@admin.register(Order)
class OrderAdmin(StreamedExportMixin, admin.ModelAdmin):
    # Fits 1280 px beside the navigation and the filters: two-line cells, no wide columns.
    list_display = ["order_number", "customer", "state", "total_money", "placed"]
    list_display_links = ["order_number"]
    list_filter = ["status", "payment_status", "created_at"]
    search_fields = [
        "number",
        "email",
        "user__email",
        "user__first_name",
        "user__last_name",
        "shipping_address__full_name",
        "shipping_address__postal_code",
        "shipping_address__city",
    ]
    list_select_related = ["user"]
    date_hierarchy = "created_at"
    raw_id_fields = ["user"]
    show_full_result_count = False
    change_form_template = "admin/orders/order/change_form.html"
    # "Add draft order" beside the exports (staff holding ``orders.manage_draft_orders``).
    import_export_change_list_template = "admin/orders/order/change_list.html"
    resource_classes = [OrderResource]
    export_name = "orders"
    fields = ["created_at", "updated_at", "notes"]
    readonly_fields = fields
    actions = [
        _move_action(OrderStatus.PROCESSING, "Start processing (creates packing task)"),
        _move_action(OrderStatus.FULFILLED, "Mark fulfilled (packed)"),
        _move_action(OrderStatus.SHIPPED, "Ship (book courier)"),
        _move_action(OrderStatus.DELIVERED, "Mark delivered"),
        _move_action(OrderStatus.CANCELLED, "Cancel and refund"),
    ]

    def has_transition_permission(self, request) -> bool:
        return request.user.has_perm("orders.transition_order")

    def has_cancel_permission(self, request) -> bool:
        return request.user.has_perm("orders.cancel_order")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        # The page is a workspace: changes are the moves below, never a saved form.
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="number", ordering="number")
    def order_number(self, obj: Order) -> str:
        return format_html('<span style="white-space: nowrap">{}</span>', obj.number)

    @admin.display(description="customer", ordering="email")
    def customer(self, obj: Order) -> str:
        address = obj.shipping_address if isinstance(obj.shipping_address, dict) else {}
        return format_html(
            "{}<br><small>{}</small>", address.get("full_name", "") or "–", obj.email
        )

    @admin.display(description="status", ordering="status")
    def state(self, obj: Order) -> str:
        return format_html(
            "{}<br><small>{}</small>",
            obj.get_status_display(),
            obj.get_payment_status_display().lower(),
        )

    @admin.display(description="total", ordering="total")
    def total_money(self, obj: Order) -> str:
        return format_html(
            '<span style="white-space: nowrap">{}</span>', f"{obj.total:,.2f} {obj.currency}"
        )

    @admin.display(description="placed", ordering="created_at")
    def placed(self, obj: Order) -> str:
        local = timezone.localtime(obj.created_at)
        return format_html(
            '<span style="white-space: nowrap">{}<br>{}</span>',
            f"{local:%d %b %Y}",
            f"{local:%H:%M}",
        )

    def get_urls(self):
        return [
            path(
                "<int:object_id>/move/",
                self.admin_site.admin_view(require_POST(self.move_view)),
                name="orders_order_move",
            ),
            *super().get_urls(),
        ]

    def allowed_moves(self, request: HttpRequest, order: Order) -> list[dict]:
        """Return the moves this user may make on ``order`` now, in the table's order."""
        moves = []
        for status in OrderStatus.values:
            if status not in allowed_targets(status=order.status) or status in CONFIRMATION_ONLY:
                continue  # a payment makes those moves, never a button
            needed = "cancel" if status == OrderStatus.CANCELLED else "transition"
            if getattr(self, f"has_{needed}_permission")(request):
                moves.append({"status": status, "label": MOVE_LABELS.get(status, status)})
        return moves

    def change_view(self, request, object_id, form_url="", extra_context=None):
        order = self.get_object(request, object_id)
        if order is None or not self.has_view_permission(request, order):
            return super().change_view(request, object_id, form_url, extra_context)
        order = (
            Order.objects.select_related("user")
            .prefetch_related("lines", "shipments", "events__user", "payments", "invoices")
            .get(pk=order.pk)
        )
        moves = self.allowed_moves(request, order)
        can_see_payments = request.user.has_perm("orders.view_payment")
        context = {
            "order": order,
            "moves": [m for m in moves if m["status"] != OrderStatus.SHIPPED],
            "can_ship": any(m["status"] == OrderStatus.SHIPPED for m in moves),
            "ship_form": ShipForm(),
            "address_lines": format_address(order.shipping_address),
            "customer": customer_summary(order=order),
            "shipments": [
                (s, tracking_url(carrier=s.carrier, tracking_number=s.tracking_number))
                for s in order.shipments.all()
            ],
            "payments": list(order.payments.all()) if can_see_payments else None,
            "refunds": [i for i in order.invoices.all() if i.kind == InvoiceKind.CREDIT_NOTE],
            "invoice": next(
                (i for i in order.invoices.all() if i.kind == InvoiceKind.INVOICE), None
            ),
            "supplementary_invoices": [
                i for i in order.invoices.all() if i.kind == InvoiceKind.INVOICE
            ][1:],
            "can_view_invoices": request.user.has_perm(invoices_admin.VIEW_PERMISSION),
            "refundable": order.total - order.refunded_total,
            "panels": [html for panel in ORDER_PANELS if (html := panel(request, order))],
            "can_edit_or_refund": request.user.has_perm("orders.edit_order")
            or request.user.has_perm("orders.refund_order"),
            # The draft builder: a draft, or a draft sent as a payment link.
            "draft_builder": request.user.has_perm("orders.manage_draft_orders")
            and (order.status == OrderStatus.DRAFT or order.payment_link_expires_at is not None),
            **(extra_context or {}),
        }
        return super().change_view(request, object_id, form_url, context)

    def move_view(self, request: HttpRequest, object_id: int):
        order = get_object_or_404(Order, pk=object_id)
        to_status = request.POST.get("to_status", "")
        if to_status not in {m["status"] for m in self.allowed_moves(request, order)}:
            if not self.has_transition_permission(request) and not self.has_cancel_permission(
                request
            ):
                raise PermissionDenied
            self.message_user(
                request, f"{order.number} cannot move to {to_status[:32]} now.", messages.ERROR
            )
            return self._back(order)
        carrier = tracking = ""
        if to_status == OrderStatus.CANCELLED and not request.POST.get("confirm"):
            self.message_user(
                request, "Tick the box to confirm the cancellation and refund.", messages.ERROR
            )
            return self._back(order)
        if to_status == OrderStatus.SHIPPED:
            form = ShipForm(request.POST)
            if not form.is_valid():
                for error in form.non_field_errors():
                    self.message_user(request, error, messages.ERROR)
                return self._back(order)
            carrier, tracking = form.cleaned_data["carrier"], form.cleaned_data["tracking_number"]
        try:
            if to_status == OrderStatus.CANCELLED:
                order = cancel_order(order=order, user=request.user, note="Cancelled in admin.")
            else:
                order = transition_order(
                    order=order,
                    to_status=to_status,
                    user=request.user,
                    note="Admin",
                    carrier=carrier,
                    tracking_number=tracking,
                )
        except DomainError as exc:
            self.message_user(request, f"{order.number}: {exc.detail}", messages.ERROR)
        else:
            self.message_user(
                request, f"{order.number} is now {order.get_status_display()}.", messages.SUCCESS
            )
        return self._back(order)

    def _back(self, order: Order) -> HttpResponseRedirect:
        return HttpResponseRedirect(reverse("admin:orders_order_change", args=[order.pk]))


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
