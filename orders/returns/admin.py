"""Returns in the back office: readable returns, receive or reject them on the return's page.

Returns are financial records: nobody deletes or edits them here. Receiving and rejecting go
through ``orders.returns.services`` (the same functions the API calls) and need
``orders.receive_return``.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_POST

from orders.models import ReturnLine, ReturnRequest, ReturnStatus
from orders.returns.services import MAX_REASON_LENGTH, receive_return, reject_return
from shop.errors import DomainError


class RejectReturnForm(forms.Form):
    reason = forms.CharField(
        max_length=MAX_REASON_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Emailed to the customer.",
    )


def validation_message(exc: ValidationError) -> str:
    return " ".join(str(m) for messages_ in exc.message_dict.values() for m in messages_)


@admin.register(ReturnRequest)
class ReturnRequestAdmin(admin.ModelAdmin):
    list_display = ["title", "order", "status", "items", "refunded", "created_at"]
    list_filter = ["status"]
    search_fields = ["=id", "order__number", "order__email"]
    list_select_related = ["order"]
    change_form_template = "admin/orders/returnrequest/change_form.html"
    actions = ["receive"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("order", "received_by", "rejected_by")
            .prefetch_related(
                Prefetch("lines", queryset=ReturnLine.objects.select_related("order_line"))
            )
        )

    def get_fields(self, request, obj=None):
        fields = ["order_link", "status", "customer_reason", "items", "created_at"]
        if obj is not None and obj.status == ReturnStatus.REFUNDED:
            fields += ["refunded", "received_at", "received_by"]
        if obj is not None and obj.status == ReturnStatus.REJECTED:
            fields += ["rejection_reason", "rejected_at", "rejected_by"]
        return fields

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_receive_permission(self, request) -> bool:
        return request.user.has_perm("orders.receive_return")

    @admin.display(description="return", ordering="pk")
    def title(self, obj: ReturnRequest) -> str:
        return f"Return #{obj.pk}"

    @admin.display(description="order")
    def order_link(self, obj: ReturnRequest) -> str:
        url = reverse("admin:orders_order_change", args=[obj.order_id])
        return format_html('<a href="{}">{}</a> ({})', url, obj.order.number, obj.order.email)

    @admin.display(description="customer's reason")
    def customer_reason(self, obj: ReturnRequest) -> str:
        return obj.reason or "–"

    @admin.display(description="items")
    def items(self, obj: ReturnRequest) -> str:
        return (
            format_html_join("", "<div>{}</div>", ((str(line),) for line in obj.lines.all())) or "–"
        )

    @admin.display(description="refunded", ordering="refund_amount")
    def refunded(self, obj: ReturnRequest) -> str:
        if obj.status != ReturnStatus.REFUNDED:
            return "–"
        return f"{obj.refund_amount:,.2f} {obj.order.currency}"

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "<int:object_id>/receive/",
                view(require_POST(self.receive_view)),
                name="orders_return_receive",
            ),
            path(
                "<int:object_id>/reject/",
                view(require_POST(self.reject_view)),
                name="orders_return_reject",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_decide": self.has_receive_permission(request),
            "reject_form": RejectReturnForm(),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def _decided(self, request: HttpRequest, object_id: int) -> ReturnRequest:
        if not self.has_receive_permission(request):
            raise PermissionDenied
        return get_object_or_404(ReturnRequest, pk=object_id)

    def _back(self, object_id: int) -> HttpResponseRedirect:
        return HttpResponseRedirect(reverse("admin:orders_returnrequest_change", args=[object_id]))

    def receive_view(self, request: HttpRequest, object_id: int):
        rr = self._decided(request, object_id)
        try:
            rr = receive_return(return_request=rr, user=request.user)
        except DomainError as exc:
            self.message_user(request, f"Return #{object_id}: {exc.detail}", messages.ERROR)
        else:
            amount = f"{rr.refund_amount:,.2f} {rr.order.currency}"
            self.message_user(
                request,
                f"Return #{rr.pk} received: restocked, refunded {amount}.",
                messages.SUCCESS,
            )
        return self._back(object_id)

    def reject_view(self, request: HttpRequest, object_id: int):
        rr = self._decided(request, object_id)
        form = RejectReturnForm(request.POST)
        if not form.is_valid():
            self.message_user(request, "Give the reason for rejecting the return.", messages.ERROR)
            return self._back(object_id)
        try:
            reject_return(return_request=rr, user=request.user, reason=form.cleaned_data["reason"])
        except DomainError as exc:
            self.message_user(request, f"Return #{object_id}: {exc.detail}", messages.ERROR)
        except ValidationError as exc:
            self.message_user(request, validation_message(exc), messages.ERROR)
        else:
            self.message_user(
                request,
                f"Return #{rr.pk} rejected; the customer was emailed the reason.",
                messages.SUCCESS,
            )
        return self._back(object_id)

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
                self.message_user(request, f"Return #{rr.pk}: {exc.detail}", messages.ERROR)
        self.message_user(request, f"{done} return(s) received and refunded.", messages.SUCCESS)
