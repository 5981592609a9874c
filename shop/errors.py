"""The base of every domain exception, the project-wide error codes and the error bodies.

Each app declares its stable error codes once, as a ``StrEnum`` named ``<App>ErrorCode`` in
its own ``errors.py``, and raises subclasses of :class:`DomainError` that carry one of them.
The API exception handler turns them into ``{"code", "detail", ...}`` with ``status_code``;
HTML views show ``detail`` as a message. Validation errors have one body, built by
:func:`validation_error_body` wherever it is needed (the API handler, stored idempotent
responses).
"""

from collections.abc import Mapping, Sequence
from enum import StrEnum

from django.core.exceptions import ValidationError


class ShopErrorCode(StrEnum):
    """Codes that belong to no app: the HTTP layer's and the generic ones."""

    ERROR = "error"
    VALIDATION_ERROR = "validation_error"
    BAD_REQUEST = "bad_request"
    PARSE_ERROR = "parse_error"
    AUTHENTICATION_FAILED = "authentication_failed"
    NOT_AUTHENTICATED = "not_authenticated"
    PERMISSION_DENIED = "permission_denied"
    CSRF_FAILED = "csrf_failed"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    NOT_ACCEPTABLE = "not_acceptable"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    THROTTLED = "throttled"
    SERVER_ERROR = "server_error"


class DomainError(Exception):
    """A business rule said no. ``code`` is stable and documented; ``detail`` is for humans."""

    code: str = ShopErrorCode.ERROR
    status_code: int = 400
    default_detail: str = "The request could not be completed."

    def __init__(self, detail: str | None = None, **extra) -> None:
        self.detail = detail or self.default_detail
        self.extra = extra
        super().__init__(self.detail)

    def as_dict(self) -> dict:
        """Return the API error body for this exception."""
        return {"code": str(self.code), "detail": self.detail, **self.extra}


def validation_error_body(errors: Mapping[str, Sequence[str]]) -> dict:
    """Return the body of a ``400 validation_error`` for messages keyed by (dotted) field path.

    ``{"code": "validation_error", "detail": <the first message>, "errors": {path: [...]}}``
    as API.md describes it; the only place that body is built.
    """
    clean = {str(path): [str(message) for message in messages] for path, messages in errors.items()}
    first = next((messages[0] for messages in clean.values() if messages), "Invalid input.")
    return {"code": ShopErrorCode.VALIDATION_ERROR.value, "detail": first, "errors": clean}


def validation_errors(exc: ValidationError) -> dict[str, list[str]]:
    """Return a Django ``ValidationError``'s messages keyed by field.

    An error that is not about fields is listed under ``non_field_errors``.
    """
    if hasattr(exc, "error_dict"):
        return {field: [str(m) for m in messages] for field, messages in exc.message_dict.items()}
    return {"non_field_errors": [str(m) for m in exc.messages]}
