"""Storefront pages: landing, category, search, product, error pages and the cart badge."""

import re
import uuid
from decimal import Decimal

import pytest
from django.template.loader import render_to_string
from django.test import override_settings

from accounts.tests.factories import UserFactory
from cart.models import Cart, CartLine, CartStatus
from catalog.models import ProductStatus
from catalog.tests.factories import (
    CategoryFactory,
    ProductFactory,
    ProductImageFactory,
    VariantFactory,
    make_variant,
)

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def html(response) -> str:
    return response.content.decode()


def product_names(response) -> list[str]:
    return re.findall(r'class="product-card-title"><a href="[^"]+">([^<]+)</a>', html(response))


def make_product(name: str, *, category=None, price="10.00", on_hand=10, **kwargs):
    product = ProductFactory(name=name, category=category or CategoryFactory(), **kwargs)
    make_variant(product=product, price=Decimal(price), on_hand=on_hand)
    return product


# ---------------------------------------------------------------- landing


def test_home_shows_hero_search_categories_and_new_products_in_stock(client):
    shoes = CategoryFactory(name="Shoes", slug="shoes")
    CategoryFactory(name="Boots", slug="boots", parent=shoes)
    make_product("Trail Runner", category=shoes)
    make_product("Sold Out Sandal", category=shoes, on_hand=0)

    response = client.get("/")

    assert response.status_code == 200
    body = html(response)
    assert "<html" in body
    assert 'class="hero"' in body
    assert 'action="/search/"' in body
    assert 'href="/c/shoes/"' in body
    assert 'class="tile"' in body
    assert ">Shoes<" in body
    assert "Trail Runner" in product_names(response)
    assert "Sold Out Sandal" not in body


def test_home_lists_only_top_level_categories_in_the_category_grid(client):
    root = CategoryFactory(name="Garden", slug="garden")
    CategoryFactory(name="Hoses", slug="hoses", parent=root)

    body = html(client.get("/"))

    grid = body.split('class="category-grid"')[1].split("</ul>")[0]
    assert 'href="/c/garden/"' in grid
    assert 'href="/c/hoses/"' not in grid


def test_home_features_newest_products_first(client):
    older = make_product("Older Lamp")
    newer = make_product("Newer Lamp")

    names = product_names(client.get("/"))

    assert names.index(newer.name) < names.index(older.name)


def _catalog(size: int):
    for i in range(size):
        category = CategoryFactory()
        product = make_product(f"Item {i}", category=category)
        ProductImageFactory(product=product)
        VariantFactory(product=product, price=Decimal("5.00"))


@pytest.mark.parametrize("size", [1, 8])
def test_home_query_count_does_not_grow_with_the_catalog(
    client, size, django_assert_max_num_queries
):
    _catalog(size)
    with django_assert_max_num_queries(2):
        response = client.get("/")
    assert len(product_names(response)) == size


@pytest.mark.parametrize("size", [1, 8])
def test_home_query_count_for_a_signed_in_shopper_is_constant(
    client, size, django_assert_max_num_queries
):
    _catalog(size)
    client.force_login(UserFactory())
    # session, user, open cart token-free badge count, categories, featured products, the
    # viewer's wishlist (the hearts)
    with django_assert_max_num_queries(6):
        assert client.get("/").status_code == 200


# ---------------------------------------------------------------- category page


def test_category_page_lists_its_products_and_its_subcategories_products(client):
    clothing = CategoryFactory(name="Clothing", slug="clothing")
    shirts = CategoryFactory(name="Shirts", slug="shirts", parent=clothing)
    make_product("Plain Tee", category=shirts)
    make_product("Raincoat", category=clothing)
    make_product("Teapot")

    response = client.get("/c/clothing/")

    assert response.status_code == 200
    assert sorted(product_names(response)) == ["Plain Tee", "Raincoat"]
    body = html(response)
    assert "<h1" in body
    assert "Clothing" in body
    assert 'href="/c/shirts/"' in body  # subcategory filter link
    assert "2 products" in body


def test_category_page_shows_breadcrumbs_and_a_link_back_to_the_parent(client):
    clothing = CategoryFactory(name="Clothing", slug="clothing")
    CategoryFactory(name="Shirts", slug="shirts", parent=clothing)

    body = html(client.get("/c/shirts/"))

    crumbs = body.split('class="breadcrumbs"')[1].split("</nav>")[0]
    assert 'href="/c/clothing/"' in crumbs
    assert 'aria-current="page">Shirts' in crumbs


def test_unknown_category_is_a_404_page(client):
    response = client.get("/c/no-such-thing/")
    assert response.status_code == 404
    assert "couldn't find that page" in html(response)


