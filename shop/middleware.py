"""Project-wide middleware: request ids for logs, and the Content-Security-Policy header."""

import logging
import re
import threading
import time
import uuid

from django.conf import settings

_local = threading.local()
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
logger = logging.getLogger("shop.requests")


def current_request_id() -> str:
    """Return the id of the request being served on this thread, or "-"."""
    return getattr(_local, "request_id", "-")


class RequestIdLogFilter(logging.Filter):
    """Add `request_id` to every log record so lines of one request can be grepped together."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id()
        return True


class RequestIdMiddleware:
    """Take X-Request-ID from the proxy (or make one), echo it back, log one line per request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        _local.request_id = request_id
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request_id
            logger.info(
                "%s %s %s %.1fms",
                request.method,
                request.path,
                response.status_code,
                (time.perf_counter() - started) * 1000,
            )
            return response
        finally:
            _local.request_id = "-"


class ContentSecurityPolicyMiddleware:
    """Send the Content-Security-Policy from settings (same-origin scripts only)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        policy = settings.CONTENT_SECURITY_POLICY
        if policy and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = policy
        return response
