"""The shopper's order pages: history, one order (timeline, tracking, invoice), cancelling.

Only the signed-in shopper's own orders are shown (anyone else's answer 404), and a guest's
order to whoever holds its order token: the email's link ``/orders/<number>/?token=...``
stores the token in the session (``remember_guest_order``) and redirects to the bare URL, so
the token leaves the address bar and following links (cancel, invoice) keeps working. Without
the token a guest order is a 404. The checkout
pages live in ``orders.checkout.views``, the return request in ``orders.returns.views`` and
the staff dashboard in ``orders.reports.views``.
"""

from datetime import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch, QuerySet, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from cart.views import error_message
from orders import lifecycle
from orders.guest_access import guest_order, token_matches
from orders.models import (
    InvoiceKind,
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
    ReturnLine,
    ReturnRequest,
)
from orders.returns import services as returns
from shop.errors import DomainError

ORDERS_PER_PAGE = 10
GUEST_ORDERS_SESSION_KEY = "guest_orders"  # {order number: order token}
EVENT_TITLES = {
    "placed": "Order placed",
    "return_requested": "Return requested",
    "refund_issued": "Refund issued",
}


def own_order(request: HttpRequest, number: str, queryset: QuerySet | None = None) -> Order:
    """Return the signed-in shopper's order ``number`` (from ``queryset``), or raise 404."""
    queryset = Order.objects.all() if queryset is None else queryset
    return get_object_or_404(queryset, number=number, user=request.user)


def remember_guest_order(request: HttpRequest, *, number: str, token: str) -> None:
    """Keep a guest's order token in the (server-side) session for this browser."""
    known = dict(request.session.get(GUEST_ORDERS_SESSION_KEY, {}))
    known[number] = token
    request.session[GUEST_ORDERS_SESSION_KEY] = known


def session_guest_order(
    request: HttpRequest, number: str, queryset: QuerySet | None = None
) -> Order | None:
    """Return the guest order ``number`` when this session holds its token, else None."""
    token = request.session.get(GUEST_ORDERS_SESSION_KEY, {}).get(number)
    return guest_order(number=number, token=token, queryset=queryset) if token else None


def viewable_order(
    request: HttpRequest, number: str, queryset: QuerySet | None = None
) -> tuple[Order, bool]:
    """Return ``(order, as_guest)``: the signed-in shopper's own order, or a guest order whose
    token this session holds. Raises 404 otherwise."""
    queryset = Order.objects.all() if queryset is None else queryset
    if request.user.is_authenticated:
        order = queryset.filter(number=number, user=request.user).first()
        if order is not None:
            return order, False
    order = session_guest_order(request, number, queryset)
    if order is None:
        raise Http404
    return order, True


def _sign_in_first(request: HttpRequest, number: str) -> bool:
    """Whether an anonymous visitor should sign in to see order ``number``: a member's
    order (the member's email link has no token). A guest order without its token, or an
    unknown number, is a 404 instead."""
    if request.user.is_authenticated or session_guest_order(request, number) is not None:
        return False
    return Order.objects.filter(number=number, user__isnull=False).exists()


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
    as_guest: bool = False,
) -> dict:
    """Return the order page's context; ``return_*`` refill the return form after an error.

    ``as_guest``: a guest's view (through its order token): cancel while allowed, no returns
    (they need an account), the invoice on the HTML site."""
    returnable = []
    return_data, return_errors = return_data or {}, return_errors or {}
    if not as_guest and returns.can_request_return(order=order):
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
        "can_cancel": (
            order.status in lifecycle.cancellable_statuses(user=None)
            if as_guest
            else lifecycle.can_cancel(order=order, user=request.user)
        ),
        "returnable": returnable,
        "returns_closed_on": _returns_closed_on(order) if not as_guest else None,
        "return_reason": return_reason,
        "invoice_url": (
            reverse("orders:invoice", args=[order.number]) if as_guest else invoice_url(order)
        ),
        "as_guest": as_guest,
    }


def _returns_closed_on(order: Order) -> datetime | None:
    """When the return window of a delivered order closed (``None`` while it is open)."""
    closes_at = returns.return_window_closes_at(order=order)
    return closes_at if closes_at is not None and closes_at < timezone.now() else None


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


@require_GET
def order_detail(request: HttpRequest, number: str) -> HttpResponse:
    """Show one of the shopper's orders (or a guest's, by its order token): lines, timeline,
    tracking, cancel/return forms. ``?token=`` is checked, kept in the session and dropped
    from the URL; a wrong token is a 404."""
    token = request.GET.get("token")
    if token is not None:
        order = Order.objects.filter(number=number).first()
        if order is None or not token_matches(order=order, token=token):
            raise Http404
        remember_guest_order(request, number=number, token=token)
        return redirect("orders:detail", number=number)
    if _sign_in_first(request, number):
        return redirect_to_login(request.get_full_path())
    order, as_guest = viewable_order(request, number, order_detail_queryset())
    context = order_detail_context(request, order, as_guest=as_guest)
    return render(request, "orders/order_detail.html", context)


@require_GET
def order_invoice(request: HttpRequest, number: str) -> HttpResponse:
    """The printable invoice of an order this browser may see (a guest's included)."""
    order, _ = viewable_order(request, number)
    documents = list(order.invoices.all().order_by("issued_at", "id"))
    invoice = next((d for d in documents if d.kind == InvoiceKind.INVOICE), None)
    if invoice is None:
        raise Http404
    credit_notes = [d for d in documents if d.kind == InvoiceKind.CREDIT_NOTE]
    context = {"invoice": invoice, "order": order, "credit_notes": credit_notes}
    return render(request, "orders/invoice.html", context)


@require_POST
def order_cancel(request: HttpRequest, number: str) -> HttpResponse:
    """Cancel the order (``lifecycle.cancel_order`` decides whether that is still allowed);
    a guest cancels through the order token kept in the session."""
    if _sign_in_first(request, number):
        return redirect_to_login(request.get_full_path())
    order, as_guest = viewable_order(request, number)
    user = None if as_guest else request.user
    try:
        lifecycle.cancel_order(order=order, user=user, note="Cancelled by the customer.")
    except (DomainError, ValidationError) as exc:
        messages.error(request, error_message(exc))
    else:
        messages.success(request, f"Order {order.number} is cancelled; your payment is refunded.")
    return redirect("orders:detail", number=order.number)
