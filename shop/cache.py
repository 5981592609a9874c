"""A cache outage costs speed, never availability.

The cache (``CACHES["default"]``: Redis in production, ``CACHE_URL``) holds copies and
counters, never the only copy of anything: sessions, the sign-in lockout, carts and the
outbox live in the database. So code that uses the cache catches ``CACHE_ERRORS`` and carries
on without it: the catalogue computes from the database (``catalog.cache``), the API throttles
let the request through (``shop.api.fail_open``). ``GET /api/health/`` reports the cache as
``"error"`` meanwhile (status ``degraded``, still 200).

After an error this process skips the cache for ``SHOP_CACHE_RETRY_SECONDS`` (default 5;
``cache_available()`` says whether to try), so an unreachable Redis costs one connection
timeout per process every few seconds rather than one per cache call, and one warning rather
than a flood. A successful health check ends the pause early. The socket timeouts that bound
one failing call are set with the cache in the settings (``CACHES``).
"""

import logging
import time

from django.conf import settings
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

#: What a cache backend raises when its server is unreachable or failing: redis-py's errors
#: (``ConnectionError``, ``TimeoutError``, ``ResponseError`` such as OOM or READONLY, all
#: ``RedisError``) and socket errors (``OSError``: refused, reset, timed out), which some
#: clients let through. Django's own cache backends define no runtime error of their own.
CACHE_ERRORS: tuple[type[Exception], ...] = (RedisError, OSError)

_skip_until = 0.0


def retry_seconds() -> float:
    """Return how long the cache is skipped after an error (``SHOP_CACHE_RETRY_SECONDS``)."""
    return float(getattr(settings, "SHOP_CACHE_RETRY_SECONDS", 5))


def cache_available() -> bool:
    """Return whether to use the cache: False for a while after a cache error in this process."""
    return time.monotonic() >= _skip_until


def cache_failed(exc: BaseException, *, during: str) -> None:
    """Log a cache error as a warning and skip the cache for ``retry_seconds()``."""
    global _skip_until
    seconds = retry_seconds()
    _skip_until = time.monotonic() + seconds
    logger.warning(
        "Cache unavailable during %s (%s: %s); using the database without it for %gs",
        during,
        type(exc).__name__,
        exc,
        seconds,
    )


def cache_recovered() -> None:
    """Use the cache again at once (the health check saw it answer)."""
    global _skip_until
    _skip_until = 0.0
