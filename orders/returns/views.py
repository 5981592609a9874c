"""The return request page: the shopper asks to send back some lines of a delivered order."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from cart.views import error_message
from orders.returns import services as returns
from orders.views import order_detail_context, order_detail_queryset, own_order
from shop.errors import DomainError


@login_required
@require_POST
def order_return(request: HttpRequest, number: str) -> HttpResponse:
    """Request a return of some delivered lines (``returns.request_return`` checks amounts).

    A refused request shows the order page again (400) with the quantities as typed.
    """
    order = own_order(request, number, order_detail_queryset())
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
    order = own_order(request, number, order_detail_queryset())
    context = order_detail_context(
        request, order, return_errors=errors, return_data=data, return_reason=reason
    )
    return render(request, "orders/order_detail.html", context, status=400)
