"""Cached catalog reads (catalog.cache): hits run no SQL, every visible change is seen next.

Most tests use ``transactional_db``: writes really commit, so the catalog version is bumped
by the same ``transaction.on_commit`` hooks as in production. (In a ``db`` test everything
runs in one rolled-back transaction, where the cache is bypassed on purpose.)
"""

import time
import uuid
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts.tests.factories import StaffUserFactory
from catalog import cache as catalog_cache
from catalog.models import ProductStatus
from catalog.tests.factories import CategoryFactory, ProductImageFactory, make_variant
from inventory import services as inventory
from inventory.models import MovementReason, StockItem
from inventory.services import StockLine
from inventory.signals import stock_changed

PRODUCTS = "/api/v1/products/"


@pytest.fixture(autouse=True)
def _empty_cache(settings):
    settings.SHOP_CATALOG_CACHE_SECONDS = 30
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def staff_client():
    client = APIClient()
    client.force_authenticate(StaffUserFactory())
    return client


def list_row(client, slug: str, params: str = "") -> dict:
    rows = client.get(f"{PRODUCTS}?page_size=50{params}").json()["results"]
    return next(row for row in rows if row["slug"] == slug)


def variant_hint(client, slug: str) -> str:
    return client.get(f"{PRODUCTS}{slug}/").json()["variants"][0]["stock_hint"]


# ---- hits ----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("page_size", [1, 24])
def test_second_identical_list_request_runs_no_sql(
    api_client, django_assert_num_queries, page_size
):
    for _ in range(3):
        make_variant()
    url = f"{PRODUCTS}?page_size={page_size}&ordering=name"
    first = api_client.get(url)
    with django_assert_num_queries(0):
        second = api_client.get(url)
    assert second.status_code == 200
    assert second.json() == first.json()


@pytest.mark.django_db(transaction=True)
def test_other_filters_and_pages_are_cached_apart(api_client):
    cheap = make_variant(price=Decimal("5.00"))
    dear = make_variant(price=Decimal("50.00"))
    all_slugs = [p["slug"] for p in api_client.get(f"{PRODUCTS}?ordering=price").json()["results"]]
    cheap_only = api_client.get(f"{PRODUCTS}?ordering=price&max_price=10").json()
    second_page = api_client.get(f"{PRODUCTS}?ordering=price&page_size=1&page=2").json()
    assert all_slugs == [cheap.product.slug, dear.product.slug]
    assert [p["slug"] for p in cheap_only["results"]] == [cheap.product.slug]
    assert cheap_only["count"] == 1
    assert [p["slug"] for p in second_page["results"]] == [dear.product.slug]
    assert second_page["count"] == 2


@pytest.mark.django_db(transaction=True)
def test_invalid_filters_are_still_rejected_after_a_cached_hit(api_client):
    make_variant()
    assert api_client.get(f"{PRODUCTS}?in_stock=true").status_code == 200
    response = api_client.get(f"{PRODUCTS}?in_stock=maybe")
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"


@pytest.mark.django_db(transaction=True)
def test_second_identical_detail_request_runs_no_sql(api_client, django_assert_num_queries):
    variant = make_variant()
    url = f"{PRODUCTS}{variant.product.slug}/"
    first = api_client.get(url).json()
    with django_assert_num_queries(0):
        assert api_client.get(url).json() == first


@pytest.mark.django_db(transaction=True)
def test_unknown_product_is_a_404_every_time(api_client):
    for _ in range(2):
        response = api_client.get(f"{PRODUCTS}no-such-thing/")
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"


# ---- invalidation --------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_stock_adjustment_shows_in_the_next_list_and_detail(api_client):
    variant = make_variant(on_hand=0)
    slug = variant.product.slug
    assert list_row(api_client, slug)["in_stock"] is False
    assert variant_hint(api_client, slug) == "out_of_stock"

    inventory.adjust(variant=variant, delta=50, reason=MovementReason.RESTOCK)

    assert list_row(api_client, slug)["in_stock"] is True
    assert variant_hint(api_client, slug) == "in_stock"


