from unittest import mock

import pytest
from django.db import DatabaseError

pytestmark = pytest.mark.django_db


def test_health_reports_ok_when_the_database_answers(api_client):
    response = api_client.get("/api/health/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_health_answers_503_when_the_database_is_unreachable(api_client):
    with mock.patch("shop.api.health.connection.cursor", side_effect=DatabaseError("down")):
        response = api_client.get("/api/health/")
    assert response.status_code == 503
    assert response.json()["status"] == "error"


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
