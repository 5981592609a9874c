"""The outbox: record emails when events happen, deliver them, retry until they go out.

An email's row is written in the same transaction as the change that causes it
(``create_notification``, called by the signal receivers); delivery runs after commit.

Rows move ``pending -> sending -> sent``; a failed attempt moves ``sending -> pending``
with ``next_attempt_at`` set by exponential backoff, and after ``MAX_ATTEMPTS`` to
``failed``. Every move is a conditional UPDATE on the current status, so two workers (or a
worker and the cron command) can never both send one row.
"""

import logging
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from notifications.emails import REDACTED, SENSITIVE_KEYS, build_message, render_subject
from notifications.errors import NotificationNotResendable
from notifications.models import Notification, NotificationStatus
from notifications.selectors import due_notification_ids

logger = logging.getLogger(__name__)

#: Seconds to wait after the 1st, 2nd, ... failed attempt.
RETRY_DELAYS = (10, 60, 300, 1800, 7200)
#: After this many failed attempts the row is marked failed.
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
ERROR_MAX_LENGTH = 2000


def _enqueue_delivery(notification_id: int, *, run_after: datetime | None = None) -> None:
    """Queue the delivery task; if the queue is unreachable the row stays due for cron."""
    from notifications.tasks import deliver_notification

    task = deliver_notification
    if run_after is not None:
        task = task.using(run_after=run_after)
    try:
        task.enqueue(notification_id=notification_id)
    except Exception:
        logger.exception("Could not enqueue delivery of notification %s", notification_id)


def backend_supports_defer() -> bool:
    """Return whether the tasks backend can run a task later (``run_after``)."""
    from notifications.tasks import deliver_notification

    return deliver_notification.get_backend().supports_defer


def create_notification(
    *, kind: str, recipient: str, context: dict, event_key: str
) -> Notification | None:
    """Record an email for an event in the outbox and queue its delivery after commit.

    Call it inside the transaction of the change that causes the email (the receivers do:
    the emitting apps send their signals inside their transactions). The row is written in a
    savepoint of that transaction, so it commits with the change or not at all, and a
    failure to write it is raised to the caller, whose transaction then rolls back. Delivery
    is queued with ``transaction.on_commit``: nothing is sent for a change that rolls back,
    and a row whose queueing fails stays due for ``send_pending_notifications``. Outside a
    transaction the row commits at once. Idempotent on ``event_key``: when a row for the
    event already exists nothing is created or queued and ``None`` is returned.
    """
    subject = render_subject(kind=kind, context=context)
    try:
        # Insert first: an event is nearly always new, so one INSERT (in a savepoint) rather
        # than get_or_create's SELECT, INSERT and their savepoints; the unique event_key
        # refuses a second row.
        with transaction.atomic():
            notification = Notification.objects.create(
                event_key=event_key,
                kind=kind,
                recipient=recipient,
                context=context,
                subject=subject,
                next_attempt_at=timezone.now(),
            )
    except IntegrityError:
        if Notification.objects.filter(event_key=event_key).exists():
            return None
        raise
    transaction.on_commit(partial(_enqueue_delivery, notification.pk), robust=True)
    return notification


def _short_error(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:ERROR_MAX_LENGTH]


def deliver(*, notification_id: int) -> Notification | None:
    """Send one notification through the configured email backend, at most once.

    Claims the row with a conditional UPDATE ``pending -> sending`` (incrementing
    ``attempts``); a row that is sent, failed, already being sent or missing is left alone.
    No transaction is held open while talking to the mail server. On success the row is
    marked sent (and secrets in its context erased); on failure ``last_error`` is stored and
    the row is rescheduled with backoff (``RETRY_DELAYS``) or, after ``MAX_ATTEMPTS``
    attempts, marked failed. With a tasks backend that supports ``run_after`` the retry is
    queued; otherwise ``send_pending_notifications`` picks it up when due. Never raises for
    a delivery failure. Return the row as it ends up (``None`` if it does not exist).
    """
    now = timezone.now()
    claimed = Notification.objects.filter(
        pk=notification_id, status=NotificationStatus.PENDING
    ).update(status=NotificationStatus.SENDING, attempts=F("attempts") + 1, updated_at=now)
    notification = Notification.objects.filter(pk=notification_id).first()
    if not claimed or notification is None:
        return notification

    try:
        build_message(notification).send(fail_silently=False)
    except Exception as exc:
        return _record_failure(notification, exc)

    context = notification.context
    if SENSITIVE_KEYS & context.keys():
        context = {k: (REDACTED if k in SENSITIVE_KEYS else v) for k, v in context.items()}
    Notification.objects.filter(pk=notification.pk, status=NotificationStatus.SENDING).update(
        status=NotificationStatus.SENT,
        sent_at=timezone.now(),
        next_attempt_at=None,
        last_error="",
        context=context,
        updated_at=timezone.now(),
    )
    notification.refresh_from_db()
    return notification


