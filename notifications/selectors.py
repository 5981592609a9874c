from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
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


def staff_recipients() -> list[str]:
    """Return who gets staff alerts: ``SHOP_STAFF_EMAILS``, else every active staff user."""
    emails = list(getattr(settings, "SHOP_STAFF_EMAILS", None) or [])
    if not emails:
        emails = list(
            get_user_model()
            .objects.filter(is_staff=True, is_active=True)
            .exclude(email="")
            .order_by("pk")
            .values_list("email", flat=True)
        )
    unique: dict[str, str] = {}
    for email in emails:
        unique.setdefault(email.strip().lower(), email.strip())
    return list(unique.values())
