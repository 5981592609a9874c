"""The staff page for editing an order before fulfilment and issuing goodwill refunds.

It sits in the admin's frame at ``/staff/orders/<number>/edit/`` (linked from the order's
admin page); every form posts to the same page and calls ``orders.editing.services``.
"""

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from orders.editing.services import (
    EDITABLE_STATUSES,
    MAX_LINE_QUANTITY,
    add_order_line,
    change_order_line,
    issue_goodwill_refund,
)
from orders.models import Order, OrderLine
from shop.errors import DomainError


class LineQuantityForm(forms.Form):
    sku = forms.CharField(max_length=64, widget=forms.HiddenInput)
    quantity = forms.IntegerField(min_value=0, max_value=MAX_LINE_QUANTITY)
    payment_token = forms.CharField(max_length=255, required=False)


class AddLineForm(forms.Form):
    sku = forms.CharField(max_length=64, label="SKU")
    quantity = forms.IntegerField(min_value=1, max_value=MAX_LINE_QUANTITY, initial=1)
    payment_token = forms.CharField(
        max_length=255, required=False, help_text="Needed when the total goes up."
    )


class GoodwillRefundForm(forms.Form):
    amount = forms.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0.01"))
    reason = forms.CharField(max_length=500)


def _errors(exc: ValidationError) -> str:
    return " ".join(exc.messages)


def _apply(request: HttpRequest, order: Order) -> str | None:
    """Run the posted form's service; return an error message, or None when it worked."""
    action = request.POST.get("action")
    form: forms.Form
    try:
        if action in {"change", "add"}:
            if not request.user.has_perm("orders.edit_order"):
                raise PermissionDenied
            form = (
                LineQuantityForm(request.POST) if action == "change" else AddLineForm(request.POST)
            )
            if not form.is_valid():
                return "Check the form: " + "; ".join(
                    f"{name}: {' '.join(errors)}" for name, errors in form.errors.items()
                )
            service = change_order_line if action == "change" else add_order_line
            service(order=order, user=request.user, **form.cleaned_data)
            return None
        if action == "refund":
            if not request.user.has_perm("orders.refund_order"):
                raise PermissionDenied
            form = GoodwillRefundForm(request.POST)
            if not form.is_valid():
                return "Check the refund: " + "; ".join(
                    f"{name}: {' '.join(errors)}" for name, errors in form.errors.items()
                )
            issue_goodwill_refund(order=order, user=request.user, **form.cleaned_data)
            return None
    except ValidationError as exc:
        return _errors(exc)
    except DomainError as exc:
        return exc.detail
    except OrderLine.DoesNotExist:
        return "That line is no longer on the order."
    return "Unknown action."


@staff_member_required
def edit_order_view(request: HttpRequest, number: str) -> HttpResponse:
    """Show the order's lines with quantity forms, an "add line" and a goodwill refund form
    (staff holding ``orders.edit_order`` or ``orders.refund_order``; others get 403)."""
    user = request.user
    if not (user.has_perm("orders.edit_order") or user.has_perm("orders.refund_order")):
        raise PermissionDenied
    order = get_object_or_404(Order, number=number)
    if request.method == "POST":
        problem = _apply(request, order)
        if problem:
            messages.error(request, problem)
        else:
            messages.success(request, "Saved.")
        return redirect("orders:staff-edit", number=order.number)
    lines = list(order.lines.all())
    context = {
        **admin.site.each_context(request),
        "title": f"Edit order {order.number}",
        "order": order,
        "lines": lines,
        "editable": order.status in EDITABLE_STATUSES and user.has_perm("orders.edit_order"),
        "can_refund": user.has_perm("orders.refund_order"),
        "left_to_refund": order.total - order.refunded_total,
        "add_form": AddLineForm(),
        "refund_form": GoodwillRefundForm(),
        "events": order.events.select_related("user").order_by("-created_at", "-id")[:20],
        "order_admin_url": reverse("admin:orders_order_change", args=[order.pk]),
    }
    return render(request, "admin/orders/edit_order.html", context)
