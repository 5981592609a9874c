"""Register endpoints, record events in the outbox, deliver them signed and in order.

Recording (``record_event``) happens inside the transaction of the change, like the emails:
the delivery rows commit with the order, product or stock change, or not at all. Delivery
(``deliver_endpoint``) runs after commit, outside any transaction, one endpoint at a time:
a worker takes the endpoint's lease (a conditional UPDATE of ``lease_until``), posts its
pending events oldest first and stops at the first failure, so a receiver sees events in the
order they happened, and an event is never posted by two workers at once. A failure is
retried with backoff (``RETRY_DELAYS``, then hourly) until the receiver answers 2xx.
"""

import json
import logging
import secrets
import time
import uuid
from datetime import datetime, timedelta
from functools import partial
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from notifications.models import NotificationKind
from notifications.selectors import staff_recipients
from notifications.services import create_notification
from notifications.webhooks.models import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEventType,
)
from notifications.webhooks.signing import SIGNATURE_HEADER, signature_header
from notifications.webhooks.validation import validate_webhook_url

logger = logging.getLogger(__name__)

#: Seconds to wait after the 1st, 2nd, ... failed attempt; the last value repeats.
RETRY_DELAYS = (10, 60, 300, 1800, 3600)
#: How long a worker holds an endpoint's lease (renewed after every attempt).
LEASE_SECONDS = 300
ERROR_MAX_LENGTH = 2000
EVENT_NAMESPACE = uuid.UUID("5b0f7f3e-4a86-4b0e-9a53-0c2f1f6b9d11")


def _clean_events(events: Any) -> list[str]:
    if not isinstance(events, list | tuple) or not events:
        raise ValidationError({"events": ["Choose at least one event."]})
    unknown = sorted({str(e) for e in events} - set(WebhookEventType.values))
    if unknown:
        raise ValidationError({"events": [f"Unknown event type(s): {', '.join(unknown)}."]})
    return [e for e in WebhookEventType.values if e in events]


def _check_url(url: str) -> None:
    try:
        validate_webhook_url(url)
    except ValidationError as exc:
        raise ValidationError({"url": exc.messages}) from exc


def create_endpoint(
    *, url: str, events: list[str], secret: str = "", description: str = "", is_active: bool = True
) -> WebhookEndpoint:
    """Register an endpoint; generate a secret when none is given.

    Raises ``ValidationError`` (keyed by field) for an unsafe URL (see
    ``validate_webhook_url``) or an empty or unknown event list.
    """
    _check_url(url)
    return WebhookEndpoint.objects.create(
        url=url,
        events=_clean_events(events),
        secret=secret or secrets.token_hex(32),
        description=description,
        is_active=is_active,
    )


def update_endpoint(*, endpoint: WebhookEndpoint, **changes: Any) -> WebhookEndpoint:
    """Change an endpoint's ``url``, ``events``, ``secret``, ``description`` or ``is_active``.

    Validates like ``create_endpoint``. Reactivating an endpoint clears its failure record and
    queues the delivery of the events that waited meanwhile.
    """
    allowed = {"url", "events", "secret", "description", "is_active"}
    unknown = set(changes) - allowed
    if unknown:
        raise TypeError(f"Unknown endpoint fields: {sorted(unknown)}")
    if "url" in changes:
        _check_url(changes["url"])
    if "events" in changes:
        changes["events"] = _clean_events(changes["events"])
    if "secret" in changes and not changes["secret"]:
        raise ValidationError({"secret": ["The secret cannot be empty."]})
    reactivated = changes.get("is_active") is True and not endpoint.is_active
    for field, value in changes.items():
        setattr(endpoint, field, value)
    if reactivated:
        endpoint.failing_since = None
        endpoint.disabled_at = None
    with transaction.atomic():
        endpoint.save()
        if reactivated:
            WebhookDelivery.objects.filter(endpoint=endpoint, status=DeliveryStatus.PENDING).update(
                next_attempt_at=timezone.now()
            )
            transaction.on_commit(partial(enqueue_delivery, endpoint_id=endpoint.pk), robust=True)
    return endpoint


def delete_endpoint(*, endpoint: WebhookEndpoint) -> None:
    """Delete an endpoint with its deliveries and their attempts."""
    endpoint.delete()


def event_id_for(*, key: str) -> uuid.UUID:
    """Return the stable event id of the event named ``key`` (the same for every endpoint)."""
    return uuid.uuid5(EVENT_NAMESPACE, key)


