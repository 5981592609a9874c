import pytest
from django.http import Http404
from rest_framework import exceptions, serializers
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny
from rest_framework.test import APIRequestFactory

from shop.api.exceptions import exception_handler, flatten_errors
from shop.errors import DomainError

factory = APIRequestFactory()


class AddressIn(serializers.Serializer):
    postal_code = serializers.CharField(max_length=5)


class OrderIn(serializers.Serializer):
    shipping_address = AddressIn()
    quantity = serializers.IntegerField(min_value=1)


@api_view(["POST"])
@permission_classes([AllowAny])
def echo(request):
    OrderIn(data=request.data).is_valid(raise_exception=True)
    return None


@api_view(["GET"])
@permission_classes([AllowAny])
def boom(request):
    raise RuntimeError("secret internals")


class OutOfCheese(DomainError):
    code = "out_of_cheese"
    status_code = 409


def test_nested_validation_errors_use_dotted_paths():
    request = factory.post(
        "/x", {"shipping_address": {"postal_code": "1234567"}, "quantity": 0}, format="json"
    )
    response = echo(request)
    assert response.status_code == 400
    body = response.data
    assert body["code"] == "validation_error"
    assert set(body["errors"]) == {"shipping_address.postal_code", "quantity"}
    assert body["detail"]


def test_malformed_json_is_a_400_with_the_error_shape():
    request = factory.post("/x", b"{not json", content_type="application/json")
    response = echo(request)
    assert response.status_code == 400
    assert response.data["code"] == "parse_error"


def test_unexpected_errors_answer_500_json_without_internals():
    response = boom(factory.get("/x"))
    assert response.status_code == 500
    assert response.data == {"code": "server_error", "detail": "An unexpected error occurred."}
    assert "secret" not in str(response.data)


def test_method_not_allowed_has_a_code():
    response = echo(factory.get("/x"))
    assert response.status_code == 405
    assert response.data["code"] == "method_not_allowed"


def test_domain_errors_carry_their_code_status_and_extra_fields():
    response = exception_handler(OutOfCheese("No cheese left.", available=0), {})
    assert response.status_code == 409
    assert response.data == {"code": "out_of_cheese", "detail": "No cheese left.", "available": 0}


def test_django_404_becomes_not_found():
    response = exception_handler(Http404(), {})
    assert response.status_code == 404
    assert response.data["code"] == "not_found"


def test_throttled_carries_retry_after():
    response = exception_handler(exceptions.Throttled(wait=12.2), {})
    assert response.status_code == 429
    assert response.data["code"] == "throttled"
    assert response["Retry-After"] == "13"


@pytest.mark.parametrize(
    ("detail", "expected"),
    [
        ({"a": ["x"]}, {"a": ["x"]}),
        ({"lines": [{}, {"quantity": ["bad"]}]}, {"lines.1.quantity": ["bad"]}),
        (["oops"], {"non_field_errors": ["oops"]}),
    ],
)
def test_flatten_errors(detail, expected):
    assert flatten_errors(detail) == expected
