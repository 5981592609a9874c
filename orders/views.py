"""Checkout and order pages. Every rule lives in the orders services; these views translate.

- ``/checkout/`` holds the cart's stock (``reserve_cart``) when it opens and places the order
  through ``run_idempotent`` + ``place_order`` with the form's hidden idempotency key, so a
  double click or a refresh never places two orders (the replay redirects to the same
  confirmation).
- ``/orders/`` and ``/orders/<number>/`` show the signed-in shopper's own orders only
  (anyone else's answer 404), with cancel and return forms calling the lifecycle services.
"""

import time
import uuid
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import Address
from cart.selectors import CartSummary, cart_summary
from cart.services import reserve_cart
from cart.views import current_cart, error_message
from orders import lifecycle
from orders.checkout.idempotency import IdempotentResult, run_idempotent
from orders.checkout.services import compute_totals, place_order
from orders.errors import IdempotencyKeyInUse, IdempotencyKeyMismatch, IdempotencyKeyRequired
from orders.models import Order, OrderEvent, OrderLine, OrderStatus, ReturnLine, ReturnRequest
from orders.returns import services as returns
from shop.errors import DomainError

CHECKOUT_SCOPE = "orders.checkout_html"
ORDERS_PER_PAGE = 10
# How long a second submission of the same checkout form waits for the first to finish.
IN_USE_WAIT_SECONDS = 10.0
IN_USE_POLL_SECONDS = 0.25


@dataclass(frozen=True)
class TestCard:
    token: str
    label: str
    hint: str


# The mock gateway's test cards (orders.payments.gateways.MockGateway decides by token).
TEST_CARDS = [
    TestCard("tok_success", "Visa •••• 4242", "Succeeds"),
    TestCard("tok_declined", "Visa •••• 0002", "Declined by the bank"),
    TestCard("tok_transient", "Mastercard •••• 4444", "Fails once, then succeeds on retry"),
    TestCard("tok_unavailable", "Amex •••• 0005", "Gateway unavailable"),
]


@dataclass(frozen=True)
class AddressField:
    name: str
    label: str
    required: bool
    autocomplete: str
    max_length: int


ADDRESS_FIELDS = [
    AddressField("full_name", "Full name", True, "name", 200),
    AddressField("line1", "Address line 1", True, "address-line1", 200),
    AddressField("line2", "Address line 2", False, "address-line2", 200),
    AddressField("city", "City", True, "address-level2", 100),
    AddressField("postal_code", "Postal code", True, "postal-code", 20),
    AddressField("country", "Country code (e.g. US, GB)", True, "country", 2),
    AddressField("phone", "Phone", False, "tel", 32),
]
NEW_ADDRESS = "new"
# What the shopper can do about a failed checkout (the cart is always kept).
NEXT_STEP = {
    "payment_declined": "Nothing was charged and your cart is kept: choose another card.",
    "payment_unavailable": "Nothing was charged and your cart is kept.",
    "price_changed": "Check the new total below, then place your order again.",
    "insufficient_stock": "Please update your cart.",
}
EVENT_TITLES = {
    "placed": "Order placed",
    "return_requested": "Return requested",
    "refund_issued": "Refund issued",
}


# ---------------------------------------------------------------------------- checkout


def _hold(cart) -> tuple[object | None, str]:
    """Hold the cart's stock; return (expiry, "") or (None, a message for the shopper)."""
    try:
        return reserve_cart(cart=cart), ""
    except (DomainError, ValidationError) as exc:
        return None, error_message(exc)


def _checkout_form_data(request: HttpRequest) -> dict:
    post = request.POST
    choice = (post.get("address") or NEW_ADDRESS).strip()[:20]
    data = {
        "address": choice,
        "payment_token": (post.get("payment_token") or "").strip()[:255],
        "notes": (post.get("notes") or "")[:2000],
    }
    if choice == NEW_ADDRESS:
        for field in ADDRESS_FIELDS:
            data[field.name] = (post.get(field.name) or "")[: field.max_length + 50]
    return data