def _record_failure(notification: Notification, exc: Exception) -> Notification:
    error = _short_error(exc)
    now = timezone.now()
    if notification.attempts >= MAX_ATTEMPTS:
        logger.error(
            "Giving up on notification %s after %s attempts: %s",
            notification.pk,
            notification.attempts,
            error,
        )
        fields: dict[str, object] = {
            "status": NotificationStatus.FAILED,
            "next_attempt_at": None,
        }
    else:
        delay = RETRY_DELAYS[min(notification.attempts, len(RETRY_DELAYS)) - 1]
        logger.warning(
            "Notification %s attempt %s failed, retrying in %ss: %s",
            notification.pk,
            notification.attempts,
            delay,
            error,
        )
        fields = {
            "status": NotificationStatus.PENDING,
            "next_attempt_at": now + timedelta(seconds=delay),
        }
    Notification.objects.filter(pk=notification.pk, status=NotificationStatus.SENDING).update(
        last_error=error, updated_at=now, **fields
    )
    notification.refresh_from_db()
    if notification.status == NotificationStatus.PENDING and backend_supports_defer():
        _enqueue_delivery(notification.pk, run_after=notification.next_attempt_at)
    return notification


def resend(*, notification_id: int) -> Notification:
    """Reset a notification to pending (attempts from zero) and queue its delivery.

    Sends a sent email again: this is the staff's explicit choice. Raises
    ``NotificationNotResendable`` for a row being sent right now, or for a sent password
    reset (its link was erased; the user must ask for a new one).
    """
    with transaction.atomic():
        notification = Notification.objects.select_for_update().get(pk=notification_id)
        if notification.status == NotificationStatus.SENDING:
            raise NotificationNotResendable("This email is being sent right now.")
        if any(notification.context.get(key) == REDACTED for key in SENSITIVE_KEYS):
            raise NotificationNotResendable(
                "This email held a one-time link that was erased after sending; "
                "the customer must request a new one."
            )
        notification.status = NotificationStatus.PENDING
        notification.attempts = 0
        notification.sent_at = None
        notification.next_attempt_at = timezone.now()
        notification.save(
            update_fields=["status", "attempts", "sent_at", "next_attempt_at", "updated_at"]
        )
        transaction.on_commit(partial(_enqueue_delivery, notification.pk), robust=True)
    return notification


def requeue_failed() -> int:
    """Move every failed notification back to pending, due now, with a fresh attempt count.

    Return how many rows were re-queued. Delivery is left to the caller.
    """
    return Notification.objects.filter(status=NotificationStatus.FAILED).update(
        status=NotificationStatus.PENDING,
        attempts=0,
        next_attempt_at=timezone.now(),
        updated_at=timezone.now(),
    )


def release_stale_claims() -> int:
    """Return rows stuck in ``sending`` (a process died mid-send) to pending, due now.

    A row counts as stuck when it has been ``sending`` for longer than
    ``NOTIFICATIONS_CLAIM_TIMEOUT`` seconds (default 600, well beyond ``EMAIL_TIMEOUT``).
    Return how many rows were released.
    """
    timeout = getattr(settings, "NOTIFICATIONS_CLAIM_TIMEOUT", 600)
    now = timezone.now()
    return Notification.objects.filter(
        status=NotificationStatus.SENDING, updated_at__lt=now - timedelta(seconds=timeout)
    ).update(status=NotificationStatus.PENDING, next_attempt_at=now, updated_at=now)


def deliver_due(*, limit: int | None = None) -> dict[str, int]:
    """Deliver every due pending notification synchronously, one at a time.

    A failure of one email never stops the others. Return counts by resulting status.
    """
    counts = dict.fromkeys(NotificationStatus.values, 0)
    for notification_id in due_notification_ids(limit=limit):
        notification = deliver(notification_id=notification_id)
        if notification is not None:
            counts[notification.status] += 1
    return counts
