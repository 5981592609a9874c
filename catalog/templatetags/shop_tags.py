"""Template tags of the storefront chrome: cart badge count, category menu, money, images."""

from decimal import Decimal, InvalidOperation
from uuid import UUID

from django import template
from django.conf import settings
from django.db.models import Q, Sum

from cart.models import CartLine, CartStatus
from catalog.models import Category
from catalog.selectors import image_url as storage_image_url

register = template.Library()

CART_COOKIE = "cart_token"
CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CAD": "CA$", "AUD": "A$"}
STOCK_LABELS = {
    "in_stock": "In stock",
    "low_stock": "Only a few left",
    "out_of_stock": "Out of stock",
}


def open_cart_filter(request) -> Q | None:
    """Return the CartLine filter of the viewer's open cart, or None when there is none."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return Q(cart__user=user, cart__status=CartStatus.OPEN)
    raw = request.COOKIES.get(CART_COOKIE, "")
    try:
        token = UUID(raw)
    except (TypeError, ValueError, AttributeError):
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


def root_categories(request=None) -> list[Category]:
    """Return the top-level categories in menu order (one query, memoized on the request)."""
    if request is not None and hasattr(request, "_shop_root_categories"):
        return request._shop_root_categories
    roots = list(Category.objects.filter(parent__isnull=True).order_by("position", "name"))
    if request is not None:
        request._shop_root_categories = roots
    return roots


@register.simple_tag(takes_context=True)
def nav_categories(context) -> list[Category]:
    """Return the top-level categories for the header menu."""
    return root_categories(context.get("request"))


@register.filter
def money(value, currency: str = "") -> str:
    """Format a Decimal amount with the shop currency: ``$1,234.50`` or ``1,234.50 CHF``."""
    if value is None or value == "":
        return ""
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        return str(value)
    code = currency or settings.SHOP_CURRENCY
    symbol = CURRENCY_SYMBOLS.get(code)
    if symbol:
        sign = "-" if amount < 0 else ""
        return f"{sign}{symbol}{abs(amount):,.2f}"
    return f"{amount:,.2f} {code}"


@register.filter
def image_url(name) -> str:
    """Return the public URL of a stored image name (``""`` when there is none)."""
    if not name:
        return ""
    return storage_image_url(str(name)) or ""


@register.filter
def stock_label(hint: str) -> str:
    """Return the shopper-facing words for a stock hint code."""
    return STOCK_LABELS.get(hint, "")


@register.filter
def initial(text) -> str:
    """Return the first letter of ``text`` upper-cased (image placeholders)."""
    text = str(text or "").strip()
    return text[:1].upper() or "?"
