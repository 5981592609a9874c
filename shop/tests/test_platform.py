from unittest import mock

import pytest
from django.db import DatabaseError

pytestmark = pytest.mark.django_db


def test_health_reports_ok_when_the_database_answers(api_client):
    response = api_client.get("/api/health/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "cache": "ok", "tasks": "ok"}


def test_health_answers_503_when_the_database_is_unreachable(api_client):
    with mock.patch("shop.api.health.connection.cursor", side_effect=DatabaseError("down")):
        response = api_client.get("/api/health/")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "error", "cache": "ok", "tasks": "ok"}


def test_unknown_api_path_answers_json_404(api_client):
    response = api_client.get("/api/v1/does-not-exist/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_responses_carry_a_request_id(api_client):
    response = api_client.get("/api/health/", HTTP_X_REQUEST_ID="abc-123")
    assert response["X-Request-ID"] == "abc-123"


def test_responses_carry_a_same_origin_script_policy(api_client):
    response = api_client.get("/api/health/")
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_ping_answers_without_the_database(api_client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = api_client.get("/api/ping/")
    assert response.json() == {"status": "ok"}


def test_writes_to_unknown_api_paths_answer_json_404_even_without_csrf():
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    response = client.post("/api/v1/cart/items", {"sku": "X"})  # no trailing slash
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_api_csrf_failures_answer_json(django_user_model):
    from django.test import Client

    user = django_user_model.objects.create_user(email="csrf@example.com", password="x")
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    response = client.patch(
        "/api/v1/auth/me/", {"first_name": "A"}, content_type="application/json"
    )
    assert response.status_code == 403
    assert response.json()["code"] in {"csrf_failed", "permission_denied"}


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/products/a%00b/",
        "/api/v1/variants/a%00b/",
        "/api/v1/categories/?parent=a%00b",
        "/api/v1/products/?search=a%00b",
    ],
)
def test_urls_with_nul_bytes_answer_400_json_on_the_api(api_client, url):
    response = api_client.get(url)
    assert response.status_code == 400
    assert response.json()["code"] == "bad_request"


def test_urls_with_nul_bytes_answer_400_on_html_pages(client):
    assert client.get("/p/a%00b/").status_code == 400
    assert client.get("/search/?q=a%00b").status_code == 400
