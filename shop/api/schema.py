"""Reusable OpenAPI pieces: the error body every endpoint can answer with."""

from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

ErrorSerializer = inline_serializer(
    name="Error",
    fields={
        "code": serializers.CharField(),
        "detail": serializers.CharField(),
    },
)

ValidationErrorSerializer = inline_serializer(
    name="ValidationError",
    fields={
        "code": serializers.CharField(default="validation_error"),
        "detail": serializers.CharField(),
        "errors": serializers.DictField(child=serializers.ListField(child=serializers.CharField())),
    },
)


def error(description: str) -> OpenApiResponse:
    """Return an OpenAPI response documenting the standard error body."""
    return OpenApiResponse(response=ErrorSerializer, description=description)


VALIDATION = OpenApiResponse(response=ValidationErrorSerializer, description="Invalid input")
UNAUTHENTICATED = error("Missing or invalid credentials")
FORBIDDEN = error("Not allowed (staff only, or password change required)")
NOT_FOUND = error("Not found (or belongs to another user)")
THROTTLED = error("Too many requests; see Retry-After")
