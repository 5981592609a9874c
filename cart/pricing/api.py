"""Staff voucher endpoints: ``/api/v1/vouchers/`` (API.md "Pricing")."""

from django.db.models import QuerySet
from django.db.models.functions import Lower
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.permissions import PasswordChangeNotRequired
from cart.pricing.models import Voucher
from cart.pricing.services import delete_voucher, save_voucher
from catalog.models import Category, Product
from shop.api.fields import SlugRelatedField
from shop.api.permissions import HasStaffPermission
from shop.api.schema import NOT_FOUND, VALIDATION, error

MONEY = {"max_digits": 12, "decimal_places": 2}
STAFF = {401: error("Not signed in"), 403: error("Not staff with the voucher permission")}
CODE = OpenApiParameter("code", str, OpenApiParameter.PATH, description="Voucher code (any case)")


class VoucherSerializer(serializers.ModelSerializer):
    value = serializers.DecimalField(**MONEY, min_value=0, required=False)
    min_spend = serializers.DecimalField(**MONEY, min_value=0, required=False, allow_null=True)
    products = SlugRelatedField(
        slug_field="slug", queryset=Product.objects.all(), many=True, required=False
    )
    categories = SlugRelatedField(
        slug_field="slug", queryset=Category.objects.all(), many=True, required=False
    )

    class Meta:
        model = Voucher
        fields = [
            "code",
            "description",
            "kind",
            "value",
            "min_spend",
            "starts_at",
            "ends_at",
            "usage_limit",
            "per_customer_limit",
            "times_used",
            "active",
            "automatic",
            "products",
            "categories",
        ]
        read_only_fields = ["times_used"]

    def validate(self, attrs):
        starts = attrs.get("starts_at", getattr(self.instance, "starts_at", None))
        ends = attrs.get("ends_at", getattr(self.instance, "ends_at", None))
        if starts and ends and ends <= starts:
            raise serializers.ValidationError({"ends_at": ["Must be after starts_at."]})
        return attrs

    def create(self, validated_data):
        return save_voucher(data=validated_data)

    def update(self, instance, validated_data):
        return save_voucher(voucher=instance, data=validated_data)


@extend_schema_view(
    list=extend_schema(
        tags=["vouchers"],
        summary="Vouchers and promotions (staff)",
        responses={200: VoucherSerializer(many=True), **STAFF},
    ),
    create=extend_schema(
        tags=["vouchers"],
        summary="Create a voucher (staff)",
        responses={201: VoucherSerializer, 400: VALIDATION, **STAFF},
    ),
    partial_update=extend_schema(
        tags=["vouchers"],
        summary="Change a voucher (staff)",
        parameters=[CODE],
        responses={200: VoucherSerializer, 400: VALIDATION, 404: NOT_FOUND, **STAFF},
    ),
    destroy=extend_schema(
        tags=["vouchers"],
        summary="Delete a voucher (staff); one already used is deactivated instead",
        parameters=[CODE],
        responses={204: None, 404: NOT_FOUND, **STAFF},
    ),
)
class VoucherViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    permission_classes = [HasStaffPermission, PasswordChangeNotRequired]
    required_permissions = {
        "list": ("cart.view_voucher",),
        "create": ("cart.add_voucher",),
        "partial_update": ("cart.change_voucher",),
        "destroy": ("cart.delete_voucher",),
    }
    serializer_class = VoucherSerializer
    lookup_field = "code"
    lookup_value_regex = "[^/]+"
    http_method_names = ["get", "post", "patch", "delete", "options", "head"]

    def get_queryset(self) -> QuerySet[Voucher]:
        return Voucher.objects.prefetch_related("products", "categories").order_by(
            "-created_at", "id"
        )

    def get_object(self) -> Voucher:
        code = self.kwargs["code"]
        if "\x00" in code:
            raise Http404
        voucher = (
            self.get_queryset()
            .annotate(code_lower=Lower("code"))
            .filter(code_lower=code.lower())
            .first()
        )
        if voucher is None:
            raise Http404
        return voucher

    def destroy(self, request: Request, *args, **kwargs) -> Response:
        delete_voucher(voucher=self.get_object())
        return Response(status=204)