def _field_errors(body: dict) -> dict[str, str]:
    """Map the service's error keys (``shipping_address.city``) to the form's field names."""
    errors = {}
    for key, msgs in (body.get("errors") or {}).items():
        name = key.removeprefix("shipping_address.")
        if name in ("shipping_address", "address_id"):
            name = "address"
        errors[name] = " ".join(msgs)
    return errors


def _render_checkout(
    request: HttpRequest,
    view: CartSummary,
    *,
    hold_expires_at=None,
    data: dict | None = None,
    errors: dict | None = None,
    status: int = 200,
) -> HttpResponse:
    addresses = list(Address.objects.filter(user=request.user))
    data = data or {}
    if "address" not in data:
        data["address"] = str(addresses[0].pk) if addresses else NEW_ADDRESS
    data.setdefault("payment_token", TEST_CARDS[0].token)
    shipping, tax, total = compute_totals(view.subtotal)
    errors = errors or {}
    fields = [
        {"field": f, "value": data.get(f.name, ""), "error": errors.get(f.name, "")}
        for f in ADDRESS_FIELDS
    ]
    context = {
        "cart": view,
        "addresses": addresses,
        "address_fields": fields,
        "data": data,
        "errors": errors,
        "cards": TEST_CARDS,
        "shipping_total": shipping,
        "tax_total": tax,
        "total": total,
        "hold_expires_at": hold_expires_at,
        # A fresh key per rendering: a resubmission of *this* form replays, a new attempt
        # after fixing an error is a new request.
        "idempotency_key": str(uuid.uuid4()),
        "new_address": NEW_ADDRESS,
    }
    return render(request, "orders/checkout.html", context, status=status)


def _place(request: HttpRequest, cart, data: dict) -> IdempotentResult:
    choice = data["address"]
    address_id, shipping_address = None, None
    if choice == NEW_ADDRESS:
        shipping_address = {f.name: data.get(f.name, "") for f in ADDRESS_FIELDS}
    else:
        address_id = int(choice) if choice.isdigit() else 0

    def action() -> tuple[int, dict]:
        order = place_order(
            user=request.user,
            cart=cart,
            shipping_address=shipping_address,
            address_id=address_id,
            payment_token=data["payment_token"],
            notes=data["notes"],
        )
        return 201, {"number": order.number}

    key = request.POST.get("idempotency_key")
    run = lambda: run_idempotent(  # noqa: E731 - the same call, repeated while in use
        user=request.user, key=key, scope=CHECKOUT_SCOPE, payload=data, action=action
    )
    try:
        return run()
    except IdempotencyKeyInUse:
        # A double click: the first submission is still placing the order. Wait for it so
        # this response (the one the browser shows) leads to the same confirmation.
        deadline = time.monotonic() + IN_USE_WAIT_SECONDS
        while True:
            time.sleep(IN_USE_POLL_SECONDS)
            try:
                return run()
            except IdempotencyKeyInUse:
                if time.monotonic() >= deadline:
                    raise


@login_required
@require_http_methods(["GET", "POST"])
def checkout(request: HttpRequest) -> HttpResponse:
    """Show the checkout (holding the stock) or place the order from its form."""
    cart = current_cart(request)
    if request.method == "GET":
        view = cart_summary(cart=cart)
        if view.is_empty:
            messages.info(request, "Your cart is empty.")
            return redirect("cart:detail")
        expires_at, problem = _hold(cart)
        if problem:
            messages.error(request, problem)
            return redirect("cart:detail")
        return _render_checkout(request, view, hold_expires_at=expires_at)

    data = _checkout_form_data(request)
    try:
        result = _place(request, cart, data)
    except IdempotencyKeyInUse:
        messages.info(request, "Your order is still being placed; it will appear here shortly.")
        return redirect("orders:list")
    except (IdempotencyKeyMismatch, IdempotencyKeyRequired):
        messages.error(request, "This checkout form expired; please review and place your order.")
        return redirect("orders:checkout")
    except DomainError as exc:
        # 5xx domain errors (payment unavailable, checkout failed) are not stored: the
        # shopper may simply try again.
        result = IdempotentResult(exc.status_code, exc.as_dict(), False)

    if result.status == 201:
        return redirect("orders:confirmation", number=result.body["number"])

    body = result.body or {}
    errors = _field_errors(body) if body.get("code") == "validation_error" else {}
    if not errors:
        detail = body.get("detail") or "Your order could not be placed."
        messages.error(request, f"{detail} {NEXT_STEP.get(body.get('code'), '')}".strip())
    cart = current_cart(request)
    view = cart_summary(cart=cart)
    if view.is_empty:
        return redirect("cart:detail")
    expires_at, problem = _hold(cart)
    if problem and body.get("code") != "insufficient_stock":
        messages.warning(request, problem)
    return _render_checkout(
        request, view, hold_expires_at=expires_at, data=data, errors=errors, status=200
    )