@pytest.mark.django_db(transaction=True)
def test_allocation_and_deallocation_show_in_the_next_read(api_client):
    variant = make_variant(on_hand=3, sku="ALLOC-1")
    slug = variant.product.slug
    assert list_row(api_client, slug, "&in_stock=true")["in_stock"] is True
    lines = [StockLine(variant.pk, 3, "ALLOC-1")]

    inventory.allocate(lines=lines, order_number="T-1")
    assert variant_hint(api_client, slug) == "out_of_stock"
    assert api_client.get(f"{PRODUCTS}?in_stock=true").json()["count"] == 0

    inventory.deallocate(lines=lines, order_number="T-1")
    assert variant_hint(api_client, slug) != "out_of_stock"
    assert api_client.get(f"{PRODUCTS}?in_stock=true").json()["count"] == 1


@pytest.mark.django_db(transaction=True)
def test_holds_and_their_release_show_in_the_next_read(api_client):
    variant = make_variant(on_hand=2, sku="HOLD-1")
    slug = variant.product.slug
    assert list_row(api_client, slug)["in_stock"] is True
    cart = uuid.uuid4()

    inventory.hold_stock(cart_token=cart, lines=[StockLine(variant.pk, 2, "HOLD-1")])
    assert list_row(api_client, slug)["in_stock"] is False

    inventory.release_holds(cart_token=cart)
    assert list_row(api_client, slug)["in_stock"] is True


@pytest.mark.django_db(transaction=True)
def test_shipping_and_returns_show_in_the_next_read(api_client):
    variant = make_variant(on_hand=1, sku="SHIP-1")
    slug = variant.product.slug
    lines = [StockLine(variant.pk, 1, "SHIP-1")]
    inventory.allocate(lines=lines, order_number="T-2")
    inventory.ship(lines=lines, order_number="T-2")
    assert variant_hint(api_client, slug) == "out_of_stock"

    inventory.receive_return(lines=lines, order_number="T-2")
    assert variant_hint(api_client, slug) != "out_of_stock"


@pytest.mark.django_db(transaction=True)
def test_variant_price_update_through_the_api_shows_in_the_next_list(api_client, staff_client):
    variant = make_variant(sku="PRICE-1", price=Decimal("10.00"))
    slug = variant.product.slug
    assert list_row(api_client, slug)["price_from"] == "10.00"

    response = staff_client.patch("/api/v1/variants/price-1/", {"price": "7.25"})
    assert response.status_code == 200

    assert list_row(api_client, slug)["price_from"] == "7.25"
    assert api_client.get(f"{PRODUCTS}{slug}/").json()["variants"][0]["price"] == "7.25"


@pytest.mark.django_db(transaction=True)
def test_archiving_a_product_hides_it_from_the_next_read(api_client, staff_client):
    variant = make_variant()
    slug = variant.product.slug
    assert api_client.get(PRODUCTS).json()["count"] == 1
    assert api_client.get(f"{PRODUCTS}{slug}/").status_code == 200

    assert staff_client.delete(f"{PRODUCTS}{slug}/").status_code == 204

    assert api_client.get(PRODUCTS).json()["count"] == 0
    assert api_client.get(f"{PRODUCTS}{slug}/").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_category_rename_and_new_image_show_in_the_next_list(api_client):
    variant = make_variant()
    product = variant.product
    row = list_row(api_client, product.slug)
    assert row["image_url"] is None

    category = product.category
    category.name = "Renamed"
    category.save()
    ProductImageFactory(product=product, image="products/new.png")

    row = list_row(api_client, product.slug)
    assert row["category"]["name"] == "Renamed"
    assert row["image_url"].endswith("products/new.png")


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_change_is_never_served(api_client):
    variant = make_variant(sku="RB-1", price=Decimal("10.00"))
    slug = variant.product.slug
    assert list_row(api_client, slug)["price_from"] == "10.00"

    def change_then_fail():
        with transaction.atomic():
            variant.price = Decimal("1.00")
            variant.save()
            # Inside the writing transaction its own change is visible (cache bypassed)...
            assert list_row(api_client, slug)["price_from"] == "1.00"
            raise RuntimeError("roll back")

    with pytest.raises(RuntimeError, match="roll back"):
        change_then_fail()

    # ...and after the rollback nobody sees it.
    assert list_row(api_client, slug)["price_from"] == "10.00"


