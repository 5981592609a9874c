"""API throttles: writes only, counted per client IP (``shop.client_ip``), failing open.

Reads are cheap and cached; writes are what abuse costs us. Anonymous clients are identified
by the one client IP derived from ``NUM_PROXIES`` (never by a raw, client-written
``X-Forwarded-For``), so a made-up header per request does not buy a fresh budget. If the
cache holding the counters is down the request is allowed and a warning logged: an outage of
the cache must not turn every write into a 500.
"""

from typing import TYPE_CHECKING

from rest_framework.throttling import (
    AnonRateThrottle,
    BaseThrottle,
    SimpleRateThrottle,
    UserRateThrottle,
)

from shop import ratelimits

if TYPE_CHECKING:
    from rest_framework.views import APIView as _View
else:
    # rest_framework.views reads DEFAULT_THROTTLE_CLASSES (this module) at import time.
    _View = object

from shop.api.fail_open import FailOpenThrottleMixin

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


class ClientIpThrottleMixin(FailOpenThrottleMixin, SimpleRateThrottle):
    """Identify a client by ``shop.ratelimits.client_key``; count writes only; fail open."""

    def get_ident(self, request) -> str:
        return ratelimits.client_key(request)

    def allow_request(self, request, view) -> bool:
        if request.method in SAFE_METHODS:
            return True
        return super().allow_request(request, view)


class AnonWriteThrottle(ClientIpThrottleMixin, AnonRateThrottle):
    scope = "anon_write"


class UserWriteThrottle(ClientIpThrottleMixin, UserRateThrottle):
    scope = "user_write"

    def allow_request(self, request, view) -> bool:
        # Anonymous callers are AnonWriteThrottle's business (UserRateThrottle would count
        # them by IP too, applying the lower of the two rates).
        if not request.user.is_authenticated:
            return True
        return super().allow_request(request, view)


class ActionThrottle(BaseThrottle):
    """Count an API action in the same per-client budget as its HTML form (shop.ratelimits).

    Subclasses name the ``group`` (``login``, ``register``, ``password_reset``,
    ``add_to_cart``); only writes count.
    """

    group: str

    def __init__(self) -> None:
        self.retry_after: int | None = None

    def allow_request(self, request, view) -> bool:
        if request.method in SAFE_METHODS:
            return True
        verdict = ratelimits.hit(request=request, group=self.group)
        self.retry_after = verdict.retry_after or None
        return not verdict.limited

    def wait(self) -> float | None:
        return self.retry_after


class ActionThrottleMixin(_View):
    """For an API view: apply ``action_throttle`` on top of the default throttles."""

    action_throttle: type[ActionThrottle]

    def get_throttles(self) -> list[BaseThrottle]:
        return [*super().get_throttles(), self.action_throttle()]


class LoginThrottle(ActionThrottle):
    group = "login"


class RegisterThrottle(ActionThrottle):
    group = "register"


class PasswordResetThrottle(ActionThrottle):
    group = "password_reset"


class AddToCartThrottle(ActionThrottle):
    group = "add_to_cart"
