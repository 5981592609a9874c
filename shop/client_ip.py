"""The client's IP address, derived once per request from the trusted-proxy setting.

``NUM_PROXIES`` (environment, default 0) says how many reverse proxies that append to
``X-Forwarded-For`` stand in front of the app. With 0 the address is ``REMOTE_ADDR`` and
``X-Forwarded-For`` is ignored (a client can write anything there). With N the address is
the N-th entry from the right of ``X-Forwarded-For``: each trusted proxy appends the address
it received the request from, so entries further left were written by the client and are
never trusted. The lockout, the API throttles, the HTML form limits, stock holds and the logs
all use this one value (``request.client_ip``, set by ``ClientIpMiddleware``).
"""

from collections.abc import Callable
from ipaddress import ip_address

from django.conf import settings
from django.http import HttpRequest, HttpResponse

UNKNOWN = "0.0.0.0"  # noqa: S104 - a placeholder address, never bound


def _valid(value: str) -> str | None:
    value = value.strip()
    try:
        return str(ip_address(value))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str:
    """Return the client's IP address for ``request`` (see the module docstring)."""
    cached: str | None = getattr(request, "_client_ip", None)
    if cached is not None:
        return cached
    remote = _valid(request.META.get("REMOTE_ADDR", "")) or UNKNOWN
    proxies = int(getattr(settings, "NUM_PROXIES", 0) or 0)
    result = remote
    if proxies > 0:
        hops = [h for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
        if len(hops) >= proxies:
            result = _valid(hops[-proxies]) or remote
    request._client_ip = result  # type: ignore[attr-defined]
    return result


class ClientIpMiddleware:
    """Set ``request.client_ip`` once, before anything that rate-limits or logs."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.client_ip = client_ip(request)  # type: ignore[attr-defined]
        return self.get_response(request)
