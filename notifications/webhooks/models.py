"""Webhook endpoints, their deliveries (the outbox rows) and every delivery attempt."""

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models


class WebhookEventType(models.TextChoices):
    ORDER_CREATED = "order.created", "Order created"
    ORDER_PAID = "order.paid", "Order paid"
    ORDER_CANCELLED = "order.cancelled", "Order cancelled"
    ORDER_SHIPPED = "order.shipped", "Order shipped"
    ORDER_DELIVERED = "order.delivered", "Order delivered"
    ORDER_REFUNDED = "order.refunded", "Order refunded"
    PRODUCT_UPDATED = "product.updated", "Product updated"
    STOCK_LOW = "stock.low", "Stock low"


class WebhookEndpoint(models.Model):
    """A URL that receives the events it subscribes to, signed with its ``secret``.

    ``failing_since`` is set by the first failed attempt after a success and cleared by the
    next success; an endpoint failing for ``SHOP_WEBHOOK_DISABLE_AFTER_DAYS`` is deactivated
    (``is_active`` false, ``disabled_at`` set). Its undelivered events stay pending, to be
    delivered when staff reactivate it. ``lease_until`` lets one worker at a time deliver an
    endpoint's events, so they arrive in the order they happened.
    """

    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=128, help_text="Shared secret for X-Shop-Signature.")
    events = models.JSONField(default=list, help_text="Event types this endpoint receives.")
    description = models.CharField(max_length=200, blank=True)
    is_active = models.BooleanField(default=True)
    failing_since = models.DateTimeField(null=True, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        permissions = [("redeliver_webhook", "Can redeliver webhook events")]

    def __str__(self) -> str:
        return self.url


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"


class WebhookDelivery(models.Model):
    """One event for one endpoint: the signed body is built from ``payload`` at each attempt.

    ``payload`` is ``{id, type, created_at, data}`` captured when the event happened; ``id``
    (``event_id``) is the same for every endpoint receiving the event, so receivers can
    de-duplicate. Pending rows wait for ``next_attempt_at``; there is no terminal failure:
    an event is retried until the receiver accepts it (or staff delete the endpoint).
    """

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event_id = models.UUIDField()
    event_type = models.CharField(max_length=32, choices=WebhookEventType.choices)
    payload = models.JSONField(encoder=DjangoJSONEncoder)
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "webhook deliveries"
        indexes = [
            models.Index(fields=["endpoint", "status", "id"], name="webhook_endpoint_status"),
            models.Index(fields=["status", "next_attempt_at"], name="webhook_status_due"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "event_id"], name="webhook_one_delivery_per_event"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=DeliveryStatus.values),
                name="webhook_delivery_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} to {self.endpoint.url} ({self.status})"


class WebhookAttempt(models.Model):
    """One POST of a delivery: the receiver's status code (None if unreachable) and latency."""

    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log"
    )
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField()
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.status_code or 'no answer'} in {self.latency_ms} ms"

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
