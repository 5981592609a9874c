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

URL_GUARD_400 = (
    "A request the server refuses to parse: a NUL character in the URL, more query "
    "parameters or a larger body than it accepts (`bad_request`)"
)


def document_url_guard(result: dict, generator, request, public) -> dict:
    """drf-spectacular postprocessing hook: every operation may answer 400 ``bad_request``.

    ``shop.middleware.RejectNullBytesMiddleware`` refuses unusable URLs before any view runs,
    and the API exception handler answers 400 to a body Django will not parse, so an
    operation whose view never answers 400 of its own still can; this documents it where the
    view's schema does not list a 400 already.
    """
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault(
        "Error",
        {
            "type": "object",
            "properties": {"code": {"type": "string"}, "detail": {"type": "string"}},
            "required": ["code", "detail"],
        },
    )
    error = {"$ref": "#/components/schemas/Error"}
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in {"get", "put", "patch", "post", "delete"}:
                continue
            operation.setdefault("responses", {}).setdefault(
                "400",
                {
                    "content": {"application/json": {"schema": error}},
                    "description": URL_GUARD_400,
                },
            )
    return result
