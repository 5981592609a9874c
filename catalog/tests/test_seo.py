"""Sitemap, robots.txt, canonical links, Open Graph and the Product JSON-LD."""

import json
import re
from decimal import Decimal
from xml.etree import ElementTree

import pytest

from accounts.tests.factories import UserFactory
from catalog import reviews
from catalog.tests.factories import (
    CategoryFactory,
    ProductFactory,
    ProductImageFactory,
    make_variant,
)

pytestmark = pytest.mark.django_db
SITEMAP_NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}


@pytest.fixture
def lamp(settings):
    settings.SHOP_REVIEWS_MODERATED = False
    category = CategoryFactory(name="Lighting", slug="lighting")
    product = ProductFactory(
        name="Desk lamp", slug="desk-lamp", category=category, description="A bright <lamp>."
    )
    make_variant(product=product, sku="LAMP-R", name="Red", price=Decimal("20.00"), on_hand=4)
    make_variant(product=product, sku="LAMP-B", name="Blue", price=Decimal("22.50"), on_hand=0)
    ProductImageFactory(product=product, image="products/lamp.png")
    for rating in (5, 4):
        reviews.submit_review(
            user=UserFactory(),
            product=product,
            rating=rating,
            title="",
            body="Lovely lamp, bright.",
        )
    return product


def _json_ld(html: str) -> dict:
    match = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert match, "no JSON-LD on the page"
    return json.loads(match.group(1))


def test_the_product_page_carries_valid_product_json_ld(lamp, client):
    data = _json_ld(client.get("/p/desk-lamp/?sku=LAMP-B").content.decode())
    assert data["@context"] == "https://schema.org"
    assert data["@type"] == "Product"
    assert data["name"] == "Desk lamp"
    assert data["description"] == "A bright <lamp>."
    assert data["url"] == "http://testserver/p/desk-lamp/"
    assert data["image"] == ["http://testserver/media/products/lamp.png"]
    offers = {offer["sku"]: offer for offer in data["offers"]}
    assert set(offers) == {"LAMP-R", "LAMP-B"}
    for offer in offers.values():
        assert offer["@type"] == "Offer"
        assert re.fullmatch(r"\d+\.\d{2}", offer["price"])
        assert offer["priceCurrency"] == "USD"
    assert offers["LAMP-R"]["price"] == "20.00"
    assert offers["LAMP-R"]["availability"] == "https://schema.org/InStock"
    assert offers["LAMP-B"]["availability"] == "https://schema.org/OutOfStock"
    assert data["aggregateRating"] == {
        "@type": "AggregateRating",
        "ratingValue": "4.5",
        "reviewCount": 2,
        "bestRating": "5",
        "worstRating": "1",
    }


def test_the_json_ld_cannot_close_its_script_tag(lamp, client):
    lamp.description = "</script><script>alert(1)</script>"
    lamp.save()
    html = client.get("/p/desk-lamp/").content.decode()
    assert "</script><script>alert(1)" not in html
    assert _json_ld(html)["description"] == "</script><script>alert(1)</script>"


def test_product_pages_have_one_canonical_without_the_variant_and_open_graph(lamp, client):
    html = client.get("/p/desk-lamp/?sku=LAMP-B").content.decode()
    assert html.count('rel="canonical"') == 1
    assert '<link rel="canonical" href="http://testserver/p/desk-lamp/">' in html
    assert '<meta property="og:type" content="product">' in html
    assert '<meta property="og:title" content="Desk lamp">' in html
    assert 'property="og:image" content="http://testserver/media/products/lamp.png"' in html


def test_filters_and_sorting_do_not_make_new_canonicals(lamp, client):
    plain = client.get("/c/lighting/").content.decode()
    sorted_page = client.get("/c/lighting/", {"sort": "price", "in_stock": "on"}).content.decode()
    canonical = '<link rel="canonical" href="http://testserver/c/lighting/">'
    assert canonical in plain
    assert canonical in sorted_page
    assert "noindex" not in plain
    assert 'content="noindex, follow"' in sorted_page
    assert 'content="noindex, follow"' in client.get("/search/", {"q": "lamp"}).content.decode()


def test_the_sitemap_lists_categories_and_active_products_with_lastmod(lamp, client):
    ProductFactory(slug="draft-thing", status="draft")
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    root = ElementTree.fromstring(response.content)
    urls = {
        u.find("s:loc", SITEMAP_NS).text: u.find("s:lastmod", SITEMAP_NS)
        for u in root.findall("s:url", SITEMAP_NS)
    }
    assert "http://testserver/p/desk-lamp/" in urls
    assert "http://testserver/c/lighting/" in urls
    assert "http://testserver/p/draft-thing/" not in urls
    assert urls["http://testserver/p/desk-lamp/"] is not None
    assert urls["http://testserver/c/lighting/"] is not None


def test_robots_txt_points_at_the_sitemap_and_keeps_private_pages_out(client):
    response = client.get("/robots.txt")
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert "Sitemap: http://testserver/sitemap.xml" in text
    for path in ("/admin/", "/cart/", "/checkout/", "/api/", "/search/"):
        assert f"Disallow: {path}" in text
