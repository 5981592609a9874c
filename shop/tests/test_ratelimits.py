"""Per-client limits of the HTML forms and their API twins (shop/ratelimits.py).

Counted per client IP in the cache; over the limit a form answers 429 with a friendly page (an
HTMX request gets a fragment); a cache outage lets requests through with a logged warning.
"""

import logging
import shutil
import socket
import subprocess
import time

import pytest
from django.core.cache import cache

from accounts.tests.factories import UserFactory
from shop.api.throttling import AnonWriteThrottle
from shop.cache import cache_recovered

pytestmark = pytest.mark.django_db

FORMS = {
    "login": ("RATELIMIT_LOGIN", "/accounts/login/", {"email": "a@example.com", "password": "x"}),
    "register": (
        "RATELIMIT_REGISTER",
        "/accounts/register/",
        {"email": "bad", "new_password1": "x", "new_password2": "y"},
    ),
    "password_reset": (
        "RATELIMIT_PASSWORD_RESET",
        "/accounts/password/reset/",
        {"email": "someone@example.com"},
    ),
    "add_to_cart": ("RATELIMIT_ADD_TO_CART", "/cart/add/", {"sku": "NOPE", "quantity": "1"}),
}


@pytest.fixture(autouse=True)
def _fresh_counters():
    cache.clear()
    yield
    cache.clear()


@pytest.mark.parametrize("form", FORMS)
def test_each_form_answers_429_after_its_limit(client, settings, form):
    setting, url, data = FORMS[form]
    setattr(settings, setting, "3/h")
    statuses = [client.post(url, data, REMOTE_ADDR="203.0.113.1").status_code for _ in range(3)]
    assert 429 not in statuses
    assert 500 not in statuses
    limited = client.post(url, data, REMOTE_ADDR="203.0.113.1")
    assert limited.status_code == 429
    assert "429.html" in [t.name for t in limited.templates]
    assert b"You have done that too often" in limited.content
    assert int(limited["Retry-After"]) > 0
    # Another client is not affected; showing the form is never limited.
    assert client.post(url, data, REMOTE_ADDR="203.0.113.2").status_code != 429
    if form != "add_to_cart":
        assert client.get(url, REMOTE_ADDR="203.0.113.1").status_code == 200


def test_an_htmx_add_to_cart_gets_a_fragment(client, settings):
    settings.RATELIMIT_ADD_TO_CART = "1/h"
    data = {"sku": "NOPE", "quantity": "1"}
    client.post("/cart/add/", data, REMOTE_ADDR="203.0.113.3", HTTP_HX_REQUEST="true")
    limited = client.post("/cart/add/", data, REMOTE_ADDR="203.0.113.3", HTTP_HX_REQUEST="true")
    assert limited.status_code == 429
    body = limited.content.decode()
    assert 'data-testid="rate-limited"' in body
    assert "<html" not in body


def test_the_sign_in_limit_counts_right_passwords_too(client, settings):
    settings.RATELIMIT_LOGIN = "2/h"
    UserFactory(email="shopper@example.com")
    data = {"email": "shopper@example.com", "password": "pass12345!"}
    for _ in range(2):
        assert client.post("/accounts/login/", data, REMOTE_ADDR="203.0.113.4").status_code == 302
        client.logout()
    assert client.post("/accounts/login/", data, REMOTE_ADDR="203.0.113.4").status_code == 429


def test_behind_one_proxy_two_clients_are_counted_separately(client, settings):
    settings.NUM_PROXIES = 1
    settings.RATELIMIT_PASSWORD_RESET = "2/h"
    url, data = "/accounts/password/reset/", {"email": "someone@example.com"}
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    for _ in range(2):
        client.post(url, data, HTTP_X_FORWARDED_FOR="198.51.100.7", **proxy)
    assert client.post(url, data, HTTP_X_FORWARDED_FOR="198.51.100.7", **proxy).status_code == 429
    # A made-up entry to the left of what the proxy appended does not help.
    spoofed = client.post(url, data, HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.7", **proxy)
    assert spoofed.status_code == 429
    assert client.post(url, data, HTTP_X_FORWARDED_FOR="198.51.100.8", **proxy).status_code == 302


def test_without_proxies_a_forwarded_header_does_not_escape_the_limit(client, settings):
    settings.NUM_PROXIES = 0
    settings.RATELIMIT_REGISTER = "2/h"
    url, data = "/accounts/register/", {"email": "bad"}
    statuses = [
        client.post(
            url, data, REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}"
        ).status_code
        for n in range(3)
    ]
    assert statuses == [200, 200, 429]


