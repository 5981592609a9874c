"""Payment links: the signed, expiring link to a draft order's pay page, and sending it."""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from orders.drafts.services.building import _event, _place_draft
from orders.errors import (
    OrderNotPayable,
)
from orders.lifecycle import await_payment
from orders.models import (
    Order,
    OrderEventType,
    OrderStatus,
)
from orders.payments.services import (
    void_pending_payment,
)
from orders.signals import payment_link_sent

logger = logging.getLogger(__name__)

PAY_LINK_SALT = "orders.drafts.pay"
#: ``Order.payment_action`` key of a payment of the link running now (``paying._claim_payment``).
PAYING_SINCE = "paying_since"


def payment_link_days() -> int:
    """Return how many days a payment link works (``SHOP_PAYMENT_LINK_DAYS``)."""
    return max(1, int(getattr(settings, "SHOP_PAYMENT_LINK_DAYS", 7)))


def link_version(*, order: Order) -> int:
    """Return what names the order's current payment link: its expiry, in microseconds (a
    link sent again has a new one)."""
    expires = order.payment_link_expires_at
    return int(expires.timestamp() * 1_000_000) if expires else 0


def _link_payload(order: Order) -> list:
    return [order.number, link_version(order=order)]


def payment_link_token(*, order: Order) -> str:
    """Return the token of the order's current payment link: its number and the link's expiry,
    signed with ``SECRET_KEY`` (a new link, sent again, makes the earlier ones stop working)."""
    return signing.dumps(_link_payload(order), salt=PAY_LINK_SALT)


def payment_link_matches(*, order: Order, token: str | None) -> bool:
    """Return whether ``token`` is the order's current payment link token (expired or not)."""
    if not token or len(token) > 255 or order.payment_link_expires_at is None:
        return False
    try:
        payload = signing.loads(token, salt=PAY_LINK_SALT)
    except signing.BadSignature:
        return False
    return bool(payload == _link_payload(order))


def payment_link_path(*, order: Order) -> str:
    """Return the path of the order's pay page with its link token."""
    path = reverse("orders:pay", kwargs={"number": order.number})
    return f"{path}?token={payment_link_token(order=order)}"


def link_expired(*, order: Order, now: datetime | None = None) -> bool:
    """Return whether the order's payment link is over (or it never had one)."""
    expires = order.payment_link_expires_at
    return expires is None or (now or timezone.now()) >= expires


def send_payment_link(*, order: Order, user: User) -> Order:
    """Send the draft (or, again, an unpaid link order) to its customer as a payment link.

    From ``draft``: checks it is complete (``ValidationError``), fixes its prices, allocates
    its stock (``InsufficientStock`` 409: nothing changes) and moves it to ``pending_payment``.
    Either way the link is valid for ``SHOP_PAYMENT_LINK_DAYS`` from now (a link sent before
    stops working, and a payment the customer left waiting for 3-D Secure is cancelled), a
    ``payment_link_sent`` event is recorded and ``payment_link_sent`` sent inside the
    transaction (the email's outbox row commits with it). Locks the order row, then
    the stock rows (variant order). Raises ``OrderNotPayable`` (409) for an order that is
    neither a draft nor an unpaid link order.
    """
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        resend = (
            locked.status == OrderStatus.PENDING_PAYMENT
            and locked.payment_link_expires_at is not None
        )
        if locked.status != OrderStatus.DRAFT and not resend:
            raise OrderNotPayable()
        if resend:
            # A payment the bank wanted confirmed and the customer left: stop it, so the new
            # link offers the payment form again.
            void_pending_payment(order=locked)
            claim = locked.payment_action.get(PAYING_SINCE)  # a payment running now stays
            locked.payment_action = {PAYING_SINCE: claim} if claim else {}
        else:
            _place_draft(locked)
        locked.payment_link_expires_at = timezone.now() + timedelta(days=payment_link_days())
        locked.save(update_fields=["payment_link_expires_at", "payment_action", "updated_at"])
        if not resend:
            await_payment(order=locked, user=user, note="Payment link sent to the customer.")
            locked.refresh_from_db()
        expires = timezone.localtime(locked.payment_link_expires_at)
        _event(
            locked,
            user=user,
            type=OrderEventType.PAYMENT_LINK_SENT,
            note=f"Payment link for {locked.total} {locked.currency} emailed to {locked.email}"
            f" (valid until {expires:%Y-%m-%d %H:%M %Z}).",
        )
        payment_link_sent.send(
            sender=Order, order_id=locked.pk, pay_url=payment_link_path(order=locked)
        )
    return locked
