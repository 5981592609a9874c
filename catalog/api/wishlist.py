"""The signed-in shopper's wishlist: ``/api/v1/wishlist/`` (parse → catalog.wishlist)."""

from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts.permissions import PasswordChangeNotRequired
from catalog import wishlist
from catalog.api.serializers import WishlistEntrySerializer, WishlistInputSerializer
from catalog.models import Product
from shop.api.pagination import PageNumberPagination
from shop.api.schema import NOT_FOUND, THROTTLED, UNAUTHENTICATED, VALIDATION

TAGS = ["wishlist"]


@extend_schema_view(
    list=extend_schema(
        tags=TAGS,
        summary="The wishlist, newest first",
        responses={200: WishlistEntrySerializer(many=True), 401: UNAUTHENTICATED},
    ),
    create=extend_schema(
        tags=TAGS,
        summary="Save a product (201; 200 when it was already saved)",
        request=WishlistInputSerializer,
        responses={
            200: WishlistEntrySerializer,
            201: WishlistEntrySerializer,
            400: VALIDATION,
            401: UNAUTHENTICATED,
            429: THROTTLED,
        },
    ),
    destroy=extend_schema(
        tags=TAGS,
        summary="Remove a product from the wishlist",
        responses={204: None, 401: UNAUTHENTICATED, 404: NOT_FOUND, 429: THROTTLED},
    ),
)
class WishlistViewSet(viewsets.GenericViewSet):
    permission_classes = [IsAuthenticated, PasswordChangeNotRequired]
    pagination_class = PageNumberPagination
    serializer_class = WishlistEntrySerializer
    lookup_field = "slug"
    lookup_value_regex = "[^/]+"
    filter_backends: list = []

    def get_queryset(self):
        return wishlist.wishlist_products(user=self.request.user)

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def create(self, request):
        serializer = WishlistInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        product = serializer.validated_data["product"]
        _, created = wishlist.add_to_wishlist(user=request.user, product=product)
        row = self.get_queryset().filter(pk=product.pk).first()
        data = self.get_serializer(row).data if row is not None else {}
        return Response(data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    def destroy(self, request, slug=None):
        product = get_object_or_404(Product, slug=slug)
        if not wishlist.remove_from_wishlist(user=request.user, product=product):
            raise Http404("This product is not in your wishlist.")
        return Response(status=status.HTTP_204_NO_CONTENT)