def test_product_card_shows_price_from_stock_hint_and_image(client):
    category = CategoryFactory(slug="lamps")
    product = ProductFactory(name="Desk Lamp", category=category)
    make_variant(product=product, price=Decimal("30.00"), on_hand=3)
    make_variant(product=product, price=Decimal("24.50"), on_hand=0)
    ProductImageFactory(product=product, image="products/lamp.png", alt="A desk lamp")

    body = html(client.get("/c/lamps/"))

    assert "$24.50" in body
    assert "In stock" in body
    # The card shows the 300 px thumbnail (600 px for 2x screens), not the upload.
    thumbs = "/media/thumbs/products/lamp.png"
    assert f'src="{thumbs}.300x300_q85_crop-smart.webp"' in body
    assert (
        f'srcset="{thumbs}.300x300_q85_crop-smart.webp 1x, {thumbs}.600x600_q85_crop-smart.webp 2x"'
    ) in body
    assert 'width="300" height="300"' in body
    assert 'alt="A desk lamp"' in body
    assert f'href="/p/{product.slug}/"' in body


def test_category_htmx_request_returns_only_the_grid_partial(client):
    category = CategoryFactory(slug="mugs")
    make_product("Blue Mug", category=category)

    response = client.get("/c/mugs/", **HTMX)

    assert response.status_code == 200
    body = html(response)
    assert "<html" not in body
    assert "<header" not in body
    assert 'class="product-grid"' in body
    assert product_names(response) == ["Blue Mug"]
    assert "HX-Request" in response["Vary"]


def test_category_full_page_wraps_the_grid_in_the_htmx_form(client):
    category = CategoryFactory(slug="mugs")
    make_product("Blue Mug", category=category)

    body = html(client.get("/c/mugs/"))

    assert "<html" in body
    assert 'id="results"' in body
    assert 'hx-get="/c/mugs/"' in body
    assert 'hx-target="#results"' in body
    assert 'hx-push-url="true"' in body
    assert 'method="get" action="/c/mugs/"' in body  # works without JavaScript


def test_htmx_history_restore_and_boosted_requests_get_the_full_page(client):
    CategoryFactory(slug="mugs")

    restore = client.get("/c/mugs/", HTTP_HX_HISTORY_RESTORE_REQUEST="true", **HTMX)
    boosted = client.get("/c/mugs/", HTTP_HX_BOOSTED="true", **HTMX)

    assert "<html" in html(restore)
    assert "<html" in html(boosted)


def test_price_range_and_in_stock_filters_narrow_the_grid(client):
    category = CategoryFactory(slug="tools")
    make_product("Cheap Hammer", category=category, price="5.00")
    make_product("Mid Hammer", category=category, price="15.00")
    make_product("Dear Hammer", category=category, price="50.00")
    make_product("Gone Hammer", category=category, price="15.00", on_hand=0)

    in_range = client.get("/c/tools/", {"min_price": "10", "max_price": "20"})
    in_stock = client.get("/c/tools/", {"min_price": "10", "max_price": "20", "in_stock": "on"})

    assert sorted(product_names(in_range)) == ["Gone Hammer", "Mid Hammer"]
    assert product_names(in_stock) == ["Mid Hammer"]
    assert 'name="in_stock" value="on" checked' in html(in_stock)


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("price", ["B cheap", "C mid", "A dear"]),
        ("-price", ["A dear", "C mid", "B cheap"]),
        ("", ["A dear", "B cheap", "C mid"]),
    ],
)
def test_sort_orders_the_grid(client, sort, expected):
    category = CategoryFactory(slug="pens")
    make_product("A dear", category=category, price="30.00")
    make_product("B cheap", category=category, price="3.00")
    make_product("C mid", category=category, price="10.00")

    assert product_names(client.get("/c/pens/", {"sort": sort})) == expected


def test_newest_sort_shows_the_latest_product_first(client):
    category = CategoryFactory(slug="pens")
    make_product("First", category=category)
    make_product("Second", category=category)

    assert product_names(client.get("/c/pens/", {"sort": "newest"})) == ["Second", "First"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"min_price": "abc"}, "We ignored the minimum price"),
        ({"max_price": "-5"}, "We ignored the maximum price"),
        ({"min_price": "NaN"}, "We ignored the minimum price"),
        ({"max_price": "1" * 40}, "We ignored the maximum price"),
        ({"min_price": "50", "max_price": "10"}, "maximum price is below the minimum"),
        ({"sort": "DROP TABLE"}, "We ignored the sort order"),
    ],
)
def test_invalid_filters_show_a_friendly_message_and_still_list(client, params, message):
    category = CategoryFactory(slug="cups")
    make_product("Cup", category=category, price="20.00")

    response = client.get("/c/cups/", params)
    partial = client.get("/c/cups/", params, **HTMX)

    assert response.status_code == 200
    assert message in html(response)
    assert 'role="alert"' in html(response)
    assert partial.status_code == 200
    assert message in html(partial)


