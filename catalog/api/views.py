"""Catalog endpoints: public reads, staff writes (parse → service → serialize)."""

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import SAFE_METHODS, AllowAny
from rest_framework.response import Response

from accounts.permissions import PasswordChangeNotRequired
from catalog import services
from catalog.api.filters import LISTING_PARAMS, ProductFilter
from catalog.api.serializers import (
    CategoryDetailSerializer,
    CategoryInputSerializer,
    CategorySerializer,
    ProductDetailSerializer,
    ProductInputSerializer,
    ProductSummarySerializer,
    ProductUpdateSerializer,
    StaffProductSerializer,
    StaffVariantWithProductSerializer,
    VariantInputSerializer,
    VariantUpdateSerializer,
    VariantWithProductSerializer,
)
from catalog.cache import CachedCountPaginator, cached
from catalog.concurrency import etag, version_from_if_match
from catalog.errors import CategoryCycle
from catalog.models import Category, Product, Variant
from catalog.selectors import product_detail, variants_with_stock
from shop.api.pagination import PageNumberPagination
from shop.api.permissions import HasStaffPermission
from shop.api.schema import (
    FORBIDDEN,
    NOT_FOUND,
    THROTTLED,
    UNAUTHENTICATED,
    VALIDATION,
    error,
)

TAGS = ["catalog"]
# A SKU or slug already in use is a 400 too: ``validation_error`` on its field.
STAFF_ERRORS = {400: VALIDATION, 401: UNAUTHENTICATED, 403: FORBIDDEN, 429: THROTTLED}
STALE = error("The row changed since the ETag given in If-Match (`precondition_failed`)")
IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="The ETag of the GET the change is based on: a stale one answers 412.",
)


def expected_version(request) -> int | None:
    """Return the version ``If-Match`` asks the write to be based on (None: unchecked)."""
    return version_from_if_match(request.headers.get("If-Match"))


def with_etag(response: Response, version: int) -> Response:
    response["ETag"] = etag(version)
    return response


class ProductPagination(PageNumberPagination):
    """The shop's pagination; with a ``count_key`` the COUNT is cached (``catalog.cache``)."""

    count_key = None

    def django_paginator_class(self, object_list, per_page):
        if self.count_key is None:
            return Paginator(object_list, per_page)
        return CachedCountPaginator(object_list, per_page, count_key=self.count_key)


def _filter_values(request, names) -> tuple:
    """Return the query parameters among ``names`` that are set, as a hashable cache key."""
    params = request.query_params
    return tuple((name, params[name]) for name in names if name in params)


class StaffWritesMixin:
    """Reads are public; every other method needs staff with the action's permission in
    ``required_permissions`` (401 anonymous, 403 ``permission_denied`` otherwise).

    Staff holding ``staff_view_permission`` read the staff view (drafts, inactive rows,
    stock); other staff read what shoppers read.
    """

    required_permissions: dict[str, tuple[str, ...]] = {}
    staff_view_permission = ""

    def get_permissions(self):
        if self.request.method in SAFE_METHODS:
            return [AllowAny(), PasswordChangeNotRequired()]
        return [HasStaffPermission(), PasswordChangeNotRequired()]

    def is_staff(self) -> bool:
        if self.request.method not in SAFE_METHODS:
            return True  # a write: HasStaffPermission let it through
        user = self.request.user
        return bool(
            user
            and user.is_authenticated
            and user.is_staff
            and user.has_perm(self.staff_view_permission)
        )


