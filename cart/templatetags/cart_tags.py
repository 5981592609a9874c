"""Cart template tags: the header's cart badge. ``{% load cart_tags %}``."""

from django import template
from django.db.models import Q, Sum
from django.http import HttpRequest

from cart.middleware import cookie_cart_token
from cart.models import CartLine, CartStatus

register = template.Library()


def open_cart_filter(request: HttpRequest) -> Q | None:
    """Return the CartLine filter of the viewer's open cart, or None when there is none.

    The viewer's cart as ``cart.middleware`` defines it, checked to be open (and, for a
    cookie, anonymous) in the same query as the count.
    """
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return Q(cart__user=user, cart__status=CartStatus.OPEN)
    token = cookie_cart_token(request)
    if token is None:
        return None
    return Q(cart__token=token, cart__user__isnull=True, cart__status=CartStatus.OPEN)


@register.simple_tag(takes_context=True)
def cart_count(context) -> int:
    """Return the number of items in the viewer's open cart (one query, none without a cart).

    The result is memoized on the request so the header and a page can both show it.
    """
    request = context.get("request")
    if request is None:
        return 0
    if hasattr(request, "_shop_cart_count"):
        return request._shop_cart_count
    lookup = open_cart_filter(request)
    count = 0
    if lookup is not None:
        count = CartLine.objects.filter(lookup).aggregate(n=Sum("quantity"))["n"] or 0
    request._shop_cart_count = count
    return count
