"""Draft orders' pages: the staff builder in the admin's frame and the customer's pay page.

* ``/staff/orders/drafts/new/`` and ``/staff/orders/<number>/draft/`` (staff holding
  ``orders.manage_draft_orders``; marking paid offline also needs ``orders.mark_paid_offline``):
  customer, address, shipping method, lines, totals; send the payment link, mark paid offline,
  cancel or delete. Every form posts to the page and calls ``orders.drafts.services``.
* ``/orders/<number>/pay/?token=...`` (the emailed link; the signed-in owner needs no token):
  the order, its address and totals and the checkout's payment fields. Anyone else: 404.
"""

from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from accounts.addresses.forms import AddressForm
from accounts.models import Address
from cart.pricing.shipping import cart_weight, shipping_quotes
from orders.admin import format_address
from orders.checkout.views import offered_test_cards, stripe_js
from orders.drafts.services import (
    MAX_LINE_QUANTITY,
    cancel_draft_order,
    check_payable,
    create_draft_order,
    delete_draft_order,
    link_expired,
    mark_paid_offline,
    pay_order,
    payment_link_matches,
    payment_link_path,
    send_payment_link,
    set_draft_address,
    set_draft_customer,
    set_draft_line,
    set_draft_shipping_method,
)
from orders.models import OfflinePaymentMethod, Order, OrderStatus
from orders.selectors import lines_with_images
from orders.views import remember_guest_order
from shop.errors import DomainError

MANAGE = "orders.manage_draft_orders"
OFFLINE = "orders.mark_paid_offline"


class CustomerForm(forms.Form):
    email = forms.EmailField(max_length=254, label="Customer email")


class AddLineForm(forms.Form):
    sku = forms.CharField(max_length=64, label="SKU")
    quantity = forms.IntegerField(min_value=1, max_value=MAX_LINE_QUANTITY, initial=1)


class LineQuantityForm(forms.Form):
    sku = forms.CharField(max_length=64, widget=forms.HiddenInput)
    quantity = forms.IntegerField(min_value=0, max_value=MAX_LINE_QUANTITY)


class PayForm(forms.Form):
    """The pay page's form: the checkout's payment fields (``orders/_payment_fields.html``)."""

    payment_token = forms.CharField(max_length=255, label="Payment token")


class OfflinePaymentForm(forms.Form):
    method = forms.ChoiceField(choices=OfflinePaymentMethod.choices, label="Paid by")
    reference = forms.CharField(
        max_length=128, help_text="The transfer id, receipt or terminal slip number."
    )


def _form_problem(form: forms.Form) -> str:
    return "Check the form: " + "; ".join(
        f"{name}: {' '.join(errors)}" if name != "__all__" else " ".join(errors)
        for name, errors in form.errors.items()
    )


def _draft_url(order: Order) -> str:
    return reverse("orders:staff-draft", kwargs={"number": order.number})


@staff_member_required
@require_http_methods(["GET", "POST"])
def new_draft_view(request: HttpRequest) -> HttpResponse:
    """Start a draft order for a customer's email (``orders.manage_draft_orders``)."""
    if not request.user.has_perm(MANAGE):
        raise PermissionDenied
    form = CustomerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            order = create_draft_order(email=form.cleaned_data["email"], user=request.user)
        except ValidationError as exc:
            form.add_error("email", " ".join(exc.messages))
        else:
            messages.success(request, f"Draft order {order.number} started.")
            return redirect(_draft_url(order))
    context = {
        **admin.site.each_context(request),
        "title": "Add draft order",
        "form": form,
        "changelist_url": reverse("admin:orders_order_changelist"),
    }
    return render(
        request, "admin/orders/draft_new.html", context, status=400 if form.errors else 200
    )


def _apply(request: HttpRequest, order: Order) -> tuple[str | None, str]:
    """Run the posted action's service; return ``(problem, done)`` messages."""
    action = request.POST.get("action", "")
    user = request.user
    form: forms.Form
    if action == "customer":
        form = CustomerForm(request.POST)
        if not form.is_valid():
            return _form_problem(form), ""
        set_draft_customer(order=order, email=form.cleaned_data["email"], user=user)
        return None, "Customer saved."
    if action == "address":
        form = AddressForm(request.POST, prefix="address")
        if not form.is_valid():
            return _form_problem(form), ""
        set_draft_address(order=order, shipping_address=form.address(), user=user)
        return None, "Address saved."
    if action == "saved_address":
        try:
            address_id = int(request.POST.get("address_id", ""))
        except ValueError:
            return "Choose one of the customer's addresses.", ""
        set_draft_address(order=order, address_id=address_id, user=user)
        return None, "Address saved."
    if action == "shipping":
        set_draft_shipping_method(
            order=order, code=request.POST.get("shipping_method", ""), user=user
        )
        return None, "Shipping method saved."
    if action in {"add", "change"}:
        form = AddLineForm(request.POST) if action == "add" else LineQuantityForm(request.POST)
        if not form.is_valid():
            return _form_problem(form), ""
        set_draft_line(order=order, user=user, add=action == "add", **form.cleaned_data)
        return None, "Lines saved."
    if action == "send":
        sent = send_payment_link(order=order, user=user)
        return None, f"Payment link emailed to {sent.email}."
    if action == "paid_offline":
        if not user.has_perm(OFFLINE):
            raise PermissionDenied
        form = OfflinePaymentForm(request.POST)
        if not form.is_valid():
            return _form_problem(form), ""
        paid = mark_paid_offline(order=order, user=user, **form.cleaned_data)
        return None, f"{paid.number} is paid and received."
    if action == "cancel":
        if not request.POST.get("confirm"):
            return "Tick the box to confirm the cancellation.", ""
        cancel_draft_order(order=order, user=user)
        return None, "Draft cancelled."
    return "Unknown action.", ""


