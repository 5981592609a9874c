"""One exception handler so every API error has the shape ``{"code", "detail", ...}``."""

import logging

from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from shop.errors import DomainError, ShopErrorCode, validation_error_body, validation_errors

logger = logging.getLogger(__name__)

_CODE_BY_CLASS = {
    exceptions.ParseError: ShopErrorCode.PARSE_ERROR,
    exceptions.AuthenticationFailed: ShopErrorCode.AUTHENTICATION_FAILED,
    exceptions.NotAuthenticated: ShopErrorCode.NOT_AUTHENTICATED,
    exceptions.PermissionDenied: ShopErrorCode.PERMISSION_DENIED,
    exceptions.NotFound: ShopErrorCode.NOT_FOUND,
    exceptions.MethodNotAllowed: ShopErrorCode.METHOD_NOT_ALLOWED,
    exceptions.NotAcceptable: ShopErrorCode.NOT_ACCEPTABLE,
    exceptions.UnsupportedMediaType: ShopErrorCode.UNSUPPORTED_MEDIA_TYPE,
    exceptions.Throttled: ShopErrorCode.THROTTLED,
}


def flatten_errors(detail, prefix: str = "") -> dict[str, list[str]]:
    """Flatten DRF's nested error detail into ``{"a.b": ["msg", ...]}`` (dotted paths)."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = "non_field_errors" if key == "non_field_errors" and not prefix else str(key)
            path = f"{prefix}.{name}" if prefix else name
            out.update(flatten_errors(value, path))
    elif isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            out.setdefault(prefix or "non_field_errors", []).extend(str(i) for i in detail)
        else:
            for index, item in enumerate(detail):
                if item:
                    out.update(flatten_errors(item, f"{prefix}.{index}" if prefix else str(index)))
    else:
        out.setdefault(prefix or "non_field_errors", []).append(str(detail))
    return out


def _validation_response(errors: dict[str, list[str]], headers=None) -> Response:
    body = validation_error_body(errors)
    return Response(body, status=status.HTTP_400_BAD_REQUEST, headers=headers)


def exception_handler(exc, context):
    """Map any exception raised in an API view to the documented error shape."""
    if isinstance(exc, DomainError):
        return Response(exc.as_dict(), status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        return _validation_response(validation_errors(exc))
    if isinstance(exc, SuspiciousOperation):
        # What Django refuses to parse (a body over DATA_UPLOAD_MAX_MEMORY_SIZE, too many
        # fields) is the client's fault, not a server error.
        message = (
            "The request body is larger than the server accepts."
            if isinstance(exc, RequestDataTooBig)
            else "The request was refused as malformed."
        )
        return Response({"code": ShopErrorCode.BAD_REQUEST.value, "detail": message}, status=400)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        logger.exception("Unhandled API error", exc_info=exc)
        return Response(
            {"code": ShopErrorCode.SERVER_ERROR.value, "detail": "An unexpected error occurred."},
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    if isinstance(exc, exceptions.ValidationError):
        return _validation_response(flatten_errors(exc.detail), headers=dict(response.items()))

    detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
    code = getattr(exc, "error_code", None)
    if code is None:
        code = next((c for cls, c in _CODE_BY_CLASS.items() if isinstance(exc, cls)), None)
    if code is None and isinstance(detail, str | exceptions.ErrorDetail):
        code = getattr(detail, "code", None) or ShopErrorCode.ERROR
    # A plain str: error bodies are also rendered as YAML (the schema view), not only JSON.
    body: dict = {"code": str(code or ShopErrorCode.ERROR)}
    if isinstance(detail, dict):
        # simplejwt raises e.g. {"detail": ..., "code": "token_not_valid", "messages": [...]}
        body["detail"] = str(detail.get("detail", "Request failed."))
        if detail.get("code") and isinstance(exc, exceptions.AuthenticationFailed):
            body["token_code"] = str(detail["code"])
    else:
        body["detail"] = str(detail)
    wait = getattr(exc, "wait", None)  # Throttled.wait (missing from the DRF stubs)
    if isinstance(exc, exceptions.Throttled) and wait is not None:
        body["retry_after"] = int(wait + 0.999)
    response.data = body
    return response
