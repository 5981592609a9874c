"""Issue 18 (storefront polish), the catalogue pages: "from" prices, long search terms."""

import io
import re
from decimal import Decimal

import pytest

from catalog.tests.factories import CategoryFactory, ProductFactory, make_variant

pytestmark = pytest.mark.django_db


def card_price(body: str, name: str) -> str:
    card = body[body.index(f">{name}</a>") :]
    price = re.search(r'<span class="price">(.*?)</span>\s*<span class="stock-hint', card, re.S)
    assert price, f"no price on the card of {name}"
    return re.sub(r"<[^>]+>", "", price.group(1)).strip()


def test_a_card_says_from_only_when_the_variants_prices_differ(client):
    category = CategoryFactory(slug="kitchen")
    mugs = ProductFactory(name="Mugs", category=category)
    make_variant(product=mugs, price=Decimal("8.00"), sku="MUG-S")
    make_variant(product=mugs, price=Decimal("8.00"), sku="MUG-L")
    kettle = ProductFactory(name="Kettle", category=category)
    make_variant(product=kettle, price=Decimal("45.00"), sku="KET-1")
    pots = ProductFactory(name="Pots", category=category)
    make_variant(product=pots, price=Decimal("20.00"), sku="POT-S")
    make_variant(product=pots, price=Decimal("35.00"), sku="POT-L")

    body = client.get("/c/kitchen/").content.decode()

    assert card_price(body, "Mugs") == "$8.00"
    assert card_price(body, "Kettle") == "$45.00"
    assert card_price(body, "Pots") == "from $20.00"


def test_a_100_character_search_term_is_shown_in_full(client):
    term = "a" * 100
    response = client.get("/search/", {"q": term})
    assert response.status_code == 200
    assert term in response.content.decode()


def test_the_demo_seed_puts_products_in_categories_that_fit_them():
    from django.core.management import call_command

    from catalog.models import Category, Product
    from catalog.seed_data import CATEGORIES

    call_command("seed_shop", "--products", "120", stdout=io.StringIO())

    fits = {}  # leaf slug -> {noun: materials}
    for slug, _name, _description, children, products, *_ in CATEGORIES:
        fits.update({child[0]: child[2] for child in children} if children else {slug: products})
    assert not Product.objects.filter(category__children__isnull=False).exists(), (
        "products sit only in leaf categories"
    )
    for product in Product.objects.select_related("category"):
        nouns = fits[product.category.slug]
        noun = next((n for n in nouns if product.name.endswith(f" {n}")), None)
        assert noun, f"{product.name} does not belong in {product.category.name}"
        assert product.attributes["material"] in nouns[noun], product.name
    decor = Category.objects.get(slug="decor")
    assert not Product.objects.filter(category=decor, name__contains="Saucepan").exists()
    assert not Product.objects.filter(
        name__contains="T-Shirt", attributes__material="leather"
    ).exists()
