"""Helpers for the draft order tests: a staff member of a role and a draft ready to send."""

from decimal import Decimal

from accounts.models import User
from accounts.roles import CUSTOMER_SERVICE, FINANCE
from catalog.tests.factories import make_variant
from orders.drafts.services import create_draft_order, set_draft_address, set_draft_line
from orders.models import Order
from orders.tests.factories import ADDRESS, staff_in


def finance() -> User:
    return staff_in(FINANCE)


def customer_service() -> User:
    return staff_in(CUSTOMER_SERVICE)


def ready_draft(
    *, email: str = "phone@example.com", items=None, staff: User | None = None, address=None
) -> Order:
    """A draft for ``email`` with ``items`` (``(variant, quantity)``; default 2 x 20.00) and
    an address: ready to send or mark paid."""
    staff = staff or customer_service()
    if items is None:
        items = [(make_variant(on_hand=10, price=Decimal("20.00")), 2)]
    order = create_draft_order(email=email, user=staff)
    for variant, quantity in items:
        order = set_draft_line(order=order, sku=variant.sku, quantity=quantity, user=staff)
    return set_draft_address(order=order, shipping_address=dict(address or ADDRESS), user=staff)
