"""Abandoned-cart reminders: one email for an open cart untouched for a day.

A cart qualifies when it is open, has lines, has not changed for
``SHOP_CART_REMINDER_HOURS`` (24) hours, has had no reminder yet, and belongs to a signed-in
shopper or to a guest who gave an email at checkout (``remember_cart_email``), unless that
address opted out (``opt_out``, the link in every reminder). ``send_cart_reminders`` (the
daily ``send_cart_reminders`` command) marks a batch and sends ``cart.signals.cart_abandoned``
in the same transaction; the notifications app writes the emails' outbox rows.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Coalesce, Lower, NullIf
from django.utils import timezone

from cart.models import Cart, CartLine, CartReminderOptOut, CartStatus
from cart.signals import cart_abandoned

OPT_OUT_SALT = "cart.reminders.opt-out"
BATCH = 500


def remember_cart_email(*, cart: Cart | None, email: str) -> None:
    """Keep the email a guest gave at checkout on their cart (for the reminder)."""
    if cart is not None and cart.user_id is None and email:
        Cart.objects.filter(pk=cart.pk).update(email=email.strip()[:254])


def reminder_hours() -> int:
    return int(getattr(settings, "SHOP_CART_REMINDER_HOURS", 24))


def opt_out_token(*, email: str) -> str:
    """Return the signed token of the opt-out link for ``email``."""
    return signing.dumps(email.strip().lower(), salt=OPT_OUT_SALT)


def email_from_token(*, token: str) -> str | None:
    """Return the address an opt-out token was made for, or ``None`` if it is not ours."""
    try:
        return str(signing.loads(token, salt=OPT_OUT_SALT))
    except signing.BadSignature:
        return None


def opt_out(*, email: str) -> None:
    """Send no more abandoned-cart reminders to ``email`` (idempotent)."""
    CartReminderOptOut.objects.get_or_create(email=email.strip().lower())


def due_carts(*, now: datetime | None = None) -> QuerySet[Cart]:
    """Return the carts a reminder is due for, oldest change first, with ``recipient``."""
    cutoff = (now or timezone.now()) - timedelta(hours=reminder_hours())
    opted_out = CartReminderOptOut.objects.filter(email=Lower(OuterRef("recipient")))
    return (
        Cart.objects.filter(
            status=CartStatus.OPEN,
            updated_at__lte=cutoff,
            reminder_sent_at__isnull=True,
            checkout_order_number="",
        )
        .filter(Exists(CartLine.objects.filter(cart_id=OuterRef("pk"))))
        .annotate(
            recipient=Coalesce(NullIf(F("user__email"), Value("")), NullIf(F("email"), Value("")))
        )
        .exclude(recipient__isnull=True)
        .exclude(Exists(opted_out))
        .filter(Q(user__isnull=True) | Q(user__is_active=True))
        .order_by("updated_at", "pk")
    )


def send_cart_reminders(*, now: datetime | None = None, limit: int = BATCH) -> int:
    """Send one batch of due reminders; return how many.

    One transaction: the batch is locked (SKIP LOCKED on PostgreSQL), marked
    ``reminder_sent_at`` (so each cart gets one reminder) and announced with
    ``cart_abandoned``, whose receiver writes the outbox rows in the same transaction.
    """
    now = now or timezone.now()
    with transaction.atomic():
        due = due_carts(now=now)
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True, of=("self",))
        rows = list(due.values_list("pk", "recipient")[:limit])
        if not rows:
            return 0
        Cart.objects.filter(pk__in=[pk for pk, _ in rows]).update(reminder_sent_at=now)
        cart_abandoned.send(
            sender=Cart,
            reminders=[
                {"cart_id": pk, "email": email, "opt_out_token": opt_out_token(email=email)}
                for pk, email in rows
            ],
        )
    return len(rows)
