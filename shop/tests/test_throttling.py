import pytest
from django.core.cache import cache

from accounts.tests.factories import UserFactory
from shop.api.throttling import AnonWriteThrottle, UserWriteThrottle

pytestmark = pytest.mark.django_db


@pytest.fixture
def low_rates(monkeypatch):
    """Rates as an operator would set THROTTLE_ANON_RATE / THROTTLE_USER_RATE."""
    cache.clear()
    monkeypatch.setattr(AnonWriteThrottle, "THROTTLE_RATES", {"anon_write": "3/min"})
    monkeypatch.setattr(UserWriteThrottle, "THROTTLE_RATES", {"user_write": "2/min"})
    yield
    cache.clear()


def test_anonymous_writes_beyond_the_rate_get_429_with_retry_after(api_client, low_rates):
    statuses = [
        api_client.post("/api/v1/cart/items/", {"sku": "NOPE", "quantity": 1}).status_code
        for _ in range(3)
    ]
    assert 429 not in statuses
    response = api_client.post("/api/v1/cart/items/", {"sku": "NOPE", "quantity": 1})
    assert response.status_code == 429
    assert response.json()["code"] == "throttled"
    assert int(response["Retry-After"]) > 0


def test_reads_are_not_throttled(api_client, low_rates):
    for _ in range(10):
        assert api_client.get("/api/v1/products/").status_code == 200


def test_signed_in_writes_use_the_user_rate(api_client, low_rates):
    api_client.force_authenticate(UserFactory())
    for _ in range(2):
        response = api_client.patch("/api/v1/auth/me/", {"first_name": "Ann"})
        assert response.status_code == 200
    response = api_client.patch("/api/v1/auth/me/", {"first_name": "Ann"})
    assert response.status_code == 429
    assert "Retry-After" in response


def test_default_rates_come_from_the_environment_defaults():
    from shop.settings import base

    assert base.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] == {
        "anon_write": "60/min",
        "user_write": "600/min",
    }


# --- the client IP, not a client-written header ------------------------------------------------


def _post_cart(api_client, **extra):
    return api_client.post("/api/v1/cart/items/", {"sku": "NOPE", "quantity": 1}, **extra)


def test_a_random_forwarded_header_does_not_escape_the_anonymous_throttle(
    api_client, low_rates, settings
):
    settings.NUM_PROXIES = 0
    statuses = [
        _post_cart(
            api_client, REMOTE_ADDR="203.0.113.5", HTTP_X_FORWARDED_FOR=f"10.{n}.{n}.{n}"
        ).status_code
        for n in range(1, 6)
    ]
    assert statuses[3:] == [429, 429]


def test_a_random_forwarded_entry_does_not_escape_the_throttle_behind_a_proxy(
    api_client, low_rates, settings
):
    settings.NUM_PROXIES = 1
    # The proxy (10.0.0.2) appends the address it saw; whatever the client wrote stays left.
    statuses = [
        _post_cart(
            api_client,
            REMOTE_ADDR="10.0.0.2",
            HTTP_X_FORWARDED_FOR=f"10.{n}.{n}.{n}, 198.51.100.7",
        ).status_code
        for n in range(1, 6)
    ]
    assert statuses[3:] == [429, 429]


def test_behind_a_proxy_two_clients_are_counted_separately(api_client, low_rates, settings):
    settings.NUM_PROXIES = 1
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    for _ in range(3):
        _post_cart(api_client, HTTP_X_FORWARDED_FOR="198.51.100.7", **proxy)
    assert _post_cart(api_client, HTTP_X_FORWARDED_FOR="198.51.100.7", **proxy).status_code == 429
    other = _post_cart(api_client, HTTP_X_FORWARDED_FOR="198.51.100.8", **proxy)
    assert other.status_code != 429


def test_throttles_identify_clients_by_the_client_ip(rf, settings):
    settings.NUM_PROXIES = 1
    request = rf.post("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.7")
    assert AnonWriteThrottle().get_ident(request) == "198.51.100.7"
    v6 = rf.post("/", REMOTE_ADDR="2001:db8:1:2:3:4:5:6")
    settings.NUM_PROXIES = 0
    # One IPv6 subscriber holds a /64: every address in it is one client.
    assert AnonWriteThrottle().get_ident(v6) == "2001:db8:1:2::"