def test_valid_filters_are_still_applied_next_to_an_invalid_one(client):
    category = CategoryFactory(slug="cups")
    make_product("Cheap Cup", category=category, price="2.00")
    make_product("Big Cup", category=category, price="20.00")

    response = client.get("/c/cups/", {"min_price": "10", "sort": "bogus"})

    assert product_names(response) == ["Big Cup"]


def test_pagination_shows_24_products_a_page_with_links(client):
    category = CategoryFactory(slug="socks")
    for i in range(30):
        make_product(f"Sock {i:02d}", category=category)

    first = client.get("/c/socks/")
    second = client.get("/c/socks/", {"page": "2", "sort": "price"})

    assert len(product_names(first)) == 24
    assert len(product_names(second)) == 6
    assert "page 1 of 2" in html(first)
    assert 'href="/c/socks/?page=2"' in html(first)
    assert 'hx-get="/c/socks/?page=2"' in html(first)
    # The other parameters survive in the page links.
    assert 'href="/c/socks/?page=1&amp;sort=price"' in html(second)


@pytest.mark.parametrize("page", ["abc", "999", "-1", "0"])
def test_out_of_range_or_garbage_page_numbers_never_fail(client, page):
    category = CategoryFactory(slug="hats")
    make_product("Hat", category=category)

    response = client.get("/c/hats/", {"page": page})

    assert response.status_code == 200
    assert product_names(response) == ["Hat"]


def test_empty_category_shows_an_empty_state(client):
    CategoryFactory(slug="empty")
    body = html(client.get("/c/empty/"))
    assert "No products match" in body


def test_archived_products_are_not_listed(client):
    category = CategoryFactory(slug="bags")
    make_product("Old Bag", category=category, status=ProductStatus.ARCHIVED)
    make_product("New Bag", category=category)

    assert product_names(client.get("/c/bags/")) == ["New Bag"]


@pytest.mark.parametrize("size", [2, 30])
def test_category_query_count_does_not_grow_with_the_catalog(
    client, size, django_assert_max_num_queries
):
    parent = CategoryFactory(slug="parent")
    category = CategoryFactory(slug="furniture", parent=parent)
    CategoryFactory(parent=category)
    for i in range(size):
        product = make_product(f"Chair {i}", category=category)
        ProductImageFactory(product=product)
        VariantFactory(product=product, price=Decimal("99.00"))
    # category, ancestors, subcategories, menu, count, page, two for the facets
    with django_assert_max_num_queries(8):
        response = client.get("/c/furniture/")
    assert len(product_names(response)) == min(size, 24)
    with django_assert_max_num_queries(3):
        client.get("/c/furniture/", {"page": "2"}, **HTMX)


# ---------------------------------------------------------------- search


def test_search_finds_products_by_name_and_by_sku(client):
    make_product("Copper Kettle")
    sku_match = ProductFactory(name="Stove")
    VariantFactory(product=sku_match, sku="KET-777")
    make_product("Teapot")

    by_name = client.get("/search/", {"q": "kettle"})
    by_sku = client.get("/search/", {"q": "ket-777"})

    assert by_name.status_code == 200
    assert product_names(by_name) == ["Copper Kettle"]
    assert product_names(by_sku) == ["Stove"]
    assert "Results for “kettle”" in html(by_name)
    assert 'value="kettle"' in html(by_name)  # the query stays in the search box


def test_search_without_a_query_lists_all_products(client):
    make_product("Alpha")
    make_product("Beta")

    response = client.get("/search/")

    assert "All products" in html(response)
    assert product_names(response) == ["Alpha", "Beta"]


def test_search_with_no_match_shows_an_empty_state(client):
    make_product("Alpha")
    body = html(client.get("/search/", {"q": "zebra"}))
    assert "No products match" in body
    assert "Nothing matched “zebra”" in body


def test_search_htmx_request_returns_the_partial_and_keeps_the_query(client):
    make_product("Copper Kettle", price="40.00")
    make_product("Copper Pan", price="10.00")

    response = client.get("/search/", {"q": "copper", "sort": "price"}, **HTMX)

    assert "<html" not in html(response)
    assert product_names(response) == ["Copper Pan", "Copper Kettle"]


