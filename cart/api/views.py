"""Cart endpoints (API.md "Cart"). Anonymous clients may write: their cart is their token."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import PasswordChangeNotRequired
from cart import services
from cart.api.serializers import (
    AddItemSerializer,
    ApplyVoucherSerializer,
    CartSerializer,
    MergeSerializer,
    ReservationSerializer,
    SetQuantitySerializer,
    ShippingMethodSerializer,
)
from cart.pricing.services import apply_voucher, remove_voucher
from cart.pricing.shipping import check_country, shipping_quotes
from cart.receivers import CART_COOKIE
from cart.selectors import cart_summary
from inventory.errors import TooManyHolds
from shop.api.schema import FORBIDDEN, NOT_FOUND, THROTTLED, UNAUTHENTICATED, VALIDATION, error
from shop.api.throttling import ActionThrottleMixin, AddToCartThrottle

TOKEN_HEADER = "X-Cart-Token"
COOKIE_MAX_AGE = 60 * 60 * 24 * 30
TOKEN_PARAM = OpenApiParameter(
    TOKEN_HEADER,
    type=str,
    location=OpenApiParameter.HEADER,
    required=False,
    description="Anonymous cart token (browsers send the cart_token cookie instead).",
)
TOKEN_RESPONSE_HEADER = OpenApiParameter(
    TOKEN_HEADER,
    type=str,
    location=OpenApiParameter.HEADER,
    response=[200, 201],
    description="The cart's token; anonymous clients send it back as the X-Cart-Token header.",
)
CONFLICT = error("Not enough stock (insufficient_stock, with available) or checkout running")
# Anyone may use a cart, but a bad or expired access token is still 401, and a user who must
# change their password gets 403 password_change_required.
AUTH_ERRORS = {
    401: error("The access token sent is invalid or expired"),
    403: error("The user must change their password first (password_change_required)"),
}


def request_token(request) -> str | None:
    """Return the cart token the client sent (header first, then the cookie)."""
    return request.headers.get(TOKEN_HEADER) or request.COOKIES.get(CART_COOKIE)


class CartAPIView(APIView):
    permission_classes = [AllowAny, PasswordChangeNotRequired]

    def get_cart(self, *, create: bool = False):
        return services.get_cart_for(
            user=self.request.user, token=request_token(self.request), create=create
        )

    def cart_response(self, cart, status: int = 200) -> Response:
        data = CartSerializer(cart_summary(cart=cart)).data
        response = Response(data, status=status)
        if cart is not None:
            response[TOKEN_HEADER] = str(cart.token)
            if cart.user_id is None:
                response.set_cookie(
                    CART_COOKIE,
                    str(cart.token),
                    max_age=COOKIE_MAX_AGE,
                    httponly=True,
                    samesite="Lax",
                    secure=self.request.is_secure(),
                )
        return response


@extend_schema(tags=["cart"], parameters=[TOKEN_PARAM, TOKEN_RESPONSE_HEADER])
class CartDetailView(CartAPIView):
    @extend_schema(
        summary="The current cart",
        responses={200: CartSerializer, 404: NOT_FOUND, **AUTH_ERRORS},
    )
    def get(self, request):
        return self.cart_response(self.get_cart())


@extend_schema(tags=["cart"], parameters=[TOKEN_PARAM, TOKEN_RESPONSE_HEADER])
class CartItemsView(ActionThrottleMixin, CartAPIView):
    # Counted in the same per-client budget as the HTML add-to-cart form (shop.ratelimits).
    action_throttle = AddToCartThrottle

    @extend_schema(
        summary="Add an item (the same SKU adds to its line)",
        request=AddItemSerializer,
        responses={
            201: CartSerializer,
            400: VALIDATION,
            404: NOT_FOUND,
            409: CONFLICT,
            429: THROTTLED,
            **AUTH_ERRORS,
        },
    )
    def post(self, request):
        serializer = AddItemSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        cart = services.add_item_for(
            user=request.user, token=request_token(request), **serializer.validated_data
        )
        return self.cart_response(cart, status=201)


LINE_ID = OpenApiParameter("line_id", int, OpenApiParameter.PATH, description="Cart line id")


@extend_schema(tags=["cart"], parameters=[TOKEN_PARAM, LINE_ID, TOKEN_RESPONSE_HEADER])
class CartItemView(CartAPIView):
    def _cart_or_404(self):
        cart = self.get_cart()
        if cart is None:
            raise services.CartNotFound("Cart line not found.")
        return cart

    @extend_schema(
        summary="Change a line's quantity (0 removes it)",
        request=SetQuantitySerializer,
        responses={
            200: CartSerializer,
            400: VALIDATION,
            404: NOT_FOUND,
            409: CONFLICT,
            429: THROTTLED,
            **AUTH_ERRORS,
        },
    )
    def patch(self, request, line_id: int):
        serializer = SetQuantitySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        cart = self._cart_or_404()
        services.set_quantity(cart=cart, line_id=line_id, **serializer.validated_data)
        return self.cart_response(cart)

    @extend_schema(
        summary="Remove a line",
        request=None,
        responses={
            200: CartSerializer,
            404: NOT_FOUND,
            409: CONFLICT,
            429: THROTTLED,
            **AUTH_ERRORS,
        },
    )
    def delete(self, request, line_id: int):
        cart = self._cart_or_404()
        services.remove_line(cart=cart, line_id=line_id)
        return self.cart_response(cart)


@extend_schema(tags=["cart"], parameters=[TOKEN_RESPONSE_HEADER])
class CartMergeView(CartAPIView):
    permission_classes = [IsAuthenticated, PasswordChangeNotRequired]

    @extend_schema(
        summary="Merge a guest cart into the signed-in user's cart",
        request=MergeSerializer,
        responses={
            200: CartSerializer,
            400: VALIDATION,
            401: UNAUTHENTICATED,
            403: FORBIDDEN,
            404: NOT_FOUND,
            409: CONFLICT,
            429: THROTTLED,
        },
    )
    def post(self, request):
        serializer = MergeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        cart = services.merge_guest_cart(
            user=request.user, token=serializer.validated_data["token"]
        )
        return self.cart_response(cart)


@extend_schema(tags=["cart"], parameters=[TOKEN_PARAM])
class CartReserveView(CartAPIView):
    @extend_schema(
        summary="Start checkout: hold the cart's stock (one hold per cart, see README)",
        description=(
            "Holds each line (at most SHOP_MAX_HELD_UNITS_PER_CART units in all) for "
            "SHOP_RESERVATION_TTL seconds. Again while the hold is active: the current lines "
            "are held and the expiry is kept."
        ),
        request=None,
        responses={
            200: ReservationSerializer,
            400: error("Cart is empty (cart_empty)"),
            404: NOT_FOUND,
            409: CONFLICT,
            429: error(
                "Too many requests (throttled), or no hold can start now (too_many_holds, "
                "with retry_after seconds): the client IP already has SHOP_MAX_HOLDS_PER_IP "
                "carts holding stock, or the cart started SHOP_MAX_HOLDS_PER_CART_PER_HOUR "
                "holds this hour. The order can still be placed. See Retry-After."
            ),
            **AUTH_ERRORS,
        },
    )
    def post(self, request):
        cart = self.get_cart()
        if cart is None:
            raise services.CartEmpty()
        try:
            expires_at = services.reserve_cart(cart=cart, client_ip=request.client_ip)
        except TooManyHolds as exc:
            headers = {"Retry-After": str(exc.retry_after)}
            return Response(exc.as_dict(), status=exc.status_code, headers=headers)
        return Response(ReservationSerializer({"expires_at": expires_at}).data)


@extend_schema(tags=["cart"], parameters=[TOKEN_PARAM])
class ShippingMethodsView(CartAPIView):
    @extend_schema(
        summary="The shipping methods serving a country, priced for the caller's cart",
        description="Priced by the cart's weight and subtotal, cheapest first; a method may "
        "be free above a threshold. An empty list: nothing ships there.",
        parameters=[
            OpenApiParameter(
                "country",
                str,
                OpenApiParameter.QUERY,
                required=True,
                description="ISO 3166-1 alpha-2 code, e.g. GB",
            ),
        ],
        responses={
            200: ShippingMethodSerializer(many=True),
            400: VALIDATION,
            404: NOT_FOUND,
            **AUTH_ERRORS,
        },
    )
    def get(self, request):
        country = check_country(request.query_params.get("country"))
        summary = cart_summary(cart=self.get_cart())
        quotes = shipping_quotes(
            country=country, subtotal=summary.subtotal, weight_grams=summary.weight_grams
        )
        return Response(ShippingMethodSerializer(quotes, many=True).data)


VOUCHER_REFUSED = error(
    "Validation error, or the voucher cannot be used on this cart: voucher_not_found, "
    "voucher_expired, voucher_min_spend (with min_spend), voucher_used_up, "
    "voucher_not_applicable"
)


@extend_schema(tags=["cart"], parameters=[TOKEN_PARAM, TOKEN_RESPONSE_HEADER])
class CartVoucherView(CartAPIView):
    @extend_schema(
        summary="Apply a voucher code to the cart (replaces any other)",
        request=ApplyVoucherSerializer,
        responses={
            200: CartSerializer,
            400: VOUCHER_REFUSED,
            404: NOT_FOUND,
            409: CONFLICT,
            **AUTH_ERRORS,
        },
    )
    def post(self, request):
        serializer = ApplyVoucherSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        cart = self.get_cart()
        if cart is None:
            raise services.CartEmpty()
        cart = apply_voucher(cart=cart, code=serializer.validated_data["code"])
        return self.cart_response(cart)

    @extend_schema(
        summary="Take the voucher off the cart",
        request=None,
        responses={200: CartSerializer, 404: NOT_FOUND, 409: CONFLICT, **AUTH_ERRORS},
    )
    def delete(self, request):
        cart = self.get_cart()
        if cart is not None:
            cart = remove_voucher(cart=cart)
        return self.cart_response(cart)
