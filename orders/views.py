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
from django.views.decorators.http import require_GET, require_http_methods

from cart.views import error_message
from orders import lifecycle
from orders.fulfilment.couriers import tracking_url
from orders.guest_access import guest_order, token_matches
from orders.invoices import documents as invoices
from orders.invoices.pdf import invoice_pdf_response
from orders.models import (
    Invoice,
    InvoiceKind,
    Order,
    OrderEvent,
    OrderEventType,
    OrderStatus,
    ReturnLine,
    ReturnRequest,
)
from orders.returns import services as returns
from orders.selectors import lines_with_images
from shop.errors import DomainError

ORDERS_PER_PAGE = 10
GUEST_ORDERS_SESSION_KEY = "guest_orders"  # {order number: order token}
# The timeline speaks to the shopper: what happened to their order, never the staff's notes.
EVENT_TITLES = {
    OrderEventType.PLACED: "Order placed",
    OrderEventType.RETURN_REQUESTED: "You asked to return items",
    OrderEventType.REFUND_ISSUED: "Refund issued",
    OrderEventType.DISPUTE_OPENED: "Payment disputed with your bank",
}
STATUS_TITLES = {
    OrderStatus.PENDING_PAYMENT: "Waiting for payment confirmation",
    OrderStatus.RECEIVED: "Order received",
    OrderStatus.PROCESSING: "We are preparing your order",
    OrderStatus.FULFILLED: "Your order is packed",
    OrderStatus.SHIPPED: "Your order has shipped",
    OrderStatus.DELIVERED: "Your order was delivered",
    OrderStatus.CANCELLED: "Your order was cancelled",
}