def record_event(
    *, event_type: str, data: dict[str, Any], key: str | None = None
) -> list[WebhookDelivery]:
    """Record an event for every active endpoint subscribed to ``event_type``.

    Call it inside the transaction of the change (the signal receivers do): the rows are
    written in a savepoint of it and commit with the change or not at all; delivery is queued
    after commit. ``key`` names the event (e.g. ``order.created:<order id>``): recording the
    same key again creates nothing, so a signal received twice sends one event. Return the
    deliveries created.
    """
    endpoints = [
        e for e in WebhookEndpoint.objects.filter(is_active=True) if event_type in e.events
    ]
    if not endpoints:
        return []
    event_id = event_id_for(key=key) if key else uuid.uuid4()
    now = timezone.now()
    payload = {
        "id": str(event_id),
        "type": event_type,
        "created_at": now.isoformat(),
        "data": data,
    }
    created: list[WebhookDelivery] = []
    with transaction.atomic():
        for endpoint in endpoints:
            delivery, is_new = WebhookDelivery.objects.get_or_create(
                endpoint=endpoint,
                event_id=event_id,
                defaults={"event_type": event_type, "payload": payload, "next_attempt_at": now},
            )
            if is_new:
                created.append(delivery)
                transaction.on_commit(
                    partial(enqueue_delivery, endpoint_id=endpoint.pk), robust=True
                )
    return created


def enqueue_delivery(*, endpoint_id: int, run_after: datetime | None = None) -> None:
    """Queue delivery of an endpoint's events; if the queue is down, cron picks them up."""
    from notifications.webhooks.tasks import deliver_webhooks

    task = deliver_webhooks
    if run_after is not None:
        if not task.get_backend().supports_defer:
            return  # ``manage.py deliver_webhooks`` delivers it when due.
        task = task.using(run_after=run_after)
    try:
        task.enqueue(endpoint_id=endpoint_id)
    except Exception:
        logger.exception("Could not enqueue webhook delivery to endpoint %s", endpoint_id)


def _claim(endpoint_id: int, *, current: datetime | None) -> datetime | None:
    """Take (or renew, when ``current`` is ours) the endpoint's lease; return its new value."""
    now = timezone.now()
    until = now + timedelta(seconds=LEASE_SECONDS)
    free = Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    mine = Q(lease_until=current) if current else free
    taken = WebhookEndpoint.objects.filter(Q(pk=endpoint_id, is_active=True) & mine).update(
        lease_until=until
    )
    return until if taken else None


def _release(endpoint_id: int, lease: datetime) -> None:
    WebhookEndpoint.objects.filter(pk=endpoint_id, lease_until=lease).update(lease_until=None)


def _next_pending(endpoint_id: int) -> WebhookDelivery | None:
    return (
        WebhookDelivery.objects.filter(endpoint_id=endpoint_id, status=DeliveryStatus.PENDING)
        .order_by("id")
        .first()
    )


def _is_due(delivery: WebhookDelivery, now: datetime) -> bool:
    return delivery.next_attempt_at is None or delivery.next_attempt_at <= now


def deliver_endpoint(*, endpoint_id: int, now: datetime | None = None) -> int:
    """Post an active endpoint's due pending events, oldest first; return how many arrived.

    Takes the endpoint's lease first; when another worker holds it, returns 0 (that worker
    picks up this call's events too, since it re-checks after releasing). Stops at the first
    failure or at the first event not yet due, so events are never delivered out of order.
    No transaction is held while posting. ``now`` (default: the current time) decides what is
    due. Never raises for a receiver's failure.
    """
    delivered = 0
    while True:
        lease = _claim(endpoint_id, current=None)
        if lease is None:
            return delivered
        failed = False
        try:
            while lease is not None:
                delivery = _next_pending(endpoint_id)
                if delivery is None or not _is_due(delivery, now or timezone.now()):
                    break
                if not attempt_delivery(delivery=delivery):
                    failed = True
                    break
                delivered += 1
                lease = _claim(endpoint_id, current=lease)
        finally:
            if lease is not None:
                _release(endpoint_id, lease)
        if failed or lease is None:
            return delivered
        # An event recorded while we held the lease had its task turned away: re-check.
        delivery = _next_pending(endpoint_id)
        if delivery is None or not _is_due(delivery, now or timezone.now()):
            return delivered


def _body(delivery: WebhookDelivery) -> bytes:
    return json.dumps(delivery.payload, cls=DjangoJSONEncoder, separators=(",", ":")).encode()


def _post(endpoint: WebhookEndpoint, body: bytes) -> tuple[int | None, str]:
    """POST ``body`` signed to ``endpoint``; return (status code or None, error text)."""
    try:
        validate_webhook_url(endpoint.url)
    except ValidationError as exc:
        return None, f"Refused: {' '.join(exc.messages)}"
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": f"{settings.SHOP_NAME} webhooks",
        SIGNATURE_HEADER: signature_header(secret=endpoint.secret, timestamp=timestamp, body=body),
    }
    try:
        response = requests.post(
            endpoint.url,
            data=body,
            headers=headers,
            timeout=settings.SHOP_WEBHOOK_TIMEOUT,
            allow_redirects=False,  # a redirect could point anywhere, past the URL check
        )
    except requests.RequestException as exc:
        return None, f"{type(exc).__name__}: {exc}"[:ERROR_MAX_LENGTH]
    error = "" if 200 <= response.status_code < 300 else response.text[:500]
    return response.status_code, error


