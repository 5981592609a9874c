"""A Redis outage costs speed, not availability: a real redis-server is stopped mid-run.

The cache is configured exactly as ``CACHE_URL=redis://...`` configures it in the settings
(read in a fresh interpreter), so the timeouts and the backend under test are production's.
"""

import json
import logging
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from catalog.tests.factories import make_variant

BASE_DIR = Path(__file__).resolve().parents[2]
PRODUCTS = "/api/v1/products/?ordering=name"
HEALTHY = {"status": "ok", "database": "ok", "cache": "ok", "tasks": "ok"}


def caches_from_cache_url(url: str) -> dict:
    """Return ``CACHES`` as ``shop/settings/base.py`` builds it for ``CACHE_URL=url``."""
    env = {
        **os.environ,
        "CACHE_URL": url,
        "DEBUG": "true",
        "DJANGO_SETTINGS_MODULE": "shop.settings.base",
        "PYTHONPATH": str(BASE_DIR),
    }
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import json; from django.conf import settings; print(json.dumps(settings.CACHES))",
        ],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture
def redis_cache(redis_server, settings):
    """Point Django's cache at the test's redis-server, configured as production does."""
    settings.CACHES = caches_from_cache_url(redis_server.url)
    settings.SHOP_CATALOG_CACHE_SECONDS = 30
    return redis_server


def test_a_redis_cache_url_gives_djangos_redis_backend_with_short_timeouts():
    config = caches_from_cache_url("redis://127.0.0.1:6379/1")["default"]

    assert config["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert config["LOCATION"] == "redis://127.0.0.1:6379/1"
    assert 0 < config["OPTIONS"]["socket_connect_timeout"] <= 0.5
    assert 0 < config["OPTIONS"]["socket_timeout"] <= 0.5


def test_a_cache_url_can_raise_the_redis_timeouts():
    config = caches_from_cache_url("redis://127.0.0.1:6379/1?socket_timeout=2")["default"]

    assert config["OPTIONS"]["socket_timeout"] == 2
    assert config["OPTIONS"]["socket_connect_timeout"] == 0.25


@pytest.mark.django_db(transaction=True)
def test_a_redis_outage_keeps_the_catalogue_and_the_cart_working(
    redis_cache, settings, caplog, django_assert_num_queries
):
    # No pause after an error: every cache call below really goes to the stopped server, so
    # each path's own fallback is exercised (the pause has its own test).
    settings.SHOP_CACHE_RETRY_SECONDS = 0
    redis = redis_cache.client()
    variant = make_variant(on_hand=20, price=Decimal("12.50"))
    product = variant.product
    shopper = UserFactory()
    pages = ["/", f"/c/{product.category.slug}/", f"/p/{product.slug}/", "/search/?q=Product"]
    api, browser = APIClient(), Client()

    def catalogue_answers() -> list:
        listing = api.get(PRODUCTS)
        assert listing.status_code == 200
        for page in pages:
            response = browser.get(page)
            assert response.status_code == 200, page
            assert product.name in response.content.decode(), page
        return listing.json()["results"]

    def cart_answers(token: str | None, expected_quantity: int) -> str:
        headers = {"HTTP_X_CART_TOKEN": token} if token else {}
        added = api.post(
            "/api/v1/cart/items/", {"sku": variant.sku, "quantity": 1}, format="json", **headers
        )
        assert added.status_code == 201, added.content
        token = added["X-Cart-Token"]
        assert api.get("/api/v1/cart/", HTTP_X_CART_TOKEN=token).status_code == 200
        assert browser.post("/cart/add/", {"sku": variant.sku, "quantity": 1}).status_code == 302
        cart_page = browser.get("/cart/")
        assert cart_page.status_code == 200
        assert product.name in cart_page.content.decode()
        assert [line["quantity"] for line in added.json()["items"]] == [expected_quantity]
        return token

    # Redis up: the catalogue is served from it and the write throttle counts in it.
    assert api.get("/api/health/").json() == HEALTHY
    listed = catalogue_answers()
    with django_assert_num_queries(0):
        assert api.get(PRODUCTS).json()["results"] == listed
    token = cart_answers(None, expected_quantity=1)
    assert redis.keys("*catalog:product-list*")
    assert redis.keys("*catalog:page*")
    assert redis.keys("*throttle_anon_write*")

    redis_cache.stop()
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="shop.cache"):
        # Down: pages come from the database, writes go through, health tells.
        token = cart_answers(token, expected_quantity=2)
        assert catalogue_answers() == listed
        # Sessions and the sign-in lockout live in the database: signing in still works.
        member = Client()
        signed_in = member.post(
            "/accounts/login/", {"email": shopper.email, "password": DEFAULT_PASSWORD}
        )
        assert signed_in.status_code == 302
        assert member.get("/accounts/").status_code == 200
        health = api.get("/api/health/")
    assert health.status_code == 200
    assert health.json() == {**HEALTHY, "status": "degraded", "cache": "error"}
    warnings = " ".join(r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    for during in ("throttle anon_write", "catalog read", "health check"):
        assert f"Cache unavailable during {during}" in warnings

    redis_cache.start()  # same port, empty (no persistence)
    assert api.get("/api/health/").json() == HEALTHY
    assert catalogue_answers() == listed
    with django_assert_num_queries(0):
        assert api.get(PRODUCTS).json()["results"] == listed
    cart_answers(token, expected_quantity=3)
    assert redis.keys("*catalog:product-list*")
    assert redis.keys("*catalog:page*")
    assert redis.keys("*throttle_anon_write*")


@pytest.mark.django_db(transaction=True)
def test_after_a_cache_error_the_cache_is_skipped_for_a_while(redis_cache, settings, caplog):
    settings.SHOP_CACHE_RETRY_SECONDS = 60
    make_variant()
    api = APIClient()
    redis_cache.stop()

    with caplog.at_level(logging.WARNING, logger="shop.cache"):
        for _ in range(3):
            assert api.get(PRODUCTS).status_code == 200
            assert api.post("/api/v1/cart/items/", {}, format="json").status_code == 400
    # One failed attempt and one warning, not one per request: then the database alone.
    warnings = [r.getMessage() for r in caplog.records if r.name == "shop.cache"]
    assert len(warnings) == 1
    assert warnings[0].startswith("Cache unavailable during catalog read")

    redis_cache.start()
    assert api.get("/api/health/").json()["cache"] == "ok"  # a working cache ends the pause
    api.get(PRODUCTS)
    assert redis_cache.client().keys("*catalog:product-list*")


@pytest.mark.django_db
def test_health_reports_an_unreachable_cache_as_degraded_not_down(settings, api_client):
    settings.CACHES = caches_from_cache_url("redis://127.0.0.1:1/0")  # nothing listens there

    response = api_client.get("/api/health/")

    assert response.status_code == 200
    assert response.json() == {**HEALTHY, "status": "degraded", "cache": "error"}