def own_order(request: HttpRequest, number: str, queryset: QuerySet | None = None) -> Order:
    """Return the signed-in shopper's order ``number`` (from ``queryset``), or raise 404."""
    queryset = Order.objects.all() if queryset is None else queryset
    return get_object_or_404(
        queryset.exclude(status=OrderStatus.DRAFT), number=number, user=request.user
    )


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
    token this session holds. Raises 404 otherwise (a draft is nobody's order yet)."""
    queryset = Order.objects.all() if queryset is None else queryset
    queryset = queryset.exclude(status=OrderStatus.DRAFT)
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
        Prefetch("lines", queryset=lines_with_images()),
        Prefetch("events", queryset=OrderEvent.objects.order_by("created_at", "id")),
        "shipments",
        Prefetch("invoices", queryset=Invoice.objects.order_by("issued_at", "id")),
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
    """Return the order's history in the shopper's words (event notes are for staff)."""
    items = []
    for event in order.events.all():
        if event.type == OrderEventType.STATUS_CHANGED and event.to_status in STATUS_TITLES:
            title = STATUS_TITLES[OrderStatus(event.to_status)]
        else:
            title = EVENT_TITLES.get(event.type, "Order updated")
        items.append({"title": title, "at": event.created_at, "event": event})
    return items


def _may_cancel(request: HttpRequest, order: Order, *, as_guest: bool) -> bool:
    """Whether this visitor may cancel ``order`` now (a guest: in the customer's window)."""
    if as_guest:
        return order.status in lifecycle.cancellable_statuses(user=None)
    return lifecycle.can_cancel(order=order, user=request.user)


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
        "shipments": [
            {
                "shipment": shipment,
                "tracking_url": tracking_url(
                    carrier=shipment.carrier, tracking_number=shipment.tracking_number
                ),
            }
            for shipment in order.shipments.all()
        ],
        "can_cancel": _may_cancel(request, order, as_guest=as_guest),
        "returnable": returnable,
        "return_address": returns.return_address_lines(),
        "returns_closed_on": _returns_closed_on(order) if not as_guest else None,
        "return_reason": return_reason,
        "invoice_url": (
            reverse("orders:invoice", args=[order.number]) if as_guest else invoice_url(order)
        ),
        "invoice_pdf_url": reverse("orders:invoice-pdf", args=[order.number]),
        "supplementary_invoices": [
            {
                "number": invoice.number,
                "issued_at": invoice.issued_at,
                "total": invoice.total,
                "pdf_url": reverse(
                    "orders:supplementary-invoice-pdf", args=[order.number, invoice.number]
                ),
            }
            for invoice in [i for i in order.invoices.all() if i.kind == InvoiceKind.INVOICE][1:]
        ],
        "credit_notes": [
            {
                "number": note.number,
                "issued_at": note.issued_at,
                "total": note.total,
                "pdf_url": reverse("orders:credit-note-pdf", args=[order.number, note.number]),
            }
            for note in order.invoices.all()
            if note.kind == InvoiceKind.CREDIT_NOTE
        ],
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
        .exclude(status=OrderStatus.DRAFT)
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
    if request.GET.get("token") is not None:
        return _remember_token_link(request, number, "orders:detail")
    if _sign_in_first(request, number):
        return redirect_to_login(request.get_full_path())
    order, as_guest = viewable_order(request, number, order_detail_queryset())
    context = order_detail_context(request, order, as_guest=as_guest)
    return render(request, "orders/order_detail.html", context)


def _remember_token_link(request: HttpRequest, number: str, view_name: str) -> HttpResponse:
    """Check ``?token=`` (404 unless it is the order's), keep it in the session and redirect
    to the same page without it."""
    order = Order.objects.filter(number=number).first()
    if order is None or not token_matches(order=order, token=request.GET.get("token")):
        raise Http404
    remember_guest_order(request, number=number, token=request.GET["token"])
    return redirect(view_name, number=number)


@require_GET
def order_invoice(request: HttpRequest, number: str) -> HttpResponse:
    """The printable invoice of an order this browser may see (a guest's included, also
    through a ``?token=`` link, handled as on the order page)."""
    if request.GET.get("token") is not None:
        return _remember_token_link(request, number, "orders:invoice")
    order, _ = viewable_order(request, number)
    documents = list(order.invoices.all().order_by("issued_at", "id"))
    invoice = next((d for d in documents if d.kind == InvoiceKind.INVOICE), None)
    if invoice is None:
        raise Http404
    credit_notes = [d for d in documents if d.kind == InvoiceKind.CREDIT_NOTE]
    context = {
        "invoice": invoice,
        "doc": invoices.document_for(invoice=invoice),
        "order": order,
        "credit_notes": credit_notes,
        "pdf_url": reverse("orders:invoice-pdf", args=[order.number]),
    }
    return render(request, "orders/invoice.html", context)


@require_GET
def order_invoice_pdf(request: HttpRequest, number: str) -> HttpResponse:
    """The invoice as a PDF, for whoever may see the order (a guest through ``?token=``, as
    on the order page; a member's email link asks them to sign in first)."""
    if request.GET.get("token") is not None:
        return _remember_token_link(request, number, "orders:invoice-pdf")
    if _sign_in_first(request, number):
        return redirect_to_login(request.get_full_path())
    order, _ = viewable_order(request, number)
    invoice = invoices.order_invoice(order=order)
    if invoice is None:
        raise Http404
    return invoice_pdf_response(invoice=invoice)


@require_GET
def order_supplementary_invoice_pdf(
    request: HttpRequest, number: str, invoice: str
) -> HttpResponse:
    """An edit's supplementary invoice of the order as a PDF (the same access as the order
    page)."""
    if _sign_in_first(request, number):
        return redirect_to_login(request.get_full_path())
    order, _ = viewable_order(request, number)
    found = invoices.order_supplementary_invoices(order=order).filter(number=invoice).first()
    if found is None:
        raise Http404
    return invoice_pdf_response(invoice=found)


@require_GET
def order_credit_note_pdf(request: HttpRequest, number: str, credit_note: str) -> HttpResponse:
    """A credit note of the order as a PDF (the same access as the order page)."""
    if _sign_in_first(request, number):
        return redirect_to_login(request.get_full_path())
    order, _ = viewable_order(request, number)
    note = invoices.order_credit_notes(order=order).filter(number=credit_note).first()
    if note is None:
        raise Http404
    return invoice_pdf_response(invoice=note)


@require_http_methods(["GET", "POST"])
def order_cancel(request: HttpRequest, number: str) -> HttpResponse:
    """Ask the shopper to confirm, then cancel the order (``lifecycle.cancel_order`` decides
    whether that is still allowed); a guest cancels through the order token kept in the
    session.

    ``GET`` (the order page's "Cancel order" button) and a ``POST`` without ``confirm=yes``
    show the confirmation page: one click never cancels and refunds."""
    if _sign_in_first(request, number):
        return redirect_to_login(request.get_full_path())
    order, as_guest = viewable_order(request, number)
    user = None if as_guest else request.user
    if request.method != "POST" or request.POST.get("confirm") != "yes":
        if not _may_cancel(request, order, as_guest=as_guest):
            messages.error(request, "This order can no longer be cancelled.")
            return redirect("orders:detail", number=order.number)
        return render(request, "orders/cancel_confirm.html", {"order": order})
    try:
        lifecycle.cancel_order(order=order, user=user, note="Cancelled by the customer.")
    except (DomainError, ValidationError) as exc:
        messages.error(request, error_message(exc))
    else:
        messages.success(request, f"Order {order.number} is cancelled; your payment is refunded.")
    return redirect("orders:detail", number=order.number)
