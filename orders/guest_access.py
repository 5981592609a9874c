"""Guest orders: the order token that grants access to one order, and attaching it later.

A guest's order has no user. At checkout the guest is given an opaque ``order_token``
(``secrets.token_urlsafe``, 43 characters); only its sha256 is stored on the order
(``Order.order_token_hash``) and a presented token is compared in constant time, so a copy
of the orders table does not open anyone's order.

The guest's later emails (shipped, cancelled, refunded) cannot carry that token (it is not
stored), so they carry a *link token* instead (``order_link_token``): the order number and a
prefix of the token's hash, signed with ``SECRET_KEY`` (``django.core.signing``). It opens the
same one order, wherever an order token is accepted; a copy of the table alone still opens
nothing.
"""

import hashlib
import hmac
import secrets

from django.core import signing
from django.db import transaction

from accounts.models import User
from orders.models import Order


def new_order_token() -> str:
    """Return a fresh order token (43 URL-safe characters, 256 bits)."""
    return secrets.token_urlsafe(32)


def hash_order_token(*, token: str) -> str:
    """Return the sha256 hex digest stored for ``token``."""
    return hashlib.sha256(token.encode()).hexdigest()


LINK_TOKEN_SALT = "orders.guest_access.link"
_HASH_PREFIX = 16  # of the token's hash, bound into a link token


def order_link_token(*, order: Order) -> str:
    """Return a link token opening the guest ``order`` (for its later emails' links).

    Signed with ``SECRET_KEY``; it stops working if the order's token changes.
    """
    payload = [order.number, order.order_token_hash[:_HASH_PREFIX]]
    return signing.dumps(payload, salt=LINK_TOKEN_SALT)


def _link_token_matches(order: Order, token: str) -> bool:
    try:
        payload = signing.loads(token, salt=LINK_TOKEN_SALT)
    except signing.BadSignature:
        return False
    expected = [order.number, order.order_token_hash[:_HASH_PREFIX]]
    return isinstance(payload, list) and payload == expected


def token_matches(*, order: Order, token: str | None) -> bool:
    """Return whether ``token`` opens ``order``: its order token (constant-time compare) or a
    link token of it (``order_link_token``).

    Always False for an order without a token (a member's order) or an empty token.
    """
    if not token or not order.order_token_hash or len(token) > 255:
        return False
    if hmac.compare_digest(order.order_token_hash, hash_order_token(token=token)):
        return True
    return ":" in token and _link_token_matches(order, token)


def guest_order(*, number: str, token: str | None, queryset=None) -> Order | None:
    """Return the order ``number`` when ``token`` is its order token, else None.

    ``queryset`` (default: all orders) lets callers prefetch what they render.
    """
    qs = Order.objects.all() if queryset is None else queryset
    order = qs.filter(number=number).first()
    if order is None or not token_matches(order=order, token=token):
        return None
    return order


def attach_guest_order(*, order: Order, user: User) -> Order:
    """Give the guest ``order`` to ``user`` (who just created an account) and return it.

    Atomic; locks the order row. Does nothing to an order that already has a user. The order
    token keeps working (the guest's email link stays valid).
    """
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        if locked.user_id is None:
            locked.user = user
            locked.save(update_fields=["user", "updated_at"])
    return locked
