"""Staff inventory endpoints: stock list, adjustments, movement history."""

from django.db import DataError
from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from accounts.permissions import PasswordChangeNotRequired
from inventory import services
from inventory.api.filters import StockFilter
from inventory.api.serializers import AdjustSerializer, MovementSerializer, StockRowSerializer
from inventory.models import StockItem, StockMovement
from inventory.selectors import with_available
from shop.api.permissions import HasStaffPermission
from shop.api.schema import FORBIDDEN, NOT_FOUND, THROTTLED, UNAUTHENTICATED, VALIDATION, error

TAGS = ["inventory"]
# The on-hand column is a PositiveIntegerField: 2**31 - 1 on every supported database.
MAX_ON_HAND = 2_147_483_647
TOO_MUCH_STOCK = f"On-hand stock cannot exceed {MAX_ON_HAND}."
STAFF_READ = {401: UNAUTHENTICATED, 403: FORBIDDEN}
SKU_PARAM = OpenApiParameter("sku", OpenApiTypes.STR, OpenApiParameter.PATH)


def stock_rows() -> QuerySet[StockItem]:
    rows = with_available(queryset=StockItem.objects.select_related("variant__product"))
    return rows.order_by("variant__sku", "pk")


@extend_schema_view(
    list=extend_schema(
        tags=TAGS,
        summary="Stock rows (staff)",
        responses={200: StockRowSerializer(many=True), 400: VALIDATION, **STAFF_READ},
    ),
    retrieve=extend_schema(
        tags=TAGS,
        summary="The stock row of a SKU (staff)",
        parameters=[SKU_PARAM],
        responses={200: StockRowSerializer, 404: NOT_FOUND, **STAFF_READ},
    ),
)
class InventoryViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    permission_classes = [HasStaffPermission, PasswordChangeNotRequired]
    required_permissions = {
        "list": ("inventory.view_stockitem",),
        "retrieve": ("inventory.view_stockitem",),
        "adjust": ("inventory.adjust_stock",),
        "movements": ("inventory.view_stockmovement",),
    }
    serializer_class = StockRowSerializer
    filterset_class = StockFilter
    lookup_field = "sku"
    lookup_value_regex = "[^/]+"

    def get_queryset(self) -> QuerySet[StockItem]:
        return stock_rows()

    def get_stock(self, queryset: QuerySet[StockItem] | None = None) -> StockItem:
        """Return the stock row of the URL's SKU (case-insensitive); 404 when there is none."""
        sku = self.kwargs["sku"]
        # PostgreSQL refuses NUL characters in a query parameter; such a SKU cannot exist.
        if "\x00" in sku:
            raise Http404
        queryset = StockItem.objects.select_related("variant") if queryset is None else queryset
        item = queryset.filter(variant__sku__iexact=sku).first()
        if item is None:
            raise Http404
        return item

    def _row(self, item: StockItem) -> Response:
        return Response(StockRowSerializer(stock_rows().get(pk=item.pk)).data)

    def retrieve(self, request, sku=None):
        return Response(StockRowSerializer(self.get_stock(stock_rows())).data)

    @extend_schema(
        tags=TAGS,
        summary="Adjust on-hand stock (staff)",
        parameters=[SKU_PARAM],
        request=AdjustSerializer,
        responses={
            200: StockRowSerializer,
            400: VALIDATION,
            404: NOT_FOUND,
            409: error("On-hand would drop below the allocated quantity (insufficient_stock)"),
            429: THROTTLED,
            **STAFF_READ,
        },
    )
    @action(detail=True, methods=["post"])
    def adjust(self, request, sku=None):
        item = self.get_stock()
        serializer = AdjustSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        delta = serializer.validated_data["delta"]
        if item.on_hand + delta > MAX_ON_HAND:
            raise ValidationError({"delta": [TOO_MUCH_STOCK]})
        try:
            services.adjust(variant=item.variant, user=request.user, **serializer.validated_data)
        except DataError as exc:  # a concurrent adjustment crossed the ceiling first
            raise ValidationError({"delta": [TOO_MUCH_STOCK]}) from exc
        return self._row(item)

    @extend_schema(
        tags=TAGS,
        summary="Stock movement history of a SKU (staff), newest first",
        parameters=[SKU_PARAM],
        responses={
            200: MovementSerializer(many=True),
            400: VALIDATION,
            404: NOT_FOUND,
            **STAFF_READ,
        },
    )
    @action(detail=True, methods=["get"], filterset_class=None, filter_backends=[])
    def movements(self, request, sku=None):
        item = self.get_stock()
        qs = StockMovement.objects.filter(variant_id=item.variant_id).select_related("user")
        page = self.paginate_queryset(qs.order_by("-created_at", "-id"))
        data = MovementSerializer(page, many=True).data
        return self.get_paginated_response(data)
