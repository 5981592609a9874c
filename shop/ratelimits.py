"""Per-client rate limits for the HTML forms and their API twins (django-ratelimit).

Each limited action is a *group* whose rate comes from a setting read at request time
(``RATELIMIT_LOGIN``, ``RATELIMIT_REGISTER``, ``RATELIMIT_PASSWORD_RESET``,
``RATELIMIT_ADD_TO_CART``; ``N/s``, ``N/m``, ``N/h`` or ``N/d``). Requests are counted per
client (:func:`client_key`: the one client IP of ``shop.client_ip``) in the cache, so with a
shared cache (``CACHE_URL=redis://...``) every worker sees the same counters. The HTML view and
the API endpoint of one action share one budget.

A cache outage must not take the forms down: the limit then fails open (the request goes
through), with the warning and the retry pause every cache user shares (``shop.cache``).
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from ipaddress import ip_network

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django_ratelimit import ALL
from django_ratelimit.core import get_usage

from shop.cache import CACHE_ERRORS, cache_available, cache_failed
from shop.client_ip import client_ip

logger = logging.getLogger(__name__)

#: group -> the setting holding its rate.
RATE_SETTINGS = {
    "login": "RATELIMIT_LOGIN",
    "register": "RATELIMIT_REGISTER",
    "password_reset": "RATELIMIT_PASSWORD_RESET",
    "add_to_cart": "RATELIMIT_ADD_TO_CART",
}
#: One IPv6 subscriber usually holds a whole /64: count it as one client.
IPV6_PREFIX = 64


def client_key(request: HttpRequest) -> str:
    """Return the identity requests are counted under: the client IP (its /64 for IPv6)."""
    address = client_ip(request)
    if ":" in address:
        return str(ip_network(f"{address}/{IPV6_PREFIX}", strict=False).network_address)
    return address


def _key(group: str, request: HttpRequest) -> str:
    return client_key(request)


def _rate(group: str, request: HttpRequest) -> str | None:
    return getattr(settings, RATE_SETTINGS[group], None) or None


@dataclass(frozen=True)
class Verdict:
    limited: bool
    retry_after: int = 0


def hit(*, request: HttpRequest, group: str) -> Verdict:
    """Count one request of ``group`` for this client and say whether it is over the limit.

    Never raises for a cache problem: the request is then allowed and a warning logged.
    """
    if not getattr(settings, "RATELIMIT_ENABLE", True) or not cache_available():
        return Verdict(limited=False)
    try:
        usage = get_usage(request, group=group, key=_key, rate=_rate, method=ALL, increment=True)
    except CACHE_ERRORS as exc:
        cache_failed(exc, during=f"rate limit {group}")
        return Verdict(limited=False)
    if usage is None:
        if _rate(group, request):
            # django-ratelimit could not read or write the counter (RATELIMIT_FAIL_OPEN).
            logger.warning("Rate limit %r not applied: the cache did not count", group)
        return Verdict(limited=False)
    if not usage["should_limit"]:
        return Verdict(limited=False)
    return Verdict(limited=True, retry_after=max(int(usage["time_left"]), 1))


def too_many_requests(
    request: HttpRequest, *, retry_after: int, htmx_template: str = "429.html#message"
) -> HttpResponse:
    """Answer 429 with a friendly page (or, to HTMX, a fragment) and ``Retry-After``."""
    minutes = max(1, -(-retry_after // 60))
    context = {"retry_after": retry_after, "retry_minutes": minutes}
    template = htmx_template if getattr(request, "htmx", False) else "429.html"
    response = render(request, template, context, status=429)
    response["Retry-After"] = str(retry_after)
    return response


def rate_limited(
    group: str, *, htmx_template: str = "429.html#message"
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Decorate an HTML view: count its POSTs per client; over the limit, answer 429."""
    if group not in RATE_SETTINGS:
        raise ValueError(f"Unknown rate limit group {group!r}")

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method == "POST":
                verdict = hit(request=request, group=group)
                if verdict.limited:
                    return too_many_requests(
                        request, retry_after=verdict.retry_after, htmx_template=htmx_template
                    )
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
