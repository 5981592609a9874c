"""API.md "General" and "Accounts" rules not pinned elsewhere: JSON errors on odd ids under a
CSRF-enforcing client, pagination shape and bad pages of the address book."""

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.tests.factories import AddressFactory

pytestmark = pytest.mark.django_db

ADDRESSES = "/api/v1/addresses/"


@pytest.fixture
def strict_client(user) -> APIClient:
    """A JWT client that, like a real one, gets Django's CSRF checks on non-API views."""
    client = APIClient(enforce_csrf_checks=True)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


@pytest.mark.parametrize("pk", ["abc", "-1", "0.5", "true", "99999999999999999999999"])
@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_odd_address_ids_answer_json_404_for_every_method(strict_client, method, pk):
    response = getattr(strict_client, method)(f"{ADDRESSES}{pk}/", {}, format="json")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "not_found"


def test_address_list_is_paginated_20_by_default(user_client, user):
    AddressFactory.create_batch(21, user=user)
    body = user_client.get(ADDRESSES).json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert (body["count"], len(body["results"]), body["previous"]) == (21, 20, None)
    assert "page=2" in body["next"]
    second = user_client.get(ADDRESSES, {"page": 2}).json()
    assert (len(second["results"]), second["next"]) == (1, None)


@pytest.mark.parametrize("page", ["99", "0", "abc"])
def test_a_page_that_does_not_exist_is_a_validation_error(user_client, user, page):
    AddressFactory(user=user)
    response = user_client.get(ADDRESSES, {"page": page})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error"
    assert list(body["errors"]) == ["page"]


def test_an_invalid_access_token_is_401_with_the_error_shape(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-jwt")
    response = api_client.get("/api/v1/auth/me/")
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_address_country_is_returned_upper_case_alpha_2(user_client):
    body = {
        "full_name": "Ada",
        "line1": "1 Road",
        "city": "Paris",
        "postal_code": "75001",
        "country": "fr",
    }
    created = user_client.post(ADDRESSES, body, format="json").json()
    assert created["country"] == "FR"
    assert created["line2"] == ""
    assert created["phone"] == ""
    assert created["is_default"] is True
