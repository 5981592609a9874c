"""Throttle writes only: reads are cheap and cached; writes are what abuse costs us."""

from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from shop.api.fail_open import FailOpenThrottleMixin

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


class AnonWriteThrottle(FailOpenThrottleMixin, AnonRateThrottle):
    scope = "anon_write"

    def allow_request(self, request, view):
        if request.method in SAFE_METHODS:
            return True
        return super().allow_request(request, view)


class UserWriteThrottle(FailOpenThrottleMixin, UserRateThrottle):
    scope = "user_write"

    def allow_request(self, request, view):
        # Anonymous callers are AnonWriteThrottle's business (UserRateThrottle would count
        # them by IP too, applying the lower of the two rates).
        if request.method in SAFE_METHODS or not request.user.is_authenticated:
            return True
        return super().allow_request(request, view)
