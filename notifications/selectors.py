from datetime import datetime

from django.db.models import Q
from django.utils import timezone

from notifications.models import Notification, NotificationStatus


def due_notification_ids(*, now: datetime | None = None, limit: int | None = None) -> list[int]:
    """Return the ids of pending notifications whose next attempt is due, oldest first."""
    now = now or timezone.now()
    qs = (
        Notification.objects.filter(status=NotificationStatus.PENDING)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)
    )
    return list(qs[:limit] if limit else qs)
