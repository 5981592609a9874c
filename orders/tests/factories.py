"""Helpers to build carts and real orders (through the services) for the orders tests."""

import importlib
from decimal import Decimal

import pytest

from accounts.models import User
from accounts.tests.factories import StaffUserFactory, UserFactory, permission
from cart.models import Cart
from cart.services import add_item, get_cart_for
from catalog.tests.factories import make_variant
from orders.checkout.services import place_order
from orders.lifecycle import transition_order
from orders.models import Order, OrderStatus
from orders.payments.gateways import MockGateway

ADDRESS = {
    "full_name": "Ada Lovelace",
    "line1": "1 Analytical Way",
    "line2": "",
    "city": "London",
    "postal_code": "N1 9GU",
    "country": "GB",
    "phone": "",
}


@pytest.fixture
def fast_gateway(settings, db):
    """No real sleeps between payment retries, and a fresh mock gateway ledger (a table, so
    this needs the database; a test asking for `transactional_db` gets that one)."""
    settings.SHOP_PAYMENT_RETRY_BASE_DELAY = 0
    MockGateway.reset()
    yield MockGateway
    MockGateway.reset()


def cart_with(user, *items) -> Cart:
    """Return the user's open cart holding ``items`` (``(variant, quantity)`` pairs)."""
    cart = get_cart_for(user=user, create=True)
    for variant, quantity in items:
        add_item(cart=cart, sku=variant.sku, quantity=quantity)
    return cart


def place(user=None, items=None, token: str = "tok_success", **kwargs) -> Order:
    """Place an order for ``user`` (a new one by default) of ``items`` (default: 2 x 20.00)."""
    user = user or UserFactory()
    if items is None:
        items = [(make_variant(on_hand=10, price=Decimal("20.00")), 2)]
    cart = cart_with(user, *items)
    return place_order(
        user=user, cart=cart, shipping_address=dict(ADDRESS), payment_token=token, **kwargs
    )


PATH = {
    OrderStatus.RECEIVED: [],
    OrderStatus.PROCESSING: [OrderStatus.PROCESSING],
    OrderStatus.FULFILLED: [OrderStatus.PROCESSING, OrderStatus.FULFILLED],
    OrderStatus.SHIPPED: [OrderStatus.PROCESSING, OrderStatus.FULFILLED, OrderStatus.SHIPPED],
    OrderStatus.DELIVERED: [
        OrderStatus.PROCESSING,
        OrderStatus.FULFILLED,
        OrderStatus.SHIPPED,
        OrderStatus.DELIVERED,
    ],
    OrderStatus.CANCELLED: [OrderStatus.CANCELLED],
}


def order_in(status: str, **kwargs) -> Order:
    """Place an order and walk it (as staff) to ``status``."""
    order = place(**kwargs)
    staff = StaffUserFactory()
    for step in PATH[status]:
        order = transition_order(order=order, to_status=step, user=staff)
    return order


#: What orders migrations 0011 and 0015 grant the roles on top of the accounts migration's.
ORDER_EDITING_GRANTS = importlib.import_module(
    "orders.migrations.0011_order_editing_and_goodwill_refunds"
).GRANTS
DRAFT_ORDER_GRANTS = importlib.import_module(
    "orders.migrations.0016_draft_orders_and_offline_payments"
).GRANTS


def staff_in(*roles: str, **kwargs) -> User:
    """A staff member in ``roles`` holding what a fully migrated database gives them (a
    transactional test's flush leaves the groups to be re-created without later grants)."""
    user = StaffUserFactory(roles=list(roles), **kwargs)
    for group in user.groups.all():
        for grants in (ORDER_EDITING_GRANTS, DRAFT_ORDER_GRANTS):
            group.permissions.add(*[permission(p) for p in grants.get(group.name, [])])
    return User.objects.get(pk=user.pk)
