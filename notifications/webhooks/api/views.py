"""Staff API for webhook endpoints: ``GET|POST /webhooks/``, ``GET|PATCH|DELETE /webhooks/{id}/``."""

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response

from accounts.permissions import PasswordChangeNotRequired
from notifications.webhooks import services
from notifications.webhooks.api.serializers import (
    CreatedWebhookEndpointSerializer,
    WebhookEndpointSerializer,
)
from notifications.webhooks.models import WebhookEndpoint
from shop.api.permissions import HasStaffPermission
from shop.api.schema import FORBIDDEN, NOT_FOUND, THROTTLED, UNAUTHENTICATED, VALIDATION

TAGS = ["webhooks"]
STAFF = {401: UNAUTHENTICATED, 403: FORBIDDEN}


@extend_schema_view(
    list=extend_schema(
        tags=TAGS,
        summary="Webhook endpoints (staff)",
        responses={200: WebhookEndpointSerializer(many=True), 400: VALIDATION, **STAFF},
    ),
    retrieve=extend_schema(
        tags=TAGS,
        summary="A webhook endpoint (staff)",
        responses={200: WebhookEndpointSerializer, 404: NOT_FOUND, **STAFF},
    ),
    create=extend_schema(
        tags=TAGS,
        summary="Register a webhook endpoint (staff)",
        request=WebhookEndpointSerializer,
        responses={
            201: CreatedWebhookEndpointSerializer,
            400: VALIDATION,
            429: THROTTLED,
            **STAFF,
        },
    ),
    partial_update=extend_schema(
        tags=TAGS,
        summary="Change a webhook endpoint (staff); reactivating delivers what waited",
        request=WebhookEndpointSerializer,
        responses={
            200: WebhookEndpointSerializer,
            400: VALIDATION,
            404: NOT_FOUND,
            429: THROTTLED,
            **STAFF,
        },
    ),
    destroy=extend_schema(
        tags=TAGS,
        summary="Delete a webhook endpoint and its delivery log (staff)",
        responses={204: None, 404: NOT_FOUND, 429: THROTTLED, **STAFF},
    ),
)
class WebhookEndpointViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    permission_classes = [HasStaffPermission, PasswordChangeNotRequired]
    required_permissions = {
        "list": ("notifications.view_webhookendpoint",),
        "retrieve": ("notifications.view_webhookendpoint",),
        "create": ("notifications.add_webhookendpoint",),
        "partial_update": ("notifications.change_webhookendpoint",),
        "destroy": ("notifications.delete_webhookendpoint",),
    }
    serializer_class = WebhookEndpointSerializer
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[WebhookEndpoint]:
        return WebhookEndpoint.objects.order_by("pk")

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        endpoint = services.create_endpoint(**serializer.validated_data)
        return Response(
            CreatedWebhookEndpointSerializer(endpoint).data, status=status.HTTP_201_CREATED
        )

    def partial_update(self, request, *args, **kwargs):
        endpoint = self.get_object()
        serializer = self.get_serializer(endpoint, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        endpoint = services.update_endpoint(endpoint=endpoint, **serializer.validated_data)
        return Response(WebhookEndpointSerializer(endpoint).data)

    def destroy(self, request, *args, **kwargs):
        services.delete_endpoint(endpoint=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
