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
