"""The return request page: the shopper asks to send back some lines of a delivered order."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from orders.returns import services as returns
from orders.views import order_detail_context, order_detail_queryset, own_order
from shop.errors import DomainError


@login_required
@require_POST
def order_return(request: HttpRequest, number: str) -> HttpResponse:
    """Request a return of some delivered lines (``returns.request_return`` checks amounts).

    A refused request shows the order page again (400) with the quantities as typed and each
    problem next to its field, in the shopper's words (never SKUs or API wording).
    """
    order = own_order(request, number, order_detail_queryset())
    left = returns.returnable_quantities(order=order)
    lines, data, errors = [], {}, {}
    for line in order.lines.all():
        raw = (request.POST.get(f"qty-{line.pk}") or "0").strip()
        data[line.pk] = raw
        try:
            quantity = int(raw)
        except ValueError:
            errors[line.pk] = "Enter a whole number, e.g. 1."
            continue
        if quantity < 0:
            errors[line.pk] = "Enter 0 or more."
        elif quantity > left.get(line.pk, 0):
            most = left.get(line.pk, 0)
            errors[line.pk] = (
                f"You can send back at most {most} of these."
                if most
                else "This item is already being returned."
            )
        elif quantity:
            lines.append({"sku": line.sku, "quantity": quantity})
    reason = (request.POST.get("reason") or "").strip()
    form_error = reason_error = ""
    if errors:
        form_error = "Please correct the quantities below."
    elif not lines:
        form_error = "Choose how many of at least one item you are sending back."
    else:
        try:
            request_ = returns.request_return(
                order=order, user=request.user, lines=lines, reason=reason
            )
        except DomainError as exc:  # not (or no longer) returnable
            form_error = exc.detail
        except ValidationError as exc:
            if "reason" in getattr(exc, "error_dict", {}):
                reason_error = f"Keep the reason under {returns.MAX_REASON_LENGTH} characters."
                form_error = "Please shorten the reason."
            else:  # another tab asked to return some of these meanwhile
                form_error = "Some of these items are already being returned: check the numbers."
        else:
            messages.success(
                request,
                f"Return #{request_.pk} requested. We have emailed you how to send it back; "
                "the instructions are also below.",
            )
            return redirect("orders:detail", number=order.number)
    order = own_order(request, number, order_detail_queryset())
    context = order_detail_context(
        request, order, return_errors=errors, return_data=data, return_reason=reason
    )
    context.update(return_form_error=form_error, return_reason_error=reason_error)
    if not context["returnable"]:  # no form to show the error in
        messages.error(request, form_error)
    return render(request, "orders/order_detail.html", context, status=400)
