from rest_framework import serializers

from notifications.webhooks.models import WebhookEndpoint, WebhookEventType


class WebhookEndpointSerializer(serializers.ModelSerializer):
    """An endpoint; ``secret`` is write-only (returned once, in the ``201`` of a create)."""

    events = serializers.ListField(
        child=serializers.ChoiceField(choices=WebhookEventType.choices), allow_empty=False
    )
    secret = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=False,
        max_length=128,
        help_text="Shared signing secret; generated when omitted on create.",
    )
    url = serializers.URLField(max_length=500)

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "url",
            "events",
            "secret",
            "description",
            "is_active",
            "failing_since",
            "disabled_at",
            "created_at",
        ]
        read_only_fields = ["id", "failing_since", "disabled_at", "created_at"]


class CreatedWebhookEndpointSerializer(WebhookEndpointSerializer):
    """The ``201`` of a create: the endpoint with its secret, shown this once."""

    secret = serializers.CharField(read_only=True)
