"""Sign-in lockout (django-axes) that stops guessing without handing attackers a switch.

- ``LOGIN_MAX_FAILURES`` failed sign-ins for one account from one client IP lock that
  (account, IP) pair (``AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]``). Other
  people at the same address still sign in, and an attacker elsewhere cannot lock the owner
  out.
- ``LOGIN_IP_MAX_FAILURES`` failures from one client IP over all accounts (password spraying)
  lock that IP for every account (:class:`PairLockoutHandler`).
- Failures during a lockout are not recorded
  (``AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False``): a lockout ends
  ``LOGIN_LOCKOUT_MINUTES`` after the failure that started it, however long the attacker goes on.
- A password reset through the emailed link clears the account's lockouts
  (:func:`clear_account_lockouts`, called by ``accounts.services.confirm_password_reset``).

The client IP is ``shop.client_ip.client_ip`` (``AXES_CLIENT_IP_CALLABLE``).
"""

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_cool_off, get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest

from accounts import services


def lockout_username(request, credentials: dict | None) -> str | None:
    """Return the lower-cased email a sign-in attempt is for (``AXES_USERNAME_CALLABLE``).

    Covers our forms and API (``email``) and Django's admin login form (``username``).
    """
    credentials = credentials or {}
    value = credentials.get("email") or credentials.get("username")
    if value is None and request is not None:
        post = getattr(request, "POST", {})
        value = post.get("email") or post.get("username")
    if not isinstance(value, str):
        return None
    return services.normalize_email(email=value) or None


def ip_failures(*, request: HttpRequest) -> int:
    """Return the failed sign-ins recorded from this request's client IP, over all accounts.

    Only failures within the cool-off period count (``LOGIN_LOCKOUT_MINUTES``).
    """
    # axes sets ``axes_ip_address`` (our client IP) on the request before any check.
    attempts = AccessAttempt.objects.filter(ip_address=request.axes_ip_address)
    if get_cool_off(request) is not None:
        attempts = attempts.filter(attempt_time__gte=get_cool_off_threshold(request))
    return attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0


class PairLockoutHandler(AxesDatabaseHandler):
    """axes' database handler, plus a per-IP ceiling for password spraying.

    The lockout parameters lock (account, IP) pairs. On top of that, once an IP has
    ``LOGIN_IP_MAX_FAILURES`` recent failures over all accounts, every attempt from it counts as
    having reached ``LOGIN_MAX_FAILURES``, so it is refused like a locked pair.
    """

    def get_failures(self, request, credentials: dict | None = None) -> int:
        failures = super().get_failures(request, credentials)
        if ip_failures(request=request) >= settings.LOGIN_IP_MAX_FAILURES:
            return max(failures, get_failure_limit(request, credentials))
        return failures


def clear_pair_failures(*, email: str, ip_address: str) -> int:
    """Forget the failed sign-ins of one (account, IP) pair (after a successful sign-in)."""
    return AxesProxyHandler.reset_attempts(
        username=services.normalize_email(email=email), ip_address=ip_address
    )


def clear_account_lockouts(*, email: str) -> int:
    """Forget every failed sign-in for the account ``email``, from any IP; return how many.

    For the owner proving control of the mailbox (a password reset): they can sign in at once,
    even from an address an attacker had locked for their account.
    """
    return AxesProxyHandler.reset_attempts(username=services.normalize_email(email=email))
