"""Project-wide middleware: request ids for logs, the Content-Security-Policy header, and
URL guards (NUL bytes, too many query parameters) answering the API error shape."""

import logging
import re
import threading
import time
import uuid
from collections.abc import Callable
from urllib.parse import unquote_plus

from django.conf import settings
from django.http import HttpResponseBadRequest, JsonResponse

from shop.errors import ShopErrorCode
from shop.telemetry import current_trace_ids

_local = threading.local()
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
logger = logging.getLogger("shop.requests")


def current_request_id() -> str:
    """Return the id of the request being served on this thread, or "-"."""
    return getattr(_local, "request_id", "-")


def current_client_ip() -> str:
    """Return the client IP (``shop.client_ip``) of the request on this thread, or "-"."""
    return getattr(_local, "client_ip", "-")


class RequestIdLogFilter(logging.Filter):
    """Add ``request_id``, ``client_ip``, ``trace_id`` and ``span_id`` to every log record.

    The request id groups the lines of one request (and gunicorn's access log line); the
    client IP groups one client's; the trace and span ids (``"-"`` when tracing is off) lead
    from a line to its trace.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id()
        record.client_ip = current_client_ip()
        record.trace_id, record.span_id = current_trace_ids()
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
        _local.client_ip = getattr(request, "client_ip", "-")
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request_id
            logger.info(
                "%s %s %s %.1fms client=%s",
                request.method,
                request.path,
                response.status_code,
                (time.perf_counter() - started) * 1000,
                _local.client_ip,
            )
            return response
        finally:
            _local.request_id = "-"
            _local.client_ip = "-"


# Sources that higher apps add to the policy, e.g. the payment provider's script and frames
# while its adapter is active (orders registers one in its AppConfig.ready()): each returns
# ``{directive: [source, ...]}`` for the current settings, or nothing.
CspSources = Callable[[], dict[str, list[str]]]
_csp_sources: list[CspSources] = []


def register_csp_sources(*, sources: CspSources) -> None:
    """Have ``sources()`` extend the Content-Security-Policy of every response (once)."""
    if sources not in _csp_sources:
        _csp_sources.append(sources)


def extend_policy(*, policy: str, extra: dict[str, list[str]]) -> str:
    """Return ``policy`` with ``extra`` sources appended to their directives; a directive the
    policy lacks starts from its ``default-src`` (what it fell back to)."""
    directives: dict[str, list[str]] = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    for name, sources in extra.items():
        current = directives.setdefault(name, list(directives.get("default-src", ["'self'"])))
        current.extend(source for source in sources if source not in current)
    return "; ".join(" ".join([name, *sources]) for name, sources in directives.items())


class ContentSecurityPolicyMiddleware:
    """Send the Content-Security-Policy from settings (same-origin scripts only), extended by
    the registered sources (``register_csp_sources``)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        policy = settings.CONTENT_SECURITY_POLICY
        if policy and "Content-Security-Policy" not in response:
            extra: dict[str, list[str]] = {}
            for sources in _csp_sources:
                for name, values in (sources() or {}).items():
                    extra.setdefault(name, []).extend(values)
            if extra:
                policy = extend_policy(policy=policy, extra=extra)
            response["Content-Security-Policy"] = policy
        return response


class RejectNullBytesMiddleware:
    """Answer 400 to URLs Django cannot use, before any view runs.

    - NUL characters (``%00``) in the path or the query: PostgreSQL cannot compare text with
      NUL, so such a slug, SKU or filter value would fail deep in a query. (Form and
      serializer fields already reject NUL in bodies.)
    - More query parameters than ``DATA_UPLOAD_MAX_NUMBER_FIELDS`` (1000): Django refuses to
      parse such a query string (``TooManyFieldsSent``) wherever a view reads it.

    Under ``/api/`` the answer is the API error shape (``bad_request``); elsewhere a plain 400.
    The request line itself is capped by gunicorn (``limit_request_line``, 8190 bytes), which
    answers longer ones before the app sees them.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        problem = self.problem(request)
        if problem is None:
            return self.get_response(request)
        if request.path.startswith("/api/"):
            return JsonResponse({"code": ShopErrorCode.BAD_REQUEST, "detail": problem}, status=400)
        return HttpResponseBadRequest(problem)

    @staticmethod
    def problem(request) -> str | None:
        raw_query = request.META.get("QUERY_STRING", "")
        if "\x00" in request.path or "\x00" in unquote_plus(raw_query):
            return "The URL contains a NUL character."
        max_fields = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
        if max_fields is not None and raw_query and raw_query.count("&") + 1 > max_fields:
            return f"The query string has more than {max_fields} parameters."
        return None
