import json

from django.contrib import admin, messages
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.html import format_html
from django.utils.safestring import SafeString

from notifications import services
from notifications.emails import SENSITIVE_KEYS
from notifications.errors import NotificationNotResendable
from notifications.models import Notification
from orders.admin import register_order_panel
from orders.models import Order

#: Shown on the change page, all read-only.
_FIELDS = (
    "kind",
    "recipient",
    "subject",
    "status",
    "attempts",
    "last_error",
    "next_attempt_at",
    "sent_at",
    "event_key",
    "created_at",
    "updated_at",
    "context_display",
)


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """The email log: read-only, with a "resend" action."""

    list_display = [
        "kind",
        "recipient",
        "subject",
        "status",
        "attempts",
        "created_at",
        "sent_at",
    ]
    list_filter = ["kind", "status"]
    search_fields = ["recipient", "subject", "event_key"]
    date_hierarchy = "created_at"
    ordering = ["-created_at", "-id"]
    actions = ["resend"]
    fields = _FIELDS
    readonly_fields = _FIELDS

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        # Viewing only: the row is the record of what was sent.
        return False

    def has_resend_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("notifications.resend_notification")

    @admin.display(description="context")
    def context_display(self, obj: Notification) -> str:
        context = {
            key: ("[hidden]" if key in SENSITIVE_KEYS else value)
            for key, value in (obj.context or {}).items()
        }
        return format_html("<pre>{}</pre>", json.dumps(context, indent=2, sort_keys=True))

    @admin.action(description="Resend the selected emails", permissions=["resend"])
    def resend(self, request, queryset) -> None:
        done, refused = 0, []
        for pk in queryset.order_by("pk").values_list("pk", flat=True):
            try:
                services.resend(notification_id=pk)
            except NotificationNotResendable as exc:
                refused.append(f"#{pk}: {exc.detail}")
            else:
                done += 1
        if done:
            self.message_user(request, f"Queued {done} email(s) for sending.", messages.SUCCESS)
        for reason in refused:
            self.message_user(request, reason, messages.WARNING)


@register_order_panel
def emails_sent_for_order(request: HttpRequest, order: Order) -> SafeString | None:
    """The order page's "Emails" panel: every email about this order (and its returns)."""
    if not request.user.has_perm("notifications.view_notification"):
        return None
    keys = [f"{kind}:{order.pk}" for kind in ("order_placed", "order_shipped", "order_cancelled")]
    return_ids = list(order.returns.values_list("pk", flat=True))
    keys += [f"{kind}:{pk}" for pk in return_ids for kind in ("refund", "return_rejected")]
    emails = Notification.objects.filter(event_key__in=keys).order_by("created_at", "id")
    return SafeString(
        render_to_string("admin/notifications/order_panel.html", {"emails": emails}, request)
    )