# ---- staff and settings --------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_staff_reads_bypass_the_shopper_cache(api_client, staff_client, django_assert_num_queries):
    variant = make_variant()
    url = f"{PRODUCTS}{variant.product.slug}/"
    shopper = api_client.get(url).json()
    assert "status" not in shopper

    staff = staff_client.get(url).json()
    assert staff["status"] == ProductStatus.ACTIVE
    assert "available" in staff["variants"][0]
    # ...and the staff shape was not stored for shoppers.
    with django_assert_num_queries(0):
        assert api_client.get(url).json() == shopper


@pytest.mark.django_db(transaction=True)
def test_staff_list_always_reads_the_database(staff_client):
    make_variant()
    staff_client.get(PRODUCTS)
    with CaptureQueriesContext(connection) as captured:
        assert staff_client.get(PRODUCTS).json()["count"] == 1
    assert any("COUNT" in q["sql"] for q in captured.captured_queries)


@pytest.mark.django_db(transaction=True)
def test_zero_seconds_disables_the_cache(api_client, settings, django_assert_num_queries):
    settings.SHOP_CATALOG_CACHE_SECONDS = 0
    make_variant()
    api_client.get(PRODUCTS)
    # the page and the two facet queries (whose category counts give the total: no COUNT)
    with django_assert_num_queries(3):
        assert api_client.get(PRODUCTS).json()["count"] == 1


# ---- HTML pages ----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_category_page_rows_and_count_are_cached_and_refreshed(
    client, django_assert_max_num_queries
):
    category = CategoryFactory(slug="shoes")
    variant = make_variant(on_hand=0, product__category=category, product__name="Trail Runner")
    first = client.get("/c/shoes/")
    assert "Trail Runner" in first.content.decode()
    assert "Out of stock" in first.content.decode()
    # The category, its breadcrumbs, children, the menu, the count, the rows and the rendered
    # cards all come from the cache: no query at all.
    with django_assert_max_num_queries(0):
        client.get("/c/shoes/")

    inventory.adjust(variant=variant, delta=5, reason=MovementReason.RESTOCK)
    assert "In stock" in client.get("/c/shoes/").content.decode()


@pytest.mark.django_db(transaction=True)
def test_category_page_cards_are_cached_per_filter_and_page(client):
    category = CategoryFactory(slug="shoes")
    make_variant(on_hand=0, product__category=category, product__name="Sold Out Boot")
    make_variant(on_hand=3, product__category=category, product__name="Trail Runner")
    everything = client.get("/c/shoes/").content.decode()
    assert "Sold Out Boot" in everything
    assert "Trail Runner" in everything
    in_stock = client.get("/c/shoes/?in_stock=on").content.decode()
    assert "Trail Runner" in in_stock
    assert "Sold Out Boot" not in in_stock
    assert "Sold Out Boot" in client.get("/c/shoes/").content.decode()


@pytest.mark.django_db(transaction=True)
def test_category_rename_shows_on_the_next_category_page(client):
    category = CategoryFactory(slug="shoes", name="Shoes")
    assert "Shoes" in client.get("/c/shoes/").content.decode()
    category.name = "Footwear"
    category.save()
    assert "Footwear" in client.get("/c/shoes/").content.decode()


@pytest.mark.django_db(transaction=True)
def test_an_unknown_category_is_a_404_every_time(client):
    assert client.get("/c/nowhere/").status_code == 404
    CategoryFactory(slug="nowhere")
    assert client.get("/c/nowhere/").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_product_page_is_cached_for_viewers_without_a_cart(client, django_assert_max_num_queries):
    variant = make_variant(on_hand=0, product__name="Trail Runner")
    url = f"/p/{variant.product.slug}/"
    assert client.get(url).context["sold_out"] is True
    with django_assert_max_num_queries(1) as captured:
        client.get(url)
    assert not any("catalog_variant" in q["sql"] for q in captured.captured_queries)

    inventory.adjust(variant=variant, delta=5, reason=MovementReason.RESTOCK)
    assert client.get(url).context["sold_out"] is False


