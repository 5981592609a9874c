"""The mail server goes down: shopping goes on, and every email goes out once it is back."""

from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.signals import user_registered
from cart.services import add_item, get_cart_for
from notifications.models import Notification, NotificationKind, NotificationStatus
from notifications.tests.factories import (
    OrderFactory,
    ShipmentFactory,
    StockItemFactory,
    UserFactory,
)
from orders.checkout.services import place_order
from orders.models import Order
from orders.payments.gateways import MockGateway
from orders.signals import order_status_changed

pytestmark = pytest.mark.django_db

ADDRESS = {
    "full_name": "Ada Lovelace",
    "line1": "12 Analytical Street",
    "city": "London",
    "postal_code": "N1 9GU",
    "country": "GB",
}


@pytest.fixture(autouse=True)
def _fresh_gateway():
    MockGateway.reset()
    yield
    MockGateway.reset()


def test_an_smtp_outage_loses_no_email_and_sends_each_once(
    smtp_server, settings, django_capture_on_commit_callbacks
):
    settings.SHOP_STAFF_EMAILS = ["stock@shop.test"]
    item = StockItemFactory(
        on_hand=6,
        low_stock_threshold=5,
        low_stock_alerted=False,
        variant__sku="MUG-01",
        variant__price=Decimal("12.50"),
    )
    customer = UserFactory()
    smtp_server.stop()

    with django_capture_on_commit_callbacks(execute=True):
        user_registered.send(sender=type(customer), user_id=customer.pk)
    with django_capture_on_commit_callbacks(execute=True):
        cart = get_cart_for(user=customer, create=True)
        add_item(cart=cart, sku="MUG-01", quantity=2)
        order = place_order(
            user=customer,
            cart=cart,
            shipping_address=ADDRESS,
            payment_token="tok_success",  # noqa: S106
        )
    shipped = OrderFactory(status="shipped")
    ShipmentFactory(order=shipped, tracking_number="TRACK-42")
    with django_capture_on_commit_callbacks(execute=True):
        order_status_changed.send(
            sender=Order,
            order_id=shipped.pk,
            from_status="fulfilled",
            to_status="shipped",
            refund_amount=None,
        )

    # Checkout went through; every email waits in the outbox with its error.
    assert Order.objects.filter(pk=order.pk).exists()
    rows = list(Notification.objects.all())
    assert Counter(row.kind for row in rows) == {
        NotificationKind.WELCOME: 1,
        NotificationKind.ORDER_CONFIRMATION: 1,
        NotificationKind.LOW_STOCK: 1,
        NotificationKind.ORDER_SHIPPED: 1,
    }
    for row in rows:
        assert row.status == NotificationStatus.PENDING
        assert row.attempts == 1
        assert "Connection" in row.last_error
        assert row.next_attempt_at > timezone.now()
    assert smtp_server.messages == []

    smtp_server.start()  # same port
    call_command("send_pending_notifications", verbosity=0)
    assert smtp_server.messages == []  # not due yet: the backoff is respected

    Notification.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    call_command("send_pending_notifications", verbosity=0)
    call_command("send_pending_notifications", verbosity=0)

    assert Notification.objects.exclude(status=NotificationStatus.SENT).count() == 0
    received = Counter((m.rcpt_tos[0], m.subject) for m in smtp_server.messages)
    assert received == {
        (customer.email, "Welcome to Test Shop"): 1,
        (customer.email, f"Order {order.number} confirmed"): 1,
        ("stock@shop.test", "Low stock: MUG-01 (4 available)"): 1,
        (shipped.email, f"Order {shipped.number} has shipped"): 1,
    }
    shipped_mail = next(m for m in smtp_server.messages if "shipped" in m.subject)
    assert "TRACK-42" in shipped_mail.text
    assert item.variant.sku in next(m for m in smtp_server.messages if "stock" in m.subject).text
