"""Reusable OpenAPI pieces: the error body every endpoint can answer with."""

from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

ErrorSerializer = inline_serializer(
    name="Error",
    fields={
        "code": serializers.CharField(help_text="Stable snake_case error code."),
        "detail": serializers.CharField(help_text="Human-readable message."),
    },
)

ValidationErrorSerializer = inline_serializer(
    name="ValidationError",
    fields={
        "code": serializers.CharField(
            help_text=(
                "`validation_error` for invalid input (with `errors`), `parse_error` for a "
                "body that is not JSON, or the endpoint's own documented code."
            )
        ),
        "detail": serializers.CharField(help_text="Human-readable message."),
        "errors": serializers.DictField(
            child=serializers.ListField(child=serializers.CharField()),
            required=False,
            help_text=(
                "With `validation_error`: messages per field; nested fields use dotted paths "
                "(`shipping_address.postal_code`, `lines.0.quantity`)."
            ),
        ),
    },
)


def error(description: str) -> OpenApiResponse:
    """Return an OpenAPI response documenting the standard error body."""
    return OpenApiResponse(response=ErrorSerializer, description=description)


def bad_request(description: str) -> OpenApiResponse:
    """Return a 400 response: ``validation_error`` (with ``errors``) or another stable code."""
    return OpenApiResponse(response=ValidationErrorSerializer, description=description)


VALIDATION = bad_request("Invalid input (`validation_error`) or malformed JSON (`parse_error`)")
UNAUTHENTICATED = error("Missing or invalid credentials")
FORBIDDEN = error(
    "Not allowed (`permission_denied`: staff only, and the staff role must hold the permission "
    "this needs), or password change required (`password_change_required`)"
)
NOT_FOUND = error("Not found (or belongs to another user)")
THROTTLED = error("Too many requests; see Retry-After")
