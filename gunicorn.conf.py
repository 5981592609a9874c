"""Gunicorn configuration: `gunicorn -c gunicorn.conf.py shop.wsgi`.

Every knob comes from the environment so the same file serves the container, the benchmark
and a bare VM:

PORT / GUNICORN_BIND   where to listen (GUNICORN_BIND wins; default 0.0.0.0:$PORT, PORT 8000)
WEB_CONCURRENCY        worker processes (default 2 x usable CPUs + 1)
GUNICORN_THREADS       threads per worker (default 1; >1 switches to the gthread worker)
GUNICORN_TIMEOUT       seconds a request may run before its worker is recycled (default 30)
GUNICORN_GRACEFUL_TIMEOUT, GUNICORN_KEEPALIVE, GUNICORN_MAX_REQUESTS,
GUNICORN_MAX_REQUESTS_JITTER, GUNICORN_ACCESSLOG ("-" = stdout, "" = off),
GUNICORN_PRELOAD       import the app once in the master before forking workers (default true)
FORWARDED_ALLOW_IPS    proxies trusted for X-Forwarded-* (default 127.0.0.1,::1: only a proxy on
                       the same host; list your proxy's address, never "*" while gunicorn's
                       port is reachable by anyone else)

Before a worker serves anything it runs the shop's production checks (shop/checks.py): with
DEBUG=false a mock payment gateway, a public SECRET_KEY or SQLite (unless explicitly allowed)
stop gunicorn with the checks' messages instead of serving.
"""

import os
import sys


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


bind = os.environ.get("GUNICORN_BIND") or f"0.0.0.0:{_int('PORT', 8000)}"
workers = _int("WEB_CONCURRENCY", 2 * _cpus() + 1)
threads = _int("GUNICORN_THREADS", 1)

# A request that has not answered in `timeout` seconds kills its worker; on SIGTERM workers
# get `graceful_timeout` seconds to finish what they are serving.
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
# Seconds an idle keep-alive connection stays open (only the gthread worker keeps them).
keepalive = _int("GUNICORN_KEEPALIVE", 5)

# Recycle workers now and then so slow leaks never take the site down; jitter keeps them from
# restarting all at once.
max_requests = _int("GUNICORN_MAX_REQUESTS", 10000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 1000)

# The app (Django, every app's modules, the URLconf and the compiled templates, see
# when_ready) is imported once in the master; workers are forked from it. Without it a
# recycled worker (max_requests) re-imported everything while its share of requests queued:
# that was the p99 of the benchmark's trivial /api/ping/. No database or cache connection is
# opened at import (Django connects on the first query), so none is shared across the fork;
# OpenTelemetry's span processors restart their threads after a fork themselves.
preload_app = os.environ.get("GUNICORN_PRELOAD", "true").strip().lower() not in {"0", "false", "no"}

# Who may set X-Forwarded-For/-Proto: only the listed proxies. "*" would let any client that
# reaches the published port pick its own address and scheme.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "").strip() or "127.0.0.1,::1"

# Heartbeat files on tmpfs: a worker blocked on a slow disk is not mistaken for a hung one.
# (gunicorn's own recommendation for containers; the path is a fixed tmpfs, not user input).
_SHM = "/dev/shm"  # noqa: S108
if os.path.isdir(_SHM):
    worker_tmp_dir = _SHM

# Access log on stdout, one line per request, carrying the request id the app echoes in the
# X-Request-ID response header, so gunicorn's line and the app's log lines can be joined.
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
access_log_format = (
    '%(h)s "%(r)s" %(s)s %(B)s %(M)sms request_id=%({x-request-id}o)s "%(f)s" "%(a)s"'
)

# Request size limits. The request line (method, path and query string) may be up to 8190
# bytes, gunicorn's maximum (its default, 4094, cut off API clients' long filter queries with
# an HTML error page); so may each header line (JWTs and cookies); at most 100 headers.
# Beyond these gunicorn answers 400 itself, before the app (README, "Request limits").
limit_request_line = 8190
limit_request_field_size = 8190
limit_request_fields = 100

proc_name = "shop"


def when_ready(server) -> None:
    """With preload_app, compile the storefront's templates once in the master.

    The cached template loader keeps what it compiled per process: done here, every forked
    worker (a recycled one too) starts with them instead of compiling on its first requests.
    """
    if not preload_app:
        return
    from django.template import TemplateDoesNotExist, loader

    for name in (
        "base.html",
        "catalog/home.html",
        "catalog/listing.html",
        "catalog/product.html",
        "catalog/includes/product_card.html",
    ):
        try:
            loader.get_template(name)
        except TemplateDoesNotExist:
            server.log.warning("Template %s not found to precompile", name)


def post_worker_init(worker) -> None:
    """Refuse to serve an unsafe production configuration (shop/checks.py).

    Runs in each worker once the app is loaded (Django is set up). On a failed check the worker
    exits as "failed to boot", which stops gunicorn itself: nothing is served.
    """
    from gunicorn.arbiter import Arbiter

    from shop.checks import production_errors

    errors = production_errors()
    for error in errors:
        worker.log.error("Refusing to start: %s", error)
    if errors:
        sys.exit(Arbiter.WORKER_BOOT_ERROR)