def test_search_survives_a_very_long_query_and_markup(client):
    response = client.get("/search/", {"q": "<script>alert(1)</script>" + "x" * 5000})
    assert response.status_code == 200
    assert "<script>alert(1)</script>" not in html(response)


# ---------------------------------------------------------------- product page


def test_product_page_shows_details_variants_and_the_add_to_cart_form(client):
    category = CategoryFactory(name="Shirts", slug="shirts")
    product = ProductFactory(
        name="Oxford Shirt",
        category=category,
        description="Crisp cotton.",
        attributes={"material": "cotton", "machine_washable": True, "sizes": ["S", "M"]},
    )
    make_variant(product=product, sku="OX-S", name="Small", price=Decimal("40.00"), on_hand=20)
    make_variant(product=product, sku="OX-M", name="Medium", price=Decimal("42.00"), on_hand=2)
    ProductImageFactory(product=product, image="products/oxford.png", alt="Oxford shirt front")

    response = client.get(f"/p/{product.slug}/")

    assert response.status_code == 200
    body = html(response)
    assert "<h1" in body
    assert "Oxford Shirt" in body
    assert "Crisp cotton." in body
    # The main image is its 600 px thumbnail (1200 px for 2x screens).
    thumbs = "/media/thumbs/products/oxford.png"
    assert f'src="{thumbs}.600x600_q85_crop-smart.webp"' in body
    assert f'{thumbs}.1200x1200_q85_crop-smart.webp 2x"' in body
    assert "Machine washable" in body
    assert "Yes" in body
    assert "S, M" in body
    assert 'name="sku" value="OX-S"' in body
    assert 'name="sku" value="OX-M"' in body
    assert 'data-price="$42.00"' in body
    assert 'data-hint="low_stock"' in body
    assert "Only a few left" in body
    assert 'method="post" action="/cart/add/"' in body
    assert 'hx-post="/cart/add/"' in body
    assert '<label for="quantity">Quantity</label>' in body
    assert 'name="quantity"' in body
    assert ">Add to cart</button>" in body
    assert 'x-data="variantPicker"' in body
    assert 'href="/c/shirts/"' in body


def test_out_of_stock_variants_are_disabled_and_not_preselected(client):
    product = ProductFactory()
    make_variant(product=product, sku="GONE-1", on_hand=0, position=0)
    make_variant(product=product, sku="HERE-1", on_hand=5, position=1)

    body = html(client.get(f"/p/{product.slug}/"))

    gone = re.search(r'<input type="radio"[^>]*value="GONE-1"[^>]*>', body).group(0)
    here = re.search(r'<input type="radio"[^>]*value="HERE-1"[^>]*>', body).group(0)
    assert "disabled" in gone
    assert "checked" not in gone
    assert "checked" in here
    assert "disabled" not in here


def test_sku_parameter_preselects_a_variant(client):
    product = ProductFactory()
    make_variant(product=product, sku="PICK-A", price=Decimal("10.00"))
    make_variant(product=product, sku="PICK-B", price=Decimal("99.00"))

    body = html(client.get(f"/p/{product.slug}/", {"sku": "pick-b"}))

    picked = re.search(r'<input type="radio"[^>]*value="PICK-B"[^>]*>', body).group(0)
    assert "checked" in picked
    assert re.search(r"data-variant-price[^>]*>\$99\.00<", body)


def test_sold_out_product_has_no_add_to_cart_button(client):
    product = ProductFactory(name="Rare Vase")
    make_variant(product=product, on_hand=0)

    response = client.get(f"/p/{product.slug}/")

    assert response.status_code == 200
    body = html(response)
    assert "sold out" in body
    assert "Add to cart" not in body


def test_single_variant_product_posts_its_sku_without_a_picker(client):
    product = ProductFactory()
    make_variant(product=product, sku="ONLY-1")

    body = html(client.get(f"/p/{product.slug}/"))

    assert 'type="hidden" name="sku" value="ONLY-1"' in body
    assert 'type="radio"' not in body


def test_stock_held_by_the_viewers_own_cart_still_counts_as_available(client):
    from inventory.tests.factories import StockHoldFactory

    variant = make_variant(on_hand=1)
    token = uuid.uuid4()
    StockHoldFactory(variant=variant, cart_token=token, quantity=1)

    mine = client.get(f"/p/{variant.product.slug}/", HTTP_COOKIE=f"cart_token={token}")
    other = client.get(f"/p/{variant.product.slug}/", HTTP_COOKIE=f"cart_token={uuid.uuid4()}")

    assert "Add to cart" in html(mine)
    assert "Add to cart" not in html(other)


