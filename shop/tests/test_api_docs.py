import base64
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import resolve
from drf_spectacular.generators import SchemaGenerator

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


# --- docs/api.md is kept in step with the OpenAPI schema ------------------------------------

API_DOC = Path(settings.BASE_DIR) / "docs" / "api.md"
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
#: `GET /api/v1/x/{id}/` or `GET|PATCH /api/v1/x/` in a code span (a query string may follow).
ENDPOINT = re.compile(
    r"^((?:GET|POST|PUT|PATCH|DELETE)(?:\|(?:GET|POST|PUT|PATCH|DELETE))*) (/api/\S*)$"
)
#: Served, documented, but left out of the schema on purpose (the schema and its viewers).
OUTSIDE_SCHEMA = {("GET", "/api/schema/"), ("GET", "/api/docs/"), ("GET", "/api/redoc/")}


def _normalise(path: str) -> str:
    """``/api/v1/cart/items/{line_id}/?x=1`` -> ``/api/v1/cart/items/{}/``."""
    return re.sub(r"\{[^}]*\}", "{}", path.split("?", 1)[0])


def doc_endpoints(text: str) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    """Return the ``(METHOD, path)`` pairs of the document: (implemented, planned).

    A level-1 section whose heading starts with "Planned" is planned; the rest is implemented.
    """
    implemented: set[tuple[str, str]] = set()
    planned: set[tuple[str, str]] = set()
    for section in re.split(r"(?m)^(?=# )", text):
        target = planned if section.startswith("# Planned") else implemented
        for span in re.findall(r"`([^`]+)`", section):
            match = ENDPOINT.match(" ".join(span.split()))
            if match:
                path = _normalise(match.group(2))
                target.update((method, path) for method in match.group(1).split("|"))
    return implemented, planned


def schema_endpoints() -> set[tuple[str, str]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return {
        (method.upper(), _normalise(path))
        for path, operations in schema["paths"].items()
        for method in operations
        if method.upper() in METHODS
    }


def test_every_operation_of_the_schema_is_in_docs_api_md():
    implemented, _ = doc_endpoints(API_DOC.read_text())
    missing = sorted(schema_endpoints() - implemented)
    assert not missing, (
        "Served and in the OpenAPI schema but not in docs/api.md (outside the Planned part): "
        + ", ".join(f"{m} {p}" for m, p in missing)
    )


def test_every_endpoint_docs_api_md_lists_as_served_is_in_the_schema():
    implemented, _ = doc_endpoints(API_DOC.read_text())
    for method, path in OUTSIDE_SCHEMA:
        assert (method, path) in implemented
        resolve(path)
    unknown = sorted(implemented - schema_endpoints() - OUTSIDE_SCHEMA)
    assert not unknown, (
        "docs/api.md lists these as served, but the OpenAPI schema has no such operation "
        "(mark them Planned, or fix the path or method): "
        + ", ".join(f"{m} {p}" for m, p in unknown)
    )


def test_the_doc_parser_reads_code_spans_sections_and_placeholders():
    text = """# API
- `GET|PATCH /api/v1/things/{id}/` and `POST /api/v1/things/?x=1`, not `DELETE` or `/api/`.
- A span over two lines: `GET
  /api/v1/other/`.
# Planned: later
- `GET /api/v1/later/{slug}/`
"""
    implemented, planned = doc_endpoints(text)
    assert implemented == {
        ("GET", "/api/v1/things/{}/"),
        ("PATCH", "/api/v1/things/{}/"),
        ("POST", "/api/v1/things/"),
        ("GET", "/api/v1/other/"),
    }
    assert planned == {("GET", "/api/v1/later/{}/")}
