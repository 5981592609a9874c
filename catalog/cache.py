"""Low-level caching of catalog reads, invalidated by a catalog version.

Every cached read is stored under a key that contains the current *catalog version*, a number
kept in the cache itself. Any change a shopper could see in the catalog bumps it:
``post_save`` / ``post_delete`` of ``Product``, ``Variant``, ``Category``, ``ProductImage`` and
``StockItem``, and ``inventory.signals.stock_changed``, which every stock service (hold,
release, allocate, ship, adjust, ...) sends because it writes with ``.update()`` and so sends
no model signals (receivers in ``catalog.receivers``). Old entries are never deleted: they are
simply no longer asked for and expire.

When the bump happens: after the writing transaction commits (``transaction.on_commit``; the
stock signal itself is sent after commit), so a reader on another connection can never store
the pre-commit state under the new version. Until then the writing connection itself has
uncommitted catalog changes (a pending bump or a pending ``stock_changed``); reads on it
bypass the cache (``has_uncommitted_changes``) so that they see their own writes and never
share state that may still be rolled back. (This is also what keeps the test suite honest: each test
runs in a transaction that is rolled back, so its writes never reach the cache.)

Rendered HTML that is the same for every viewer (product cards, the category menu, the landing
tiles) is cached the same way by the ``{% catalog_fragment %}`` template tag
(``catalog.templatetags.catalog_tags``). The version itself is read once per request.

Staleness: entries live ``SHOP_CATALOG_CACHE_SECONDS`` (default 30; 0 disables the cache),
and each process keeps copies of recently used ones for at most ``LOCAL_SECONDS`` more
(``_LocalCopies``: a key names a version, so a bump is seen at once all the same).
Stock hints are hints: checkout re-checks stock under lock. Holds that expire by time change
availability without any write, so the TTL bounds how long an expired hold still shows as
taken.

Several processes: with several gunicorn workers the version bump only reaches the other
workers through a shared cache (``CACHE_URL=redis://...``). With the default per-process
locmem cache, each worker has its own version and entries; a change is seen at once by the
worker that made it and by the others after at most ``SHOP_CATALOG_CACHE_SECONDS``.

Outages: the cache is only a copy. When it cannot be reached (``shop.cache.CACHE_ERRORS``:
Redis down, timed out, out of memory) a read is computed from the database, a warning is
logged and the cache is skipped for a few seconds (``shop.cache``); writers go on committing.
A version bump missed meanwhile leaves entries that survived the outage stale for at most
``SHOP_CATALOG_CACHE_SECONDS``.
"""

import hashlib
import pickle
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from django.core.paginator import Page, Paginator
from django.core.signals import request_finished, request_started
from django.db import transaction
from django.db.models import QuerySet
from django.dispatch import receiver
from django.utils.functional import cached_property

from inventory.signals import stock_change_pending
from shop.cache import CACHE_ERRORS, cache_available, cache_failed

VERSION_KEY = "catalog:version"
T = TypeVar("T")
_MISSING = object()


def cache_seconds() -> int:
    """Return how long catalog reads are cached (``SHOP_CATALOG_CACHE_SECONDS``; 0 = never)."""
    return int(getattr(settings, "SHOP_CATALOG_CACHE_SECONDS", 30))


def _fresh_version() -> int:
    # Time-based, so a version key lost to eviction or a restart never revives older entries.
    return time.time_ns()


# The version read by the request this thread is serving: a page makes several cached reads
# (menu, category, count, rows, cards), and with Redis each version lookup was a round trip.
# Set between request_started and request_finished only (never in commands or workers), and
# dropped by this process's own bumps, so a request sees its own committed changes.
_request = threading.local()


@receiver(request_started)
def _start_request_memo(**kwargs) -> None:
    _request.active = True
    _request.version = None


@receiver(request_finished)
def _end_request_memo(**kwargs) -> None:
    _request.active = False
    _request.version = None


def catalog_version() -> int:
    """Return the current catalog version, creating it if the cache has none.

    Read once per request (memoized until the request ends or this process bumps it).
    """
    if getattr(_request, "active", False) and _request.version is not None:
        return _request.version
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, _fresh_version(), timeout=None)
        version = cache.get(VERSION_KEY)
    if getattr(_request, "active", False):
        _request.version = version
    return version


def _bump_now() -> None:
    _request.version = None
    if not cache_available():
        return
    try:
        try:
            cache.incr(VERSION_KEY)
        except ValueError:  # no version yet (or evicted): any new value orphans old entries
            cache.set(VERSION_KEY, _fresh_version(), timeout=None)
    except CACHE_ERRORS as exc:
        cache_failed(exc, during="catalog version bump")


def _pending(connection) -> bool:
    return any(func is _bump_now for _, func, *_rest in connection.run_on_commit)


def has_uncommitted_changes(using: str | None = None) -> bool:
    """Return whether this connection's open transaction has changed the catalog or stock."""
    connection = transaction.get_connection(using)
    return connection.in_atomic_block and (_pending(connection) or stock_change_pending(using))


