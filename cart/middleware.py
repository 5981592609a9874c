"""``request.cart_token``: the token of the viewer's open cart, for code that must not know carts.

The catalogue counts the viewer's own stock holds as available to them, and holds are keyed
by cart token; this middleware tells it the token without the catalogue importing ``cart``.

Which cart is the viewer's (as ``cart.views.current_cart`` decides): a signed-in user's open
cart, whatever the cookie says; otherwise the ``cart_token`` cookie's. For a signed-in user
the token costs one query, run only if ``request.cart_token`` is read, at most once per
request. An anonymous viewer's cookie token is taken as sent, without a query: a token that
is stale or not a cart holds no stock, so it changes nothing it is used for.

Needs ``AuthenticationMiddleware`` before it (``request.user``).
"""

from collections.abc import Callable
from uuid import UUID

from django.http import HttpRequest, HttpResponse
from django.utils.functional import cached_property

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


_REQUEST_CLASSES: dict[type, type] = {}


def _with_cart_token(request_class: type) -> type:
    """Return a subclass of ``request_class`` with a lazy, memoized ``cart_token``.

    A property, not a ``SimpleLazyObject``: the value may be ``None``, and ``token is None``
    must work on it (a lazy proxy of ``None`` is not ``None``).
    """
    subclass = _REQUEST_CLASSES.get(request_class)
    if subclass is None:
        namespace = {"cart_token": cached_property(viewer_cart_token), "__module__": __name__}
        subclass = type(request_class.__name__, (request_class,), namespace)
        _REQUEST_CLASSES[request_class] = subclass
    return subclass


class CartTokenMiddleware:
    """Give every request a lazy ``cart_token`` (a ``UUID`` or ``None``, see the module)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.__class__ = _with_cart_token(request.__class__)
        return self.get_response(request)
