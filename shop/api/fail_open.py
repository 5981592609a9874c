"""Throttles fail open: a cache outage must not turn every API write into a 500.

DRF's rate throttles keep their counters in the cache. When it is unreachable the request is
let through and a warning logged (``shop.cache``): for a while the limits do not hold, which
is better than refusing every write while the shop otherwise works. Mix in first:
``class AnonWriteThrottle(FailOpenThrottleMixin, AnonRateThrottle)``.
"""

from typing import TYPE_CHECKING

from rest_framework.throttling import BaseThrottle

from shop.cache import CACHE_ERRORS, cache_available, cache_failed

if TYPE_CHECKING:  # rest_framework.views imports the throttle classes: no import cycle
    from rest_framework.request import Request
    from rest_framework.views import APIView


class FailOpenThrottleMixin(BaseThrottle):
    """Allow the request (and log a warning) when the throttle's cache cannot be reached."""

    def allow_request(self, request: "Request", view: "APIView") -> bool:
        if not cache_available():
            return True
        try:
            return super().allow_request(request, view)
        except CACHE_ERRORS as exc:
            cache_failed(exc, during=f"throttle {getattr(self, 'scope', type(self).__name__)}")
            return True
