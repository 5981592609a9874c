from django.core.serializers.json import DjangoJSONEncoder
from django.db import models


class NotificationKind(models.TextChoices):
    WELCOME = "welcome", "Welcome"
    PASSWORD_RESET = "password_reset", "Password reset"
    ORDER_CONFIRMATION = "order_confirmation", "Order confirmation"
    ORDER_SHIPPED = "order_shipped", "Order shipped"
    ORDER_CANCELLED = "order_cancelled", "Order cancelled"
    REFUND_ISSUED = "refund_issued", "Refund issued"
    RETURN_REQUESTED = "return_requested", "Return instructions"
    RETURN_REJECTED = "return_rejected", "Return rejected"
    LOW_STOCK = "low_stock", "Low stock alert"
    PAYMENT_DISPUTED = "payment_disputed", "Payment dispute alert"
    WEBHOOK_DISABLED = "webhook_disabled", "Webhook endpoint disabled"
    REVIEW_PENDING = "review_pending", "Review awaiting moderation"
    BACK_IN_STOCK = "back_in_stock", "Back in stock"
    CART_REMINDER = "cart_reminder", "Abandoned-cart reminder"
    PAYMENT_LINK = "payment_link", "Payment link (draft order)"


class NotificationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class Notification(models.Model):
    """One email in the outbox: written when a domain event happens, delivered later.

    ``context`` holds everything the templates need, captured at event time, so the email
    says what was true when the event happened. ``event_key`` is unique: one event never
    produces two rows, however often its signal is received. Delivery claims the row by
    moving it ``pending -> sending`` with a conditional UPDATE, so it is never sent twice.
    """

    kind = models.CharField(max_length=24, choices=NotificationKind.choices)
    recipient = models.EmailField(max_length=254)
    subject = models.CharField(max_length=255)
    context = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    status = models.CharField(
        max_length=8, choices=NotificationStatus.choices, default=NotificationStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(
        null=True, blank=True, help_text="When a pending email is next due to be tried."
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    event_key = models.CharField(
        max_length=400, unique=True, help_text="Identifies the event (and recipient)."
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("resend_notification", "Can resend notifications")]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="notif_status_due"),
            models.Index(fields=["kind", "status"], name="notif_kind_status"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=NotificationStatus.values),
                name="notif_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.recipient} ({self.status})"


# Webhook models live in their sub-package; importing them here registers them with the app.
from notifications.webhooks.models import (  # noqa: E402, F401
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