def _own_order(request: HttpRequest, number: str, queryset=None) -> Order:
    queryset = Order.objects.all() if queryset is None else queryset
    return get_object_or_404(queryset, number=number, user=request.user)


@login_required
@require_GET
def confirmation(request: HttpRequest, number: str) -> HttpResponse:
    """Thank the shopper and summarise the order they just placed."""
    order = _own_order(request, number, Order.objects.prefetch_related("lines"))
    return render(request, "orders/confirmation.html", {"order": order})


# ---------------------------------------------------------------------------- orders


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


def _detail_context(
    request: HttpRequest,
    order: Order,
    *,
    return_data: dict | None = None,
    return_errors: dict | None = None,
    return_reason: str = "",
) -> dict:
    returnable = []
    return_data, return_errors = return_data or {}, return_errors or {}
    if returns.can_request_return(order):
        left = returns.returnable_quantities(order)
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
        "can_cancel": lifecycle.can_cancel(order, request.user),
        "returnable": returnable,
        "return_reason": return_reason,
        "invoice_url": invoice_url(order),
    }


def _detail_queryset():
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


@login_required
@require_GET
def order_detail(request: HttpRequest, number: str) -> HttpResponse:
    """Show one of the shopper's orders: lines, timeline, tracking, cancel/return forms."""
    order = _own_order(request, number, _detail_queryset())
    return render(request, "orders/order_detail.html", _detail_context(request, order))


@login_required
@require_POST
def order_cancel(request: HttpRequest, number: str) -> HttpResponse:
    """Cancel the order (``lifecycle.cancel_order`` decides whether that is still allowed)."""
    order = _own_order(request, number)
    try:
        lifecycle.cancel_order(order=order, user=request.user, note="Cancelled by the customer.")
    except (DomainError, ValidationError) as exc:
        messages.error(request, error_message(exc))
    else:
        messages.success(request, f"Order {order.number} is cancelled; your payment is refunded.")
    return redirect("orders:detail", number=order.number)


@login_required
@require_POST
def order_return(request: HttpRequest, number: str) -> HttpResponse:
    """Request a return of some delivered lines (``returns.request_return`` checks amounts)."""
    order = _own_order(request, number, _detail_queryset())
    lines, data, errors = [], {}, {}
    for line in order.lines.all():
        raw = (request.POST.get(f"qty-{line.pk}") or "0").strip()
        data[line.pk] = raw
        try:
            quantity = int(raw)
        except ValueError:
            errors[line.pk] = "Enter a whole number."
            continue
        if quantity < 0:
            errors[line.pk] = "Enter zero or more."
        elif quantity:
            lines.append({"sku": line.sku, "quantity": quantity})
    reason = (request.POST.get("reason") or "").strip()
    if not errors:
        try:
            request_ = returns.request_return(
                order=order, user=request.user, lines=lines, reason=reason
            )
        except (DomainError, ValidationError) as exc:
            messages.error(request, error_message(exc))
        else:
            messages.success(request, f"Return #{request_.pk} requested. We will be in touch.")
            return redirect("orders:detail", number=order.number)
    else:
        messages.error(request, "Please correct the quantities to return.")
    order = _own_order(request, number, _detail_queryset())
    context = _detail_context(
        request, order, return_errors=errors, return_data=data, return_reason=reason
    )
    return render(request, "orders/order_detail.html", context, status=400)
