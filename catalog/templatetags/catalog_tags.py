"""Catalogue template tags: the category menu, money, product images and stock words.

``{% load catalog_tags %}``. The header's cart badge is ``cart_tags`` (the catalogue knows
nothing of carts).
"""

from decimal import Decimal, InvalidOperation

from django import template
from django.conf import settings
from django.utils.safestring import mark_safe

from catalog import thumbnails
from catalog.cache import cached
from catalog.models import Category
from catalog.selectors import image_url as storage_image_url
from catalog.wishlist import wishlist_product_ids

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


class CatalogFragmentNode(template.Node):
    def __init__(self, nodelist, name, vary_on, *, anonymous_only: bool = False, condition=None):
        self.nodelist = nodelist
        self.name = name
        self.vary_on = vary_on
        self.anonymous_only = anonymous_only
        self.condition = condition

    def render(self, context) -> str:
        if self.condition is not None and not self.condition.resolve(context):
            return str(self.nodelist.render(context))
        if self.anonymous_only:
            user = getattr(context.get("request"), "user", None)
            if user is not None and user.is_authenticated:
                # A signed-in viewer's copy holds their own state (wishlist hearts, a CSRF
                # token in their forms): rendered for them, never shared.
                return str(self.nodelist.render(context))
        name = str(self.name.resolve(context))
        parts = tuple(str(expression.resolve(context)) for expression in self.vary_on)
        return mark_safe(  # noqa: S308 - the fragment was rendered (and escaped) by the template
            cached(f"fragment:{name}", parts, lambda: str(self.nodelist.render(context)))
        )


@register.tag("catalog_fragment")
def catalog_fragment(parser, token) -> CatalogFragmentNode:
    """Cache a rendered piece of catalogue HTML per catalog version (``catalog.cache``).

    ``{% catalog_fragment "name" key ... %}...{% endcatalog_fragment %}``: the block is
    rendered once per catalog version and ``key`` values (which must identify everything it
    shows), then served from the cache until the catalogue changes or the entry expires
    (``SHOP_CATALOG_CACHE_SECONDS``). Only for HTML that is the same for every viewer (no
    user, cart, CSRF token or messages inside); bypassed like every catalogue read while the
    connection has uncommitted catalogue changes or the cache is off or unavailable. A block
    ending in ``anonymous_only`` (product cards: a signed-in viewer's wishlist hearts are forms
    with their CSRF token) is shared between anonymous viewers only and rendered afresh for a
    signed-in one. A block ending in ``if <variable>`` is shared only when the variable is
    true (the product page's buy box: stock hints are the viewer's own once their cart holds
    stock) and rendered afresh otherwise.
    """
    bits = token.split_contents()
    if len(bits) < 2:
        raise template.TemplateSyntaxError("catalog_fragment needs a name")
    condition = None
    if len(bits) >= 4 and bits[-2] == "if":
        condition = parser.compile_filter(bits[-1])
        bits = bits[:-2]
    anonymous_only = bits[-1] == "anonymous_only"
    if anonymous_only:
        bits = bits[:-1]
    nodelist = parser.parse(("endcatalog_fragment",))
    parser.delete_first_token()
    return CatalogFragmentNode(
        nodelist,
        parser.compile_filter(bits[1]),
        [parser.compile_filter(b) for b in bits[2:]],
        anonymous_only=anonymous_only,
        condition=condition,
    )


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


@register.simple_tag(takes_context=True)
def in_wishlist(context, product) -> bool:
    """Return whether the signed-in viewer saved ``product`` (one query per request)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    if not hasattr(request, "_shop_wishlist_ids"):
        request._shop_wishlist_ids = wishlist_product_ids(user=user)
    return product.pk in request._shop_wishlist_ids