@pytest.mark.parametrize("status", [ProductStatus.ARCHIVED, ProductStatus.DRAFT])
def test_archived_or_draft_product_is_a_404(client, status):
    variant = make_variant(product__status=status)
    response = client.get(f"/p/{variant.product.slug}/")
    assert response.status_code == 404
    assert "couldn't find that page" in html(response)


def test_unknown_product_is_a_404(client):
    assert client.get("/p/nothing-here/").status_code == 404


@pytest.mark.parametrize(("variants", "images"), [(1, 0), (6, 4)])
def test_product_page_query_count_is_constant(
    client, variants, images, django_assert_max_num_queries
):
    parent = CategoryFactory()
    product = ProductFactory(category=CategoryFactory(parent=parent))
    for i in range(variants):
        make_variant(product=product, on_hand=i)
    for _ in range(images):
        ProductImageFactory(product=product)
    # product, variants, images, ancestors, menu, published reviews
    with django_assert_max_num_queries(6):
        assert client.get(f"/p/{product.slug}/").status_code == 200


# ---------------------------------------------------------------- chrome: badge, menu, CSP


def _cart_with(quantity_per_line: list[int], **cart_kwargs) -> Cart:
    cart = Cart.objects.create(**cart_kwargs)
    for quantity in quantity_per_line:
        CartLine.objects.create(
            cart=cart, variant=make_variant(), quantity=quantity, unit_price=Decimal("1.00")
        )
    return cart


def badge(response) -> str:
    return re.search(r"data-cart-count[^>]*>(\d+)<", html(response)).group(1)


def test_cart_badge_counts_the_items_of_the_cookie_cart(client):
    cart = _cart_with([2, 3])
    client.cookies["cart_token"] = str(cart.token)
    assert badge(client.get("/")) == "5"


def test_cart_badge_counts_the_signed_in_users_open_cart_only(client):
    user = UserFactory()
    _cart_with([4], user=user)
    _cart_with([9], user=user, status=CartStatus.ORDERED)
    client.force_login(user)
    assert badge(client.get("/")) == "4"


@pytest.mark.parametrize("cookie", ["not-a-uuid", str(uuid.uuid4()), ""])
def test_cart_badge_is_zero_without_a_valid_open_cart(client, cookie):
    if cookie:
        client.cookies["cart_token"] = cookie
    assert badge(client.get("/")) == "0"


def test_cart_badge_ignores_a_cookie_pointing_at_a_users_cart(client):
    cart = _cart_with([3], user=UserFactory())
    client.cookies["cart_token"] = str(cart.token)
    assert badge(client.get("/")) == "0"


def test_header_has_skip_link_search_box_and_category_menu(client):
    CategoryFactory(name="Kitchen", slug="kitchen")

    body = html(client.get("/"))

    assert 'class="skip-link" href="#main"' in body
    assert 'id="main"' in body
    assert '<label class="visually-hidden" for="header-q">' in body
    assert 'class="category-nav"' in body
    assert 'href="/c/kitchen/"' in body
    assert "X-CSRFToken" in body


@pytest.mark.parametrize("url", ["/", "/c/cat/", "/search/?q=x", "/p/prod/"])
def test_pages_use_no_inline_scripts_or_handlers(client, url):
    category = CategoryFactory(slug="cat")
    make_variant(product__slug="prod", product__category=category)

    body = html(client.get(url))

    scripts = re.findall(r"<script[^>]*>", body)
    assert scripts, "the page loads its scripts"
    # JSON-LD is a data block (never executed, outside CSP's script rules); code has a src.
    code = [tag for tag in scripts if 'type="application/ld+json"' not in tag]
    assert all("src=" in tag for tag in code)
    assert not re.search(r"\son[a-z]+=", body)
    assert "/static/vendor/htmx.min.js" in body
    assert "/static/vendor/alpine-csp.min.js" in body


def test_every_text_input_on_listing_pages_has_a_label(client):
    CategoryFactory(slug="cat")
    body = html(client.get("/c/cat/"))
    for input_id in re.findall(r'<(?:input|select)[^>]*\bid="([^"]+)"', body):
        assert f'for="{input_id}"' in body, input_id


# ---------------------------------------------------------------- error pages


@override_settings(DEBUG=False)
def test_unknown_url_renders_the_styled_404_page(client):
    response = client.get("/definitely/not/here/")
    assert response.status_code == 404
    body = html(response)
    assert 'class="card error-page"' in body
    assert 'action="/search/"' in body


def test_500_page_renders_without_database_or_template_tags(django_assert_num_queries):
    with django_assert_num_queries(0):
        body = render_to_string("500.html")
    assert "Something went wrong" in body
    assert 'href="/static/css/shop.css"' in body