@extend_schema_view(
    list=extend_schema(
        tags=TAGS,
        summary="List categories",
        parameters=[
            OpenApiParameter(
                "parent",
                OpenApiTypes.STR,
                description="Children of the category with this slug; empty for the roots.",
            )
        ],
        responses={200: CategorySerializer(many=True), 400: VALIDATION},
    ),
    retrieve=extend_schema(
        tags=TAGS,
        summary="A category with its children and ancestors (with an ETag)",
        responses={200: CategoryDetailSerializer, 404: NOT_FOUND},
    ),
    create=extend_schema(
        tags=TAGS,
        summary="Create a category (staff)",
        request=CategoryInputSerializer,
        responses={201: CategoryDetailSerializer, **STAFF_ERRORS},
    ),
    partial_update=extend_schema(
        tags=TAGS,
        summary="Rename or move a category (staff); a move into its own subtree is a 400",
        parameters=[IF_MATCH],
        request=CategoryInputSerializer,
        responses={200: CategoryDetailSerializer, 404: NOT_FOUND, 412: STALE, **STAFF_ERRORS},
    ),
    destroy=extend_schema(
        tags=TAGS,
        summary="Delete an empty category (staff)",
        responses={
            204: None,
            404: NOT_FOUND,
            409: error("It still has subcategories or products (`category_not_empty`)"),
            **STAFF_ERRORS,
        },
    ),
)
class CategoryViewSet(
    StaffWritesMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    lookup_field = "slug"
    lookup_value_regex = "[^/]+"
    filter_backends: list = []
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    required_permissions = {
        "create": ("catalog.add_category",),
        "partial_update": ("catalog.change_category",),
        "destroy": ("catalog.delete_category",),
    }
    staff_view_permission = "catalog.view_category"

    def get_queryset(self) -> QuerySet[Category]:
        qs = Category.objects.select_related("parent")
        if self.action != "list":
            return qs
        if "parent" in self.request.query_params:
            slug = self.request.query_params["parent"]
            if not slug:
                qs = qs.filter(parent__isnull=True)
            else:
                parent = Category.objects.filter(slug=slug).first()
                if parent is None:
                    raise ValidationError({"parent": ["Unknown category."]})
                qs = qs.filter(parent=parent)
        return qs.order_by("depth", "position", "name", "id")

    def get_serializer_class(self):
        return CategoryDetailSerializer if self.action != "list" else CategorySerializer

    def _detail(self, category: Category, status_code: int = status.HTTP_200_OK) -> Response:
        fresh = Category.objects.select_related("parent").get(pk=category.pk)
        data = CategoryDetailSerializer(fresh, context=self.get_serializer_context()).data
        return with_etag(Response(data, status=status_code), fresh.version)

    def retrieve(self, request, *args, **kwargs):
        category = self.get_object()
        return with_etag(Response(self.get_serializer(category).data), category.version)

    def create(self, request, *args, **kwargs):
        serializer = CategoryInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        category = services.create_category(**serializer.validated_data)
        return self._detail(category, status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        category = self.get_object()
        serializer = CategoryInputSerializer(
            data=request.data, partial=True, context={"category": category}
        )
        serializer.is_valid(raise_exception=True)
        try:
            category = services.update_category(
                category=category,
                expected_version=expected_version(request),
                **serializer.validated_data,
            )
        except CategoryCycle as exc:
            raise ValidationError({"parent": [exc.detail]}) from exc
        return self._detail(category)

    def destroy(self, request, *args, **kwargs):
        services.delete_category(category=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    list=extend_schema(
        tags=TAGS,
        summary="List products",
        responses={200: ProductSummarySerializer(many=True), 400: VALIDATION},
    ),
    retrieve=extend_schema(
        tags=TAGS,
        summary="A product with its variants and images",
        description="Staff also see draft and archived products, inactive variants and stock.",
        responses={200: ProductDetailSerializer, 404: NOT_FOUND},
    ),
    create=extend_schema(
        tags=TAGS,
        summary="Create a product with its variants (staff)",
        request=ProductInputSerializer,
        responses={201: StaffProductSerializer, **STAFF_ERRORS},
    ),
    partial_update=extend_schema(
        tags=TAGS,
        summary="Update a product (staff); If-Match makes it conditional",
        parameters=[IF_MATCH],
        request=ProductUpdateSerializer,
        responses={200: StaffProductSerializer, 404: NOT_FOUND, 412: STALE, **STAFF_ERRORS},
    ),
    destroy=extend_schema(
        tags=TAGS,
        summary="Archive a product (staff); products are never hard-deleted here",
        responses={204: None, 404: NOT_FOUND, **STAFF_ERRORS},
    ),
)
class ProductViewSet(
    StaffWritesMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    lookup_field = "slug"
    lookup_value_regex = "[^/]+"
    filterset_class = ProductFilter
    pagination_class = ProductPagination
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    required_permissions = {
        "create": ("catalog.add_product",),
        "partial_update": ("catalog.change_product",),
        "destroy": ("catalog.delete_product",),
        "add_variant": ("catalog.add_variant",),
    }
    staff_view_permission = "catalog.view_product"

    def get_queryset(self) -> QuerySet[Product]:
        # The list's queryset is built once, by ProductFilter (from the validated filters).
        return Product.objects.all()

    def list(self, request, *args, **kwargs):
        """Shoppers' pages are cached per catalog version; staff always read the database."""
        if self.is_staff():
            return super().list(request, *args, **kwargs)
        filters = _filter_values(request, LISTING_PARAMS)
        self.paginator.count_key = ("product-list", filters)
        page = _filter_values(request, ("page", self.paginator.page_size_query_param))
        key = (request.build_absolute_uri("/"), filters, page)
        return Response(cached("product-list", key, self._list_data))

    def _list_data(self) -> dict:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        data = self.get_serializer(page, many=True).data
        return dict(self.get_paginated_response(data).data)

    def retrieve(self, request, *args, **kwargs):
        """Shoppers' product pages are cached per catalog version; staff's never."""
        if self.is_staff():
            product = self.get_object()
            return with_etag(Response(self.get_serializer(product).data), product.version)
        key = (request.build_absolute_uri("/"), self.kwargs["slug"])
        return Response(cached("product-detail", key, self._detail_data))

    def _detail_data(self) -> dict:
        return dict(self.get_serializer(self.get_object()).data)

    def get_serializer_class(self):
        if self.action == "list":
            return ProductSummarySerializer
        if self.is_staff():
            return StaffProductSerializer
        return ProductDetailSerializer

    def filter_queryset(self, queryset):
        if self.action != "list":
            return queryset
        return super().filter_queryset(queryset)

    def get_object(self) -> Product:
        try:
            product = product_detail(slug=self.kwargs["slug"], include_inactive=self.is_staff())
        except Product.DoesNotExist as exc:
            raise Http404 from exc
        self.check_object_permissions(self.request, product)
        return product

    def _staff_response(self, product: Product, status_code=status.HTTP_200_OK) -> Response:
        fresh = product_detail(slug=product.slug, include_inactive=True)
        data = StaffProductSerializer(fresh, context=self.get_serializer_context()).data
        return with_etag(Response(data, status=status_code), fresh.version)

    def create(self, request, *args, **kwargs):
        serializer = ProductInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        product = services.create_product(**serializer.validated_data, user=request.user)
        return self._staff_response(product, status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        product = self.get_object()
        serializer = ProductUpdateSerializer(data=request.data, context={"product": product})
        serializer.is_valid(raise_exception=True)
        product = services.update_product(
            product=product, expected_version=expected_version(request), **serializer.validated_data
        )
        return self._staff_response(product)

    def destroy(self, request, *args, **kwargs):
        services.archive_product(product=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        tags=TAGS,
        summary="Add a variant to a product (staff)",
        request=VariantInputSerializer,
        responses={
            201: StaffVariantWithProductSerializer,
            404: NOT_FOUND,
            **STAFF_ERRORS,
        },
    )
    @action(detail=True, methods=["post"], url_path="variants")
    def add_variant(self, request, slug=None):
        product = self.get_object()
        serializer = VariantInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        variant = services.add_variant(
            product=product, data=serializer.validated_data, user=request.user
        )
        return Response(
            _staff_variant_data(variant.pk, self.get_serializer_context()),
            status=status.HTTP_201_CREATED,
        )


def _staff_variant_data(pk: int, context: dict) -> dict:
    variant = variants_with_stock().select_related("product").get(pk=pk)
    return StaffVariantWithProductSerializer(variant, context=context).data


@extend_schema_view(
    retrieve=extend_schema(
        tags=TAGS,
        summary="A variant by SKU (case-insensitive) with its product",
        responses={200: VariantWithProductSerializer, 404: NOT_FOUND},
    ),
    partial_update=extend_schema(
        tags=TAGS,
        summary="Update a variant (staff); If-Match makes it conditional",
        parameters=[IF_MATCH],
        request=VariantUpdateSerializer,
        responses={
            200: StaffVariantWithProductSerializer,
            404: NOT_FOUND,
            412: STALE,
            **STAFF_ERRORS,
        },
    ),
)
class VariantViewSet(
    StaffWritesMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    lookup_field = "sku"
    lookup_value_regex = "[^/]+"
    http_method_names = ["get", "patch", "head", "options"]
    filter_backends: list = []
    required_permissions = {"partial_update": ("catalog.change_variant",)}
    staff_view_permission = "catalog.view_variant"

    def get_queryset(self) -> QuerySet[Variant]:
        qs = variants_with_stock().select_related("product")
        if not self.is_staff():
            qs = qs.purchasable()
        return qs

    def get_serializer_class(self):
        return (
            StaffVariantWithProductSerializer if self.is_staff() else VariantWithProductSerializer
        )

    def get_object(self) -> Variant:
        variant = self.get_queryset().filter(sku__iexact=self.kwargs["sku"]).first()
        if variant is None:
            raise Http404
        self.check_object_permissions(self.request, variant)
        return variant

    def retrieve(self, request, *args, **kwargs):
        variant = self.get_object()
        response = Response(self.get_serializer(variant).data)
        return with_etag(response, variant.version) if self.is_staff() else response

    def partial_update(self, request, *args, **kwargs):
        variant = self.get_object()
        serializer = VariantUpdateSerializer(data=request.data, context={"variant": variant})
        serializer.is_valid(raise_exception=True)
        variant = services.update_variant(
            variant=variant, expected_version=expected_version(request), **serializer.validated_data
        )
        return with_etag(
            Response(_staff_variant_data(variant.pk, self.get_serializer_context())),
            variant.version,
        )
