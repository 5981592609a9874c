import base64

import pytest
from django.core.management import call_command

from accounts.tests.factories import StaffUserFactory, UserFactory

pytestmark = pytest.mark.django_db

DOC_URLS = ["/api/schema/", "/api/docs/", "/api/redoc/"]


def _basic(email: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{email}:{password}".encode()).decode()


@pytest.mark.parametrize("url", DOC_URLS)
def test_api_docs_are_closed_to_anonymous_callers(api_client, url):
    response = api_client.get(url)
    assert response.status_code in (401, 403)


@pytest.mark.parametrize("url", DOC_URLS)
def test_api_docs_refuse_customers(api_client, url):
    user = UserFactory()
    response = api_client.get(url, HTTP_AUTHORIZATION=_basic(user.email, "pass12345!"))
    assert response.status_code == 403


@pytest.mark.parametrize("url", DOC_URLS)
def test_api_docs_open_to_staff_with_http_basic(api_client, url):
    staff = StaffUserFactory()
    response = api_client.get(url, HTTP_AUTHORIZATION=_basic(staff.email, "pass12345!"))
    assert response.status_code == 200


def test_api_docs_open_to_staff_with_a_jwt(api_client):
    staff = StaffUserFactory()
    token = api_client.post(
        "/api/v1/auth/token/", {"email": staff.email, "password": "pass12345!"}, format="json"
    ).json()["access"]
    response = api_client.get("/api/schema/", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    assert b"/api/v1/orders/" in response.content


def test_openapi_schema_validates_without_warnings(tmp_path):
    out = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    text = out.read_text()
    for path in [
        "/api/v1/auth/register/",
        "/api/v1/products/{slug}/",
        "/api/v1/cart/items/",
        "/api/v1/orders/{number}/transition/",
        "/api/v1/inventory/{sku}/adjust/",
        "/api/v1/returns/{id}/receive/",
    ]:
        assert path in text, path
