"""Back-in-stock alerts: every write to ``StockAlert``.

A shopper (guest or signed in) asks to be emailed when an out-of-stock variant is back
(``subscribe``). When stock makes it available again, ``send_due_alerts`` marks a batch of
its waiting alerts as notified and sends ``catalog.signals.back_in_stock`` in the same
transaction; the notifications app writes one outbox email per alert (each with a one-click
unsubscribe link, ``unsubscribe``). A batch is at most ``SHOP_STOCK_ALERT_BATCH`` alerts: one
runs after every committed stock change (``inventory.signals.stock_changed``, connected in
``catalog.receivers``) and one a minute from the ``send_stock_alerts`` command, so a big
restock is spread over several minutes instead of flooding the mail server. Alerts expire
after ``SHOP_STOCK_ALERT_DAYS`` (90) days.
"""

import secrets
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from accounts.models import User
from catalog.errors import InStock, TooManyAlerts
from catalog.models import StockAlert, StockAlertStatus, Variant
from catalog.selectors import variants_with_stock
from catalog.signals import back_in_stock

ALERTS_PER_EMAIL_PER_DAY = 20


def batch_size() -> int:
    return max(1, int(getattr(settings, "SHOP_STOCK_ALERT_BATCH", 50)))


def alert_days() -> int:
    return int(getattr(settings, "SHOP_STOCK_ALERT_DAYS", 90))


def is_available(*, variant: Variant) -> bool:
    """Return whether shoppers can buy ``variant`` now (purchasable, stock available)."""
    return variants_with_stock().purchasable().filter(pk=variant.pk, available__gt=0).exists()


def subscribe(*, variant: Variant, email: str, user: User | None = None) -> StockAlert:
    """Record an alert for ``email`` on an out-of-stock ``variant``; return it.

    Idempotent: an address already waiting for the variant gets its existing alert back.
    Raises ``InStock`` when the variant can be bought now and ``TooManyAlerts`` after
    ``ALERTS_PER_EMAIL_PER_DAY`` new alerts for the address in a day. The caller checks that
    ``variant`` is purchasable (the API and the page only find purchasable ones).
    """
    email = email.strip()
    if is_available(variant=variant):
        raise InStock()
    waiting = StockAlert.objects.filter(
        variant=variant, email__iexact=email, status=StockAlertStatus.ACTIVE
    ).first()
    if waiting is not None:
        return waiting
    since = timezone.now() - timedelta(days=1)
    if StockAlert.objects.filter(email__iexact=email, created_at__gte=since).count() >= (
        ALERTS_PER_EMAIL_PER_DAY
    ):
        raise TooManyAlerts()
    try:
        with transaction.atomic():
            return StockAlert.objects.create(
                variant=variant,
                email=email,
                user=user,
                token=secrets.token_urlsafe(32),
                expires_at=timezone.now() + timedelta(days=alert_days()),
            )
    except IntegrityError:  # the same request twice at once: one alert
        return StockAlert.objects.get(variant=variant, email=email, status=StockAlertStatus.ACTIVE)


def unsubscribe(*, token: str) -> StockAlert | None:
    """Stop the alert with this unsubscribe token; return it (``None`` for an unknown token).

    Idempotent: unsubscribing twice, or after the email was sent, changes nothing more.
    """
    alert = StockAlert.objects.select_related("variant__product").filter(token=token).first()
    if alert is not None and alert.status == StockAlertStatus.ACTIVE:
        StockAlert.objects.filter(pk=alert.pk, status=StockAlertStatus.ACTIVE).update(
            status=StockAlertStatus.UNSUBSCRIBED
        )
        alert.status = StockAlertStatus.UNSUBSCRIBED
    return alert


def expire_alerts() -> int:
    """Mark waiting alerts older than their ``expires_at`` expired; return how many."""
    return StockAlert.objects.filter(
        status=StockAlertStatus.ACTIVE, expires_at__lte=timezone.now()
    ).update(status=StockAlertStatus.EXPIRED)


def send_due_alerts(*, limit: int | None = None) -> int:
    """Notify one batch of waiting alerts whose variant is available again; return how many.

    One transaction: the batch (oldest first, at most ``limit`` or ``SHOP_STOCK_ALERT_BATCH``)
    is locked (``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL, so two workers never take
    the same alerts), marked ``notified`` and announced with ``back_in_stock``, whose
    receiver writes the emails' outbox rows in the same transaction. Two queries when
    nothing is due.
    """
    available = variants_with_stock().purchasable().filter(available__gt=0).values("pk")
    with transaction.atomic():
        due = StockAlert.objects.filter(
            status=StockAlertStatus.ACTIVE, variant_id__in=available
        ).order_by("created_at", "pk")
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True, of=("self",))
        ids = list(due.values_list("pk", flat=True)[: limit or batch_size()])
        if not ids:
            return 0
        StockAlert.objects.filter(pk__in=ids).update(
            status=StockAlertStatus.NOTIFIED, notified_at=timezone.now()
        )
        back_in_stock.send(sender=StockAlert, alert_ids=ids)
    return len(ids)
