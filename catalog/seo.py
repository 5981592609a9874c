"""What search engines and link previews read: sitemap, robots.txt, canonical URLs, Open
Graph and schema.org Product JSON-LD.

Canonical URLs never carry filters, sorting or the selected variant: a category's pages are
``/c/<slug>/`` (``?page=N`` from page 2), a product is ``/p/<slug>/``; search results are
``noindex`` (they are endless combinations of one catalogue).
"""

import json
from decimal import Decimal

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.db.models import Max, QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from catalog.models import Category, Product
from catalog.selectors import OUT_OF_STOCK, image_url

SCHEMA_AVAILABILITY = {True: "https://schema.org/InStock", False: "https://schema.org/OutOfStock"}
#: Paths that are private or endless for crawlers (robots.txt).
DISALLOWED = (
    "/admin/",
    "/api/",
    "/accounts/",
    "/cart/",
    "/checkout/",
    "/orders/",
    "/wishlist/",
    "/alerts/",
    "/search/",
)


class ProductSitemap(Sitemap):
    changefreq = "daily"
    priority = 0.8
    limit = 10000

    def items(self) -> QuerySet[Product]:
        return Product.objects.purchasable().only("slug", "updated_at").order_by("pk")

    def location(self, item: Product) -> str:
        return reverse("catalog:product", args=[item.slug])

    def lastmod(self, item: Product):
        return item.updated_at


class CategorySitemap(Sitemap):
    changefreq = "daily"
    priority = 0.6

    def items(self) -> QuerySet[Category]:
        # lastmod: the newest change of a product filed directly in the category.
        return Category.objects.annotate(last_change=Max("products__updated_at")).order_by("path")

    def location(self, item: Category) -> str:
        return reverse("catalog:category", args=[item.slug])

    def lastmod(self, item: Category):
        return item.last_change


SITEMAPS = {"categories": CategorySitemap, "products": ProductSitemap}


@require_GET
@cache_control(max_age=3600, public=True)
def robots_txt(request: HttpRequest) -> HttpResponse:
    """Serve ``/robots.txt``: everything but private and endless paths, and the sitemap."""
    lines = ["User-agent: *", *(f"Disallow: {path}" for path in DISALLOWED)]
    lines.append(f"Sitemap: {request.build_absolute_uri(reverse('sitemap'))}")
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")


def product_json_ld(
    *, request: HttpRequest, product: Product, variants: list, images: list
) -> dict:
    """Return schema.org ``Product`` data: offers per variant (price, currency, availability)
    and the aggregate rating when there are published reviews."""
    url = request.build_absolute_uri(reverse("catalog:product", args=[product.slug]))
    data: dict = {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": product.name,
        "url": url,
        "category": product.category.name,
    }
    if product.description:
        data["description"] = product.description[:5000]
    pictures = [image_url(name=img.image.name) for img in images]
    if pictures:
        data["image"] = [request.build_absolute_uri(p) for p in pictures if p]
    if len(variants) == 1:
        data["sku"] = variants[0].sku
    data["offers"] = [
        {
            "@type": "Offer",
            "sku": variant.sku,
            "name": variant.name or product.name,
            "price": f"{Decimal(variant.price):.2f}",
            "priceCurrency": settings.SHOP_CURRENCY,
            "availability": SCHEMA_AVAILABILITY[variant.hint != OUT_OF_STOCK],
            "url": f"{url}?sku={variant.sku}",
        }
        for variant in variants
    ]
    if product.rating_count:
        data["aggregateRating"] = {
            "@type": "AggregateRating",
            "ratingValue": f"{product.rating_average:.1f}",
            "reviewCount": product.rating_count,
            "bestRating": "5",
            "worstRating": "1",
        }
    return data


def json_ld(data: dict) -> SafeString:
    """Return ``data`` as JSON safe inside a ``<script type="application/ld+json">``."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return mark_safe(text)  # noqa: S308 - escaped above, as json_script does
