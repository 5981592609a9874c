"""The payment providers' webhook endpoints (no auth, no CSRF, not throttled: the provider
signs each request and retries until it gets a 2xx)."""

from django.utils.module_loading import import_string
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from orders.errors import InvalidSignatureError
from orders.payments.gateways import InvalidWebhookSignature, PaymentGateway
from orders.payments.webhooks import handle_event
from shop.api.schema import error

#: Provider name in the URL -> its adapter (which verifies and parses the webhook).
PROVIDERS = {"stripe": "orders.payments.stripe.StripeGateway"}


class PaymentWebhookView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []
    provider = "stripe"

    @extend_schema(
        operation_id="payments_webhooks_stripe",
        summary="Stripe webhook",
        description=(
            "Stripe's event delivery. Verifies the `Stripe-Signature` header against "
            "`STRIPE_WEBHOOK_SECRET`; handles each event id once (a repeat answers 200 and "
            "does nothing). Acts on `payment_intent.succeeded`, `payment_intent.payment_failed`, "
            "`charge.refunded` and `charge.dispute.created`; other events are stored and ignored."
        ),
        auth=[],
        request=OpenApiTypes.OBJECT,
        responses={
            200: inline_serializer(
                name="WebhookReceived",
                fields={
                    "received": serializers.BooleanField(),
                    "duplicate": serializers.BooleanField(
                        help_text="True when this event id was handled before."
                    ),
                },
            ),
            400: error("`invalid_signature`: the signature is missing or does not verify."),
        },
        tags=["payments"],
    )
    def post(self, request: Request) -> Response:
        gateway: PaymentGateway = import_string(PROVIDERS[self.provider])()
        try:
            event = gateway.parse_webhook(payload=request.body, headers=dict(request.headers))
        except InvalidWebhookSignature as exc:
            raise InvalidSignatureError() from exc
        _, handled_now = handle_event(provider=self.provider, event=event)
        return Response({"received": True, "duplicate": not handled_now})
