"""Catalogue template tags: the category menu, money, product images and stock words.

``{% load catalog_tags %}``. The header's cart badge is ``cart_tags`` (the catalogue knows
nothing of carts).
"""

from decimal import Decimal, InvalidOperation

from django import template
from django.conf import settings

from catalog import thumbnails
from catalog.cache import cached
from catalog.models import Category
from catalog.selectors import image_url as storage_image_url

register = template.Library()

CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CAD": "CA$", "AUD": "A$"}
STOCK_LABELS = {
    "in_stock": "In stock",
    "low_stock": "Only a few left",
    "out_of_stock": "Out of stock",
}


def root_categories(request=None) -> list[Category]:
    """Return the top-level categories in menu order.

    Cached per catalog version (``catalog.cache``: no query on a warm cache, one otherwise)
    and memoized on the request.
    """
    if request is not None and hasattr(request, "_shop_root_categories"):
        return request._shop_root_categories
    roots = cached(
        "root-categories",
        (),
        lambda: list(Category.objects.filter(parent__isnull=True).order_by("position", "name")),
    )
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
    return storage_image_url(name=str(name)) or ""


THUMBNAIL_TARGETS = {"product": thumbnails.PRODUCT_IMAGE, "category": thumbnails.CATEGORY_IMAGE}


@register.simple_tag
def thumbnail(source, alias: str, target: str = "product") -> thumbnails.Thumbnail | None:
    """Return ``src``/``srcset``/``width``/``height`` of ``alias`` of a stored image (or None).

    ``{% thumbnail product.first_image "card" as thumb %}``; ``source`` is a storage name or
    an image field's file, ``target`` ``"product"`` or ``"category"``. No query, no storage
    lookup (``catalog.thumbnails``).
    """
    name = getattr(source, "name", source)
    if not name:
        return None
    return thumbnails.thumbnail(source=str(name), target=THUMBNAIL_TARGETS[target], alias=alias)


@register.filter
def stock_label(hint: str) -> str:
    """Return the shopper-facing words for a stock hint code."""
    return STOCK_LABELS.get(hint, "")


@register.filter
def initial(text) -> str:
    """Return the first letter of ``text`` upper-cased (image placeholders)."""
    text = str(text or "").strip()
    return text[:1].upper() or "?"