@staff_member_required
@require_http_methods(["GET", "POST"])
def draft_view(request: HttpRequest, number: str) -> HttpResponse:
    """Build and send a draft order (``orders.manage_draft_orders``; others get 403)."""
    user = request.user
    if not user.has_perm(MANAGE):
        raise PermissionDenied
    order = get_object_or_404(Order, number=number)
    if request.method == "POST":
        if request.POST.get("action") == "delete":
            if not request.POST.get("confirm"):
                messages.error(request, "Tick the box to confirm deleting the draft.")
                return redirect(_draft_url(order))
            try:
                delete_draft_order(order=order, user=user)
            except DomainError as exc:
                messages.error(request, exc.detail)
                return redirect(_draft_url(order))
            messages.success(request, f"Draft order {number} deleted.")
            return redirect("admin:orders_order_changelist")
        try:
            problem, done = _apply(request, order)
        except ValidationError as exc:
            problem, done = " ".join(exc.messages), ""
        except DomainError as exc:
            problem, done = str(exc.detail), ""
        if problem:
            messages.error(request, problem)
        else:
            messages.success(request, done)
        return redirect(_draft_url(order))
    return render(request, "admin/orders/draft_order.html", _draft_context(request, order))


def _draft_context(request: HttpRequest, order: Order) -> dict:
    user = request.user
    lines = list(order.lines.select_related("variant").order_by("id"))
    address = order.shipping_address if isinstance(order.shipping_address, dict) else {}
    country = address.get("country") or None
    quotes = (
        shipping_quotes(
            country=country,
            subtotal=order.subtotal,
            weight_grams=cart_weight(lines=[ln for ln in lines if ln.variant_id]),
        )
        if lines
        else []
    )
    is_draft = order.status == OrderStatus.DRAFT
    link_order = (
        order.status == OrderStatus.PENDING_PAYMENT and order.payment_link_expires_at is not None
    )
    return {
        **admin.site.each_context(request),
        "title": f"Draft order {order.number}",
        "order": order,
        "lines": lines,
        "is_draft": is_draft,
        "link_order": link_order,
        "link_expired": link_order and link_expired(order=order),
        "pay_path": payment_link_path(order=order) if link_order else "",
        "quotes": quotes,
        "customer_form": CustomerForm(initial={"email": order.email}),
        "address_form": AddressForm(initial=address, prefix="address"),
        "saved_addresses": list(Address.objects.filter(user_id=order.user_id))
        if order.user_id
        else [],
        "add_form": AddLineForm(),
        "offline_form": OfflinePaymentForm(),
        "can_mark_paid": user.has_perm(OFFLINE) and (is_draft or link_order),
        "events": order.events.select_related("user").order_by("-created_at", "-id")[:20],
        "order_admin_url": reverse("admin:orders_order_change", args=[order.pk]),
    }


# -- the customer's pay page -----------------------------------------------------------------


def _payable_order(request: HttpRequest, number: str, token: str) -> Order:
    """Return the link order ``number`` if ``token`` is its payment link or the signed-in
    user owns it; 404 otherwise (drafts and checkout orders have no pay page)."""
    order = (
        Order.objects.filter(number=number, payment_link_expires_at__isnull=False)
        .exclude(status=OrderStatus.DRAFT)
        .first()
    )
    if order is None:
        raise Http404
    owner = request.user.is_authenticated and order.user_id == request.user.pk
    if not owner and not payment_link_matches(order=order, token=token):
        raise Http404
    return order


def _pay_url(number: str, token: str) -> str:
    path = reverse("orders:pay", kwargs={"number": number})
    return f"{path}?{urlencode({'token': token})}" if token else path


@require_http_methods(["GET", "POST"])
def pay_view(request: HttpRequest, number: str) -> HttpResponse:
    """Show the order and the payment form, or pay it (POST ``payment_token``)."""
    token = (request.POST.get("token") if request.method == "POST" else None) or request.GET.get(
        "token", ""
    )
    order = _payable_order(request, number, token)
    status = 200
    problem = ""
    if request.method == "POST":
        try:
            result = pay_order(order=order, payment_token=request.POST.get("payment_token", ""))
        except ValidationError as exc:
            problem, status = " ".join(exc.messages), 400
        except DomainError as exc:
            problem, status = str(exc.detail), exc.status_code
            if status >= 500:
                problem += " Nothing was charged; please try again in a moment."
            elif exc.status_code == 402:
                problem += " Nothing was charged: you can try another card."
        else:
            if result.order_token:
                # The guest's order page and invoice then open in this browser.
                remember_guest_order(request, number=number, token=result.order_token)
            if result.order.is_paid:
                messages.success(request, f"Thank you! Order {number} is paid.")
            return redirect(_pay_url(number, token))
    order = Order.objects.prefetch_related(Prefetch("lines", lines_with_images())).get(pk=order.pk)
    closed = ""
    try:
        check_payable(order=order)
    except DomainError as exc:
        closed = str(exc.detail)
        if request.method == "GET" and not order.is_paid:
            status = exc.status_code
    if problem:
        messages.error(request, problem)
    cards = offered_test_cards()
    context = {
        "order": order,
        "form": PayForm(initial={"payment_token": cards[0].token if cards else ""}),
        "address_lines": format_address(order.shipping_address),
        "token": token,
        "closed": closed,
        "paid": order.is_paid,
        "cancelled": order.status == OrderStatus.CANCELLED,
        "cards": cards,
        "stripe": stripe_js(),
        "waiting": bool(order.payment_action.get("client_secret")),
        "pay_url": _pay_url(number, token),
        "order_url": reverse("orders:detail", kwargs={"number": number}),
    }
    return render(request, "orders/pay.html", context, status=status)
