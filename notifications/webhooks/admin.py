"""Admin for webhook endpoints (saved through the services) and the delivery log."""

import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.html import format_html

from notifications.webhooks import services
from notifications.webhooks.models import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEventType,
)
from notifications.webhooks.validation import validate_webhook_url


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(max_length=500, assume_scheme="https")
    events = forms.MultipleChoiceField(
        choices=WebhookEventType.choices, widget=forms.CheckboxSelectMultiple
    )
    secret = forms.CharField(
        required=False,
        max_length=128,
        help_text="Leave empty to generate one (new endpoints) or keep the current one.",
        widget=forms.PasswordInput(render_value=False),
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["url", "events", "secret", "description", "is_active"]

    def clean_url(self) -> str:
        url: str = self.cleaned_data["url"]
        try:
            validate_webhook_url(url)
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages) from exc
        return url


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = ["url", "events_display", "is_active", "failing_since", "disabled_at"]
    list_filter = ["is_active"]
    search_fields = ["url", "description"]
    readonly_fields = ["signing_secret", "failing_since", "disabled_at", "created_at", "updated_at"]

    @admin.display(description="signing secret")
    def signing_secret(self, obj: WebhookEndpoint) -> str:
        """The secret the receiver verifies ``X-Shop-Signature`` with (set it up there)."""
        return format_html("<code>{}</code>", obj.secret) if obj.pk else "(generated on save)"

    @admin.display(description="events")
    def events_display(self, obj: WebhookEndpoint) -> str:
        return ", ".join(obj.events)

    def save_model(self, request, obj, form, change) -> None:
        data = {name: form.cleaned_data[name] for name in ("url", "events", "description")}
        data["is_active"] = form.cleaned_data["is_active"]
        if form.cleaned_data["secret"]:
            data["secret"] = form.cleaned_data["secret"]
        if change:
            current = WebhookEndpoint.objects.get(pk=obj.pk)
            saved = services.update_endpoint(endpoint=current, **data)
        else:
            saved = services.create_endpoint(**data)
        obj.pk = saved.pk
        obj.secret = saved.secret

    def delete_model(self, request, obj) -> None:
        services.delete_endpoint(endpoint=obj)


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    fields = ("created_at", "status_code", "latency_ms", "error")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


_DELIVERY_FIELDS = (
    "endpoint",
    "event_type",
    "event_id",
    "status",
    "attempts",
    "next_attempt_at",
    "delivered_at",
    "last_error",
    "created_at",
    "payload_display",
)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    """The delivery log: read-only, each attempt's status code and latency, "redeliver"."""

    list_display = ["event_type", "endpoint", "status", "attempts", "created_at", "delivered_at"]
    list_filter = ["status", "event_type", "endpoint"]
    list_select_related = ["endpoint"]
    search_fields = ["event_id", "endpoint__url"]
    date_hierarchy = "created_at"
    fields = _DELIVERY_FIELDS
    readonly_fields = _DELIVERY_FIELDS
    inlines = [WebhookAttemptInline]
    actions = ["redeliver"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_redeliver_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("notifications.redeliver_webhook")

    @admin.display(description="payload")
    def payload_display(self, obj: WebhookDelivery) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.payload, indent=2, sort_keys=True))

    @admin.action(description="Redeliver the selected events", permissions=["redeliver"])
    def redeliver(self, request, queryset) -> None:
        count = 0
        for delivery in queryset.order_by("pk"):
            services.redeliver(delivery=delivery)
            count += 1
        self.message_user(request, f"Queued {count} event(s) for delivery.", messages.SUCCESS)
