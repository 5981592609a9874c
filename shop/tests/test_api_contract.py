"""API.md "General": the schema documents the error bodies the server really sends, and
every paginated list answers a bad page with 400 ``validation_error``."""

import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def _ref_name(response: dict) -> str | None:
    ref = response.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref")
    return ref.rsplit("/", 1)[-1] if ref else None


def test_error_bodies_require_code_and_detail_and_errors_only_with_validation(schema):
    components = schema["components"]["schemas"]
    assert set(components["Error"]["required"]) == {"code", "detail"}
    # a 400 may be parse_error or a domain code (cart_empty, idempotency_key_required)
    # without `errors`, so the 400 body must not require it.
    assert set(components["ValidationError"]["required"]) == {"code", "detail"}
    assert "errors" in components["ValidationError"]["properties"]


def test_every_documented_error_response_uses_the_error_shape(schema):
    for path, operations in schema["paths"].items():
        if not path.startswith("/api/v1/"):
            continue
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if int(status) >= 400:
                    assert _ref_name(response) in {"Error", "ValidationError"}, (
                        method,
                        path,
                        status,
                    )


def test_every_paginated_list_documents_400_for_a_bad_page(schema):
    for path, operations in schema["paths"].items():
        operation = operations.get("get")
        if operation is None:
            continue
        params = {p["name"] for p in operation.get("parameters", [])}
        if {"page", "page_size"} <= params:
            assert "400" in operation["responses"], path


def test_a_page_past_the_end_of_a_public_list_is_400():
    response = APIClient().get("/api/v1/products/", {"page": 999})
    assert response.status_code == 400
    body = response.json()
    assert (body["code"], list(body["errors"])) == ("validation_error", ["page"])


def test_page_size_garbage_falls_back_to_the_default():
    response = APIClient().get("/api/v1/categories/", {"page_size": "lots"})
    assert response.status_code == 200
    assert set(response.json()) == {"count", "next", "previous", "results"}


def test_the_documented_response_headers(schema):
    cart = schema["paths"]["/api/v1/cart/items/"]["post"]["responses"]["201"]
    assert "X-Cart-Token" in cart["headers"]
    checkout = schema["paths"]["/api/v1/orders/"]["post"]["responses"]
    assert "Idempotent-Replayed" in checkout["201"]["headers"]
    # Failures are not kept against the key, so only a placed order is ever replayed.
    assert "Idempotent-Replayed" not in checkout["402"].get("headers", {})
