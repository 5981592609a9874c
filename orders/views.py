"""The shopper's order pages: history, one order (timeline, tracking, invoice), cancelling.

Only the signed-in shopper's own orders are shown (anyone else's answer 404). The checkout
pages live in ``orders.checkout.views``, the return request in ``orders.returns.views`` and
the staff dashboard in ``orders.reports.views``.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch, QuerySet, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from cart.views import error_message
from orders import lifecycle
from orders.models import Order, OrderEvent, OrderLine, OrderStatus, ReturnLine, ReturnRequest
from orders.returns import services as returns
from shop.errors import DomainError

ORDERS_PER_PAGE = 10
EVENT_TITLES = {
    "placed": "Order placed",
    "return_requested": "Return requested",
    "refund_issued": "Refund issued",
}


def own_order(request: HttpRequest, number: str, queryset: QuerySet | None = None) -> Order:
    """Return the signed-in shopper's order ``number`` (from ``queryset``), or raise 404."""
    queryset = Order.objects.all() if queryset is None else queryset
    return get_object_or_404(queryset, number=number, user=request.user)


def order_detail_queryset() -> QuerySet:
    """Return orders with everything the order page shows (a fixed number of queries)."""
    return Order.objects.prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.order_by("id")),
        Prefetch("events", queryset=OrderEvent.objects.order_by("created_at", "id")),
        "shipments",
        Prefetch(
            "returns",
            queryset=ReturnRequest.objects.prefetch_related(
                Prefetch("lines", queryset=ReturnLine.objects.select_related("order_line"))
            ),
        ),
    )


def invoice_url(order: Order) -> str:
    """Return the printable invoice's URL (the API's HTML rendering of the same invoice)."""
    return reverse("order-invoice", args=[order.number]) + "?format=html"


def _timeline(order: Order) -> list[dict]:
    items = []
    for event in order.events.all():
        if event.type == "status_changed" and event.to_status:
            title = OrderStatus(event.to_status).label
        else:
            title = EVENT_TITLES.get(event.type, event.type.replace("_", " ").capitalize())
        # The "placed" note is for staff (amount and gateway charge id); the title says it all.
        note = "" if event.type == "placed" else event.note
        items.append({"title": title, "at": event.created_at, "note": note, "event": event})
    return items


def order_detail_context(
    request: HttpRequest,
    order: Order,
    *,
    return_data: dict | None = None,
    return_errors: dict | None = None,
    return_reason: str = "",
) -> dict:
    """Return the order page's context; ``return_*`` refill the return form after an error."""
    returnable = []
    return_data, return_errors = return_data or {}, return_errors or {}
    if returns.can_request_return(order=order):
        left = returns.returnable_quantities(order=order)
        returnable = [
            {
                "line": line,
                "max": left.get(line.pk, 0),
                "value": return_data.get(line.pk, "0"),
                "error": return_errors.get(line.pk, ""),
            }
            for line in order.lines.all()
            if left.get(line.pk, 0) > 0
        ]
    return {
        "order": order,
        "timeline": _timeline(order),
        "can_cancel": lifecycle.can_cancel(order=order, user=request.user),
        "returnable": returnable,
        "return_reason": return_reason,
        "invoice_url": invoice_url(order),
    }


@login_required
@require_GET
def order_list(request: HttpRequest) -> HttpResponse:
    """List the shopper's orders, newest first, paginated (constant queries per page)."""
    orders = (
        Order.objects.filter(user=request.user)
        .annotate(item_count=Sum("lines__quantity"))
        .order_by("-created_at", "-id")
    )
    page = Paginator(orders, ORDERS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "orders/order_list.html", {"page": page, "orders": page.object_list})


@login_required
@require_GET
def order_detail(request: HttpRequest, number: str) -> HttpResponse:
    """Show one of the shopper's orders: lines, timeline, tracking, cancel/return forms."""
    order = own_order(request, number, order_detail_queryset())
    return render(request, "orders/order_detail.html", order_detail_context(request, order))


@login_required
@require_POST
def order_cancel(request: HttpRequest, number: str) -> HttpResponse:
    """Cancel the order (``lifecycle.cancel_order`` decides whether that is still allowed)."""
    order = own_order(request, number)
    try:
        lifecycle.cancel_order(order=order, user=request.user, note="Cancelled by the customer.")
    except (DomainError, ValidationError) as exc:
        messages.error(request, error_message(exc))
    else:
        messages.success(request, f"Order {order.number} is cancelled; your payment is refunded.")
    return redirect("orders:detail", number=order.number)