@pytest.mark.django_db(transaction=True)
def test_product_page_fragments_follow_stock_and_a_holding_viewer_sees_their_own(client):
    """The gallery, buy box, details and reviews are cached HTML shared by viewers without a
    cart; the buy box is the viewer's own once their cart holds the stock."""
    variant = make_variant(on_hand=2, product__name="Trail Runner", sku="RUN-1")
    url = f"/p/{variant.product.slug}/"
    assert "Add to cart" in client.get(url).content.decode()
    other = uuid.uuid4()
    inventory.hold_stock(cart_token=other, lines=[StockLine(variant.pk, 2, "RUN-1")])
    page = client.get(url).content.decode()
    assert "sold out right now" in page  # the cached buy box went with the stock change
    assert 'name="csrfmiddlewaretoken"' in page  # forms keep the viewer's own token

    # The viewer whose cart holds the stock may still buy it: their copy is not shared.
    holder = viewer_with_cart(other)
    assert "Add to cart" in holder.get(url).content.decode()
    assert "sold out right now" in client.get(url).content.decode()


def viewer_with_cart(token):
    from django.test import Client

    viewer = Client()
    viewer.cookies["cart_token"] = str(token)
    return viewer


@pytest.mark.django_db(transaction=True)
def test_the_filter_sidebar_shows_the_filters_as_typed(client):
    category = CategoryFactory(slug="shoes")
    make_variant(on_hand=3, product__category=category, price=Decimal("20.00"))
    first = client.get("/c/shoes/?min_price=10").content.decode()
    second = client.get("/c/shoes/?min_price=10.00").content.decode()
    assert 'name="min_price" min="0" step="0.01" inputmode="decimal" placeholder' in first
    assert 'value="10"' in first
    assert 'value="10.00"' in second
    assert 'value="10.00"' not in client.get("/c/shoes/").content.decode()


# ---- the version itself --------------------------------------------------------------------


@pytest.mark.django_db  # request_started closes old database connections
def test_the_version_is_read_once_per_request_and_dropped_by_a_bump():
    from django.core.signals import request_finished, request_started

    cache.set(catalog_cache.VERSION_KEY, 100, timeout=None)
    request_started.send(sender=None)
    try:
        assert catalog_cache.catalog_version() == 100
        cache.set(catalog_cache.VERSION_KEY, 200, timeout=None)  # another process bumped
        assert catalog_cache.catalog_version() == 100  # this request keeps its version
        catalog_cache._bump_now()  # this process's own change: seen at once
        assert catalog_cache.catalog_version() == 201
    finally:
        request_finished.send(sender=None)
    # Outside a request (commands, workers) every read asks the cache.
    cache.set(catalog_cache.VERSION_KEY, 300, timeout=None)
    assert catalog_cache.catalog_version() == 300
    cache.set(catalog_cache.VERSION_KEY, 301, timeout=None)
    assert catalog_cache.catalog_version() == 301


@pytest.mark.django_db(transaction=True)
def test_bump_waits_for_commit_and_counts_once_per_transaction():
    before = catalog_cache.catalog_version()
    with transaction.atomic():
        catalog_cache.bump_catalog_version()
        catalog_cache.bump_catalog_version()
        assert catalog_cache.has_uncommitted_changes()
        assert catalog_cache.catalog_version() == before
    assert catalog_cache.catalog_version() == before + 1
    assert not catalog_cache.has_uncommitted_changes()


@pytest.mark.django_db(transaction=True)
def test_a_lost_version_key_never_revives_older_entries():
    before = catalog_cache.catalog_version()
    cache.delete(catalog_cache.VERSION_KEY)
    assert catalog_cache.catalog_version() > before
    cache.delete(catalog_cache.VERSION_KEY)
    catalog_cache.bump_catalog_version()
    assert catalog_cache.catalog_version() > before


@pytest.mark.django_db
def test_reads_inside_a_transaction_with_catalog_changes_bypass_the_cache():
    make_variant()  # this test's transaction now holds uncommitted catalog changes
    calls = []

    def build():
        calls.append(1)
        return len(calls)

    assert catalog_cache.cached("probe", "key", build) == 1
    assert catalog_cache.cached("probe", "key", build) == 2