@pytest.mark.parametrize(
    ("setting", "url", "body"),
    [
        ("RATELIMIT_LOGIN", "/api/v1/auth/token/", {"email": "a@example.com", "password": "x"}),
        ("RATELIMIT_REGISTER", "/api/v1/auth/register/", {"email": "bad"}),
        ("RATELIMIT_PASSWORD_RESET", "/api/v1/auth/password/reset/", {"email": "a@b.com"}),
        ("RATELIMIT_ADD_TO_CART", "/api/v1/cart/items/", {"sku": "NOPE", "quantity": 1}),
    ],
)
def test_the_api_twin_shares_the_forms_budget(client, api_client, settings, setting, url, body):
    setattr(settings, setting, "2/h")
    html_url = {
        "RATELIMIT_LOGIN": "/accounts/login/",
        "RATELIMIT_REGISTER": "/accounts/register/",
        "RATELIMIT_PASSWORD_RESET": "/accounts/password/reset/",
        "RATELIMIT_ADD_TO_CART": "/cart/add/",
    }[setting]
    client.post(html_url, {}, REMOTE_ADDR="203.0.113.7")
    assert api_client.post(url, body, format="json", REMOTE_ADDR="203.0.113.7").status_code != 429
    limited = api_client.post(url, body, format="json", REMOTE_ADDR="203.0.113.7")
    assert limited.status_code == 429
    assert limited.json()["code"] == "throttled"
    assert int(limited["Retry-After"]) > 0


def test_default_rates():
    from shop.settings import base

    assert (
        base.RATELIMIT_LOGIN,
        base.RATELIMIT_REGISTER,
        base.RATELIMIT_PASSWORD_RESET,
        base.RATELIMIT_ADD_TO_CART,
    ) == ("20/m", "10/h", "5/h", "60/m")


# --- a cache outage (a real redis-server, stopped mid-run) ---------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def redis_cache(settings, tmp_path):
    """Point the default cache at a real redis-server; yield a function that stops it."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    port = _free_port()
    process = subprocess.Popen(  # noqa: S603 - a fixed local binary and arguments
        [binary, "--port", str(port), "--save", "", "--appendonly", "no", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                process.kill()
                pytest.fail("redis-server did not start")
            time.sleep(0.05)
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
        }
    }

    def stop() -> None:
        process.terminate()
        process.wait(timeout=10)

    yield stop
    if process.poll() is None:
        stop()


def test_form_limits_hold_on_redis_and_fail_open_when_it_stops(
    client, settings, redis_cache, caplog
):
    settings.RATELIMIT_PASSWORD_RESET = "2/h"
    url, data = "/accounts/password/reset/", {"email": "someone@example.com"}
    statuses = [client.post(url, data, REMOTE_ADDR="203.0.113.8").status_code for _ in range(3)]
    assert statuses == [302, 302, 429]

    redis_cache()
    cache_recovered()  # no pause left over from an earlier cache error in this process
    with caplog.at_level(logging.WARNING, logger="shop.cache"):
        response = client.post(url, data, REMOTE_ADDR="203.0.113.8")
    assert response.status_code == 302
    assert "Cache unavailable during rate limit password_reset" in caplog.text


def test_api_throttles_hold_on_redis_and_fail_open_when_it_stops(
    api_client, redis_cache, caplog, monkeypatch
):
    monkeypatch.setattr(AnonWriteThrottle, "THROTTLE_RATES", {"anon_write": "2/min"})
    body = {"sku": "NOPE", "quantity": 1}
    statuses = [
        api_client.post("/api/v1/cart/items/", body, REMOTE_ADDR="203.0.113.6").status_code
        for _ in range(3)
    ]
    assert statuses[2] == 429

    redis_cache()
    cache_recovered()  # no pause left over from an earlier cache error in this process
    with caplog.at_level(logging.WARNING):
        response = api_client.post("/api/v1/cart/items/", body, REMOTE_ADDR="203.0.113.6")
    assert response.status_code not in (429, 500)
    assert "Cache unavailable during throttle anon_write" in caplog.text