def attempt_delivery(*, delivery: WebhookDelivery) -> bool:
    """Post one delivery now and record the attempt; return whether the receiver took it.

    On a 2xx the delivery is marked delivered and the endpoint's failure record cleared. On
    anything else the next attempt is scheduled with backoff, and an endpoint failing for
    ``SHOP_WEBHOOK_DISABLE_AFTER_DAYS`` is disabled and staff are emailed. Callers must hold
    the endpoint's lease (``deliver_endpoint`` does).
    """
    endpoint = WebhookEndpoint.objects.get(pk=delivery.endpoint_id)
    started = time.monotonic()
    status_code, error = _post(endpoint, _body(delivery))
    latency_ms = int((time.monotonic() - started) * 1000)
    ok = status_code is not None and 200 <= status_code < 300
    now = timezone.now()
    WebhookAttempt.objects.create(
        delivery=delivery, status_code=status_code, latency_ms=latency_ms, error=error
    )
    if ok:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.DELIVERED,
            attempts=F("attempts") + 1,
            delivered_at=now,
            next_attempt_at=None,
            last_error="",
            updated_at=now,
        )
        WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=False).update(
            failing_since=None
        )
        return True
    attempts = delivery.attempts + 1
    delay = RETRY_DELAYS[min(attempts, len(RETRY_DELAYS)) - 1]
    next_attempt_at = now + timedelta(seconds=delay)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        attempts=F("attempts") + 1,
        next_attempt_at=next_attempt_at,
        last_error=(error or f"HTTP {status_code}")[:ERROR_MAX_LENGTH],
        updated_at=now,
    )
    logger.warning(
        "Webhook %s to %s failed (attempt %s, %s); retrying in %ss",
        delivery.event_type,
        urlsplit(endpoint.url).hostname,
        attempts,
        status_code or error,
        delay,
    )
    _record_endpoint_failure(endpoint, now=now)
    enqueue_delivery(endpoint_id=endpoint.pk, run_after=next_attempt_at)
    return False


def _record_endpoint_failure(endpoint: WebhookEndpoint, *, now: datetime) -> None:
    if endpoint.failing_since is None:
        WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=True).update(
            failing_since=now
        )
        return
    limit = timedelta(days=settings.SHOP_WEBHOOK_DISABLE_AFTER_DAYS)
    if endpoint.failing_since > now - limit:
        return
    with transaction.atomic():
        disabled = WebhookEndpoint.objects.filter(pk=endpoint.pk, is_active=True).update(
            is_active=False, disabled_at=now
        )
        if not disabled:
            return
        logger.error("Disabled webhook endpoint %s after failing since %s", endpoint.pk, now)
        context = {
            "endpoint": {
                "id": endpoint.pk,
                "url": endpoint.url,
                "failing_since": endpoint.failing_since.isoformat(),
                "days": settings.SHOP_WEBHOOK_DISABLE_AFTER_DAYS,
            }
        }
        for email in staff_recipients():
            create_notification(
                kind=NotificationKind.WEBHOOK_DISABLED,
                recipient=email,
                context=context,
                event_key=f"webhook_disabled:{endpoint.pk}:{now.isoformat()}:{email.lower()}",
            )


def redeliver(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Queue a delivery again (delivered or not), due now; its attempts are kept.

    It goes out before the endpoint's later pending events (oldest first), once the endpoint
    is active.
    """
    with transaction.atomic():
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.PENDING,
            next_attempt_at=timezone.now(),
            delivered_at=None,
            updated_at=timezone.now(),
        )
        transaction.on_commit(
            partial(enqueue_delivery, endpoint_id=delivery.endpoint_id), robust=True
        )
    delivery.refresh_from_db()
    return delivery


def deliver_due(*, now: datetime | None = None) -> int:
    """Deliver the due events of every active endpoint (cron or worker); return how many.

    ``now`` (default: the current time) decides what is due.
    """
    now = now or timezone.now()
    endpoint_ids = (
        WebhookDelivery.objects.filter(
            status=DeliveryStatus.PENDING, endpoint__is_active=True, next_attempt_at__lte=now
        )
        .order_by("endpoint_id")
        .values_list("endpoint_id", flat=True)
        .distinct()
    )
    return sum(deliver_endpoint(endpoint_id=pk, now=now) for pk in list(endpoint_ids))