def bump_catalog_version(using: str | None = None) -> None:
    """Invalidate every cached catalog read once the current transaction commits.

    Outside a transaction the bump is immediate. Several bumps in one transaction cost one
    increment. A failing cache is logged as a warning, never raised to the writer (the write
    committed).
    """
    connection = transaction.get_connection(using)
    if connection.in_atomic_block and _pending(connection):
        return
    transaction.on_commit(_bump_now, using=using, robust=True)


def _key(name: str, version: int, parts: Hashable) -> str:
    digest = hashlib.sha256(repr(parts).encode()).hexdigest()[:32]
    return f"catalog:{name}:{version}:{digest}"


def cached(name: str, parts: Hashable, build: Callable[[], T]) -> T:
    """Return ``build()``, cached for the current catalog version under ``(name, parts)``.

    ``parts`` must identify the result completely (normalized filters, page, host...).
    Exceptions from ``build`` propagate and nothing is stored. Bypassed when the cache is
    disabled, while it is unavailable (``shop.cache``) or when this connection has
    uncommitted catalog changes. A cache error is never raised: it is logged as a warning
    and the result comes from ``build()`` (the database).
    """
    seconds = cache_seconds()
    if seconds <= 0 or has_uncommitted_changes() or not cache_available():
        return build()
    try:
        # The version is read before building: a change committed meanwhile stores this
        # result under the old version, which nobody asks for any more.
        key = _key(name, catalog_version(), parts)
        value = _local.get(key)
        if value is not _MISSING:
            return value
        value = cache.get(key, _MISSING)
    except CACHE_ERRORS as exc:
        cache_failed(exc, during=f"catalog read ({name})")
        return build()
    if value is _MISSING:
        value = build()
        try:
            cache.set(key, value, seconds)
        except CACHE_ERRORS as exc:
            cache_failed(exc, during=f"catalog write ({name})")
    _local.put(key, value, min(seconds, LOCAL_SECONDS))
    return value


#: How long this process keeps its own copy of an entry (seconds; see ``_LocalCopies``).
LOCAL_SECONDS = 5
#: How many entries this process keeps (least recently used dropped first).
LOCAL_ENTRIES = 512


class _LocalCopies:
    """This process's copies of recently used entries, in front of the shared cache.

    A key names one catalog version, so what is stored under it never changes: a copy is as
    good as the shared entry, and a bump (a new version, new keys) leaves old copies unasked.
    With Redis each cached read was a round trip plus unpickling (a product page makes about
    seven); a hot entry now costs neither. Copies live ``LOCAL_SECONDS`` at most, so an entry's
    time-bound staleness (holds expiring without a write) grows by at most that. Rendered HTML
    (``str``) is shared as is; anything else is kept pickled and unpickled for each caller, who
    may change the objects it gets (the product page annotates its variants).
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self.entries: OrderedDict[str, tuple[float, bool, object]] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: str) -> object:
        with self.lock:
            found = self.entries.get(key)
            if found is None:
                return _MISSING
            if found[0] <= time.monotonic():
                del self.entries[key]
                return _MISSING
            self.entries.move_to_end(key)
        _, pickled, value = found
        return pickle.loads(value) if pickled else value  # type: ignore[arg-type]  # noqa: S301

    def put(self, key: str, value: object, seconds: float) -> None:
        if seconds <= 0:
            return
        shared = isinstance(value, str)
        try:
            stored = value if shared else pickle.dumps(value)
        except (pickle.PicklingError, TypeError, AttributeError):
            return  # not picklable: the shared cache alone keeps it
        with self.lock:
            self.entries[key] = (time.monotonic() + seconds, not shared, stored)
            self.entries.move_to_end(key)
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()


_local = _LocalCopies(LOCAL_ENTRIES)


class CachedCountPaginator(Paginator):
    """A ``Paginator`` whose ``count`` is cached per catalog version under ``count_key``.

    ``count_key`` identifies the filtered queryset (not the page): every page of one filter
    set shares one ``COUNT(*)``, which scans every listed product.
    """

    def __init__(self, object_list, per_page, *, count_key: Hashable, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.count_key = count_key

    @cached_property
    def count(self) -> int:
        return cached("count", self.count_key, lambda: Paginator.count.func(self))


class CachedListingPaginator(Paginator):
    """Paginate the queryset ``build()`` returns, calling it only on a cache miss.

    The count (under ``key``) and each page's rows (a list of the queryset's objects) are
    cached per catalog version, so a hit neither builds the queryset nor runs SQL. ``key``
    must identify the filtered listing completely.
    """

    def __init__(self, build: Callable[[], QuerySet], per_page: int, *, key: Hashable):
        super().__init__((), per_page)
        self.build = build
        self.key = key

    @cached_property
    def listing(self) -> QuerySet:
        return self.build()

    @cached_property
    def count(self) -> int:
        return cached("count", self.key, lambda: self.listing.count())

    def page(self, number) -> Page:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = min(bottom + self.per_page, self.count)
        rows = cached(
            "page", (self.key, self.per_page, number), lambda: list(self.listing[bottom:top])
        )
        return self._get_page(rows, number, self)