# ---- inventory's stock_changed signal ------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_stock_changed_bumps_the_catalog_version_after_commit():
    variant = make_variant(on_hand=2)
    before = catalog_cache.catalog_version()
    with transaction.atomic():
        inventory.restock(variant=variant, quantity=1)
        # The signal waits for the commit; meanwhile this connection reads past the cache.
        assert catalog_cache.has_uncommitted_changes()
        assert catalog_cache.catalog_version() == before
    assert catalog_cache.catalog_version() == before + 1
    assert not catalog_cache.has_uncommitted_changes()


@pytest.mark.django_db(transaction=True)
def test_the_catalog_receives_stock_changed():
    before = catalog_cache.catalog_version()
    stock_changed.send(sender=StockItem)
    assert catalog_cache.catalog_version() == before + 1


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_stock_change_is_never_served(api_client):
    variant = make_variant(on_hand=0, sku="RB-2")
    slug = variant.product.slug
    assert list_row(api_client, slug)["in_stock"] is False

    def restock_then_fail():
        with transaction.atomic():
            inventory.restock(variant=variant, quantity=5)
            assert list_row(api_client, slug)["in_stock"] is True
            raise RuntimeError("roll back")

    with pytest.raises(RuntimeError, match="roll back"):
        restock_then_fail()

    assert list_row(api_client, slug)["in_stock"] is False


@pytest.mark.django_db(transaction=True)
def test_cached_product_cards_never_carry_another_viewer_s_wishlist_or_csrf_token(client):
    from django.test import Client

    from accounts.tests.factories import UserFactory
    from catalog.wishlist import add_to_wishlist

    variant = make_variant(on_hand=5)
    category_url = f"/c/{variant.product.category.slug}/"
    fan, other = UserFactory(), UserFactory()
    add_to_wishlist(user=fan, product=variant.product)
    anonymous = client.get(category_url).content.decode()  # fills the shared cache
    assert "csrfmiddlewaretoken" not in anonymous.split('class="product-grid"', 1)[1]

    fan_client, other_client = Client(), Client()
    fan_client.force_login(fan)
    other_client.force_login(other)
    for url in ("/", category_url):
        fan_page = fan_client.get(url).content.decode()
        other_page = other_client.get(url).content.decode()
        assert 'aria-pressed="true"' in fan_page, url
        assert 'aria-pressed="true"' not in other_page, url
    fan_token = fan_client.cookies["csrftoken"].value
    assert fan_token not in client.get(category_url).content.decode()


# ---- this process's copies -----------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_recent_entries_are_served_from_this_process_without_the_shared_cache(monkeypatch):
    """Keys name a version, so a process may keep its own copy: no round trip to Redis for a
    hot entry; a bump (new keys) is seen at once; objects come as fresh copies each time."""
    built = []

    def build():
        built.append(1)
        return {"rows": [1, 2, 3]}

    first = catalog_cache.cached("local-test", ("a",), build)
    shared_reads = []
    real_get = cache.get
    monkeypatch.setattr(
        cache, "get", lambda *a, **k: shared_reads.append(a[0]) or real_get(*a, **k)
    )
    second = catalog_cache.cached("local-test", ("a",), build)
    assert second == first
    assert built == [1]
    assert [key for key in shared_reads if "local-test" in key] == []
    second["rows"].append(4)  # a caller changing what it got changes no one else's copy
    assert catalog_cache.cached("local-test", ("a",), build) == {"rows": [1, 2, 3]}

    html = catalog_cache.cached("local-html", ("a",), lambda: "<ul>cards</ul>")
    assert catalog_cache.cached("local-html", ("a",), lambda: "other") is html

    CategoryFactory(slug="new-version")  # commits: the catalog version is bumped
    assert catalog_cache.cached("local-test", ("a",), build) == {"rows": [1, 2, 3]}
    assert built == [1, 1]


def test_local_copies_expire_and_keep_a_bounded_number():
    copies = catalog_cache._LocalCopies(size=2)
    copies.put("k1", "one", 60)
    copies.put("k2", "two", 60)
    copies.put("k3", "three", 60)
    assert copies.get("k1") is catalog_cache._MISSING  # least recently used, dropped
    assert copies.get("k3") == "three"
    copies.put("k4", "four", 0.001)
    time.sleep(0.01)
    assert copies.get("k4") is catalog_cache._MISSING
