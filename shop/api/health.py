"""Health (each dependency, for load balancers, compose and monitoring) and ping (liveness)."""

import logging
import secrets
from datetime import timedelta

from django.core.cache import caches
from django.core.cache.backends.dummy import DummyCache
from django.db import DatabaseError, connection
from django.db.models import Q
from django.utils import timezone
from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, task_backends
from django_tasks_db.models import DBTaskResult
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from shop.cache import CACHE_ERRORS, cache_failed, cache_recovered

logger = logging.getLogger(__name__)

OK = "ok"
ERROR = "error"
DEGRADED = "degraded"
#: A queued task due this long without a worker picking it up means nobody is working the queue.
TASKS_STALE_AFTER = timedelta(minutes=5)


def _check_field(what: str) -> serializers.CharField:
    # A plain string (not a second enum of the same choices, which the schema would merge).
    return serializers.CharField(help_text=f'"ok" or "error": {what}.')


HealthSerializer = inline_serializer(
    name="Health",
    fields={
        "status": serializers.ChoiceField(
            choices=[OK, DEGRADED, ERROR],
            help_text="ok; degraded when the cache or the task queue fails (the shop still "
            "works, slower or with emails delayed); error when the database fails (503).",
        ),
        "database": _check_field("the database answers a query"),
        "cache": _check_field("the cache stores and returns a value"),
        "tasks": _check_field("the task backend loads and its queue is being worked"),
    },
)


def check_database() -> str:
    """Return ``ok`` when the database answers a query."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return ERROR
    return OK


def check_cache() -> str:
    """Return ``ok`` when the cache stores and returns a value (always tried, never skipped)."""
    cache = caches["default"]
    if isinstance(cache, DummyCache):  # caching switched off: nothing to be down
        return OK
    key = f"health:{secrets.token_hex(8)}"
    try:
        cache.set(key, key, timeout=10)
        answered = cache.get(key) == key
        cache.delete(key)
    except CACHE_ERRORS as exc:
        cache_failed(exc, during="health check")
        return ERROR
    if not answered:
        return ERROR
    cache_recovered()
    return OK


def check_tasks() -> str:
    """Return ``ok`` when the task backend works and, for the database queue, is worked.

    The backend must load and pass its own system checks. With django-tasks-db its table must
    answer and no task may have been due for longer than ``TASKS_STALE_AFTER`` (else no
    worker is running).
    """
    try:
        backend = task_backends[DEFAULT_TASK_BACKEND_ALIAS]
        if any(message.is_serious() for message in backend.check()):
            return ERROR
        if type(backend).__module__.startswith("django_tasks_db."):
            return _check_database_queue(alias=backend.alias)
    except Exception:  # a health check reports, it never fails the request
        logger.warning("Task backend check failed", exc_info=True)
        return ERROR
    return OK


def _check_database_queue(*, alias: str) -> str:
    now = timezone.now()
    cutoff = now - TASKS_STALE_AFTER
    try:
        # ready() holds due tasks: run_after passed, or unset (stored as a far-future date).
        stale = (
            DBTaskResult.objects.ready()
            .filter(backend_name=alias)
            .filter(Q(run_after__lte=cutoff) | Q(run_after__gt=now, enqueued_at__lte=cutoff))
            .exists()
        )
    except DatabaseError:
        return ERROR
    return ERROR if stale else OK


@extend_schema(tags=["health"], responses={200: HealthSerializer, 503: HealthSerializer})
@api_view(["GET"])
@authentication_classes([])
@permission_classes([AllowAny])
def health(request):
    """Report each dependency: 503 only without the database, which the shop cannot work without.

    The cache and the task queue failing make the status ``degraded`` with 200: the catalogue
    is then served from the database, throttles let requests through, and emails wait in the
    outbox (``send_pending_notifications`` delivers them) until the queue works again.
    """
    checks = {"database": check_database(), "cache": check_cache(), "tasks": check_tasks()}
    if checks["database"] == ERROR:
        return Response({"status": ERROR, **checks}, status=503)
    status = OK if all(value == OK for value in checks.values()) else DEGRADED
    return Response({"status": status, **checks})


@extend_schema(
    tags=["health"],
    responses={200: inline_serializer(name="Ping", fields={"status": serializers.CharField()})},
)
@api_view(["GET"])
@authentication_classes([])
@permission_classes([AllowAny])
def ping(request):
    """Answer without touching the database: liveness, and the framework's speed ceiling."""
    return Response({"status": "ok"})
