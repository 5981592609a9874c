"""``request.viewer_cart_token()``: the token of the viewer's open cart, for code that must not know carts.

The catalogue counts the viewer's own stock holds as available to them, and holds are keyed
by cart token; this middleware tells it the token without the catalogue importing ``cart``.

Which cart is the viewer's (as ``cart.views.current_cart`` decides): a signed-in user's open
cart, whatever the cookie says; otherwise the ``cart_token`` cookie's. For a signed-in user
the token costs one query, run only when ``request.viewer_cart_token()`` is called, at most
once per request. An anonymous viewer's cookie token is taken as sent, without a query: a token that
is stale or not a cart holds no stock, so it changes nothing it is used for.

Needs ``AuthenticationMiddleware`` before it (``request.user``).
"""

from collections.abc import Callable
from uuid import UUID

from django.http import HttpRequest, HttpResponse

from cart.models import Cart, CartStatus
from cart.receivers import CART_COOKIE


def cookie_cart_token(request: HttpRequest) -> UUID | None:
    """Return the ``cart_token`` cookie as a UUID, or None when it is missing or malformed."""
    try:
        return UUID(request.COOKIES.get(CART_COOKIE, ""))
    except (TypeError, ValueError, AttributeError):
        return None


def viewer_cart_token(request: HttpRequest) -> UUID | None:
    """Return the token of the viewer's cart: the user's open cart, else the cookie's."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return (
            Cart.objects.filter(user=user, status=CartStatus.OPEN)
            .values_list("token", flat=True)
            .first()
        )
    return cookie_cart_token(request)


class _MemoizedToken:
    """``request.viewer_cart_token()``: computes the token on the first call, then reuses it."""

    _UNSET = object()

    def __init__(self, request: HttpRequest) -> None:
        self._request = request
        self._value: object = self._UNSET

    def __call__(self) -> UUID | None:
        if self._value is self._UNSET:
            self._value = viewer_cart_token(self._request)
        return self._value  # type: ignore[return-value]


class CartTokenMiddleware:
    """Give every request ``viewer_cart_token()``: a ``UUID`` or ``None`` (see the module)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.viewer_cart_token = _MemoizedToken(request)  # type: ignore[attr-defined]
        return self.get_response(request)
