"""Each domain event produces the right email, delivered through a real SMTP server."""

from decimal import Decimal

import pytest

from accounts.signals import password_reset_requested, user_registered
from inventory.models import StockItem
from inventory.signals import stock_low
from notifications.emails import REDACTED
from notifications.models import Notification, NotificationKind, NotificationStatus
from notifications.tests.factories import (
    OrderFactory,
    ReturnRequestFactory,
    ShipmentFactory,
    StaffFactory,
    StockItemFactory,
    UserFactory,
    order_with_lines,
)
from orders.models import Order
from orders.signals import order_placed, order_status_changed, refund_issued

pytestmark = pytest.mark.django_db


@pytest.fixture
def emit(django_capture_on_commit_callbacks):
    """Send a signal as the emitting app does (after its commit) and run our on_commit work."""

    def send(signal, sender, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            signal.send(sender=sender, **kwargs)

    return send


def test_order_confirmation_has_both_parts_lines_totals_address_and_link(smtp_server, emit):
    order = order_with_lines(lines=2)
    lines = list(order.lines.all())

    emit(order_placed, Order, order_id=order.pk)

    [mail] = smtp_server.messages
    assert mail.rcpt_tos == [order.email]
    assert mail.subject == f"Order {order.number} confirmed"
    assert "multipart/alternative" in mail.content_types()
    assert {"text/plain", "text/html"} <= set(mail.content_types())
    for body in (mail.text, mail.html):
        assert order.number in body
        assert f"https://shop.test/orders/{order.number}/" in body
        for line in lines:
            assert line.sku in body
        assert "USD 79.96" in body  # subtotal of 2 lines of 2 x 19.99
        assert "USD 84.96" in body  # total with 5.00 shipping
        assert "12 Analytical Street" in body
        assert "N1 9GU London" in body
        assert "Test Shop" in body
    notification = Notification.objects.get()
    assert notification.kind == NotificationKind.ORDER_CONFIRMATION
    assert notification.status == NotificationStatus.SENT
    assert notification.attempts == 1
    assert notification.sent_at is not None


def test_from_and_reply_to_come_from_settings(smtp_server, emit):
    order = order_with_lines(lines=1)

    emit(order_placed, Order, order_id=order.pk)

    [mail] = smtp_server.messages
    assert mail.mail_from == "shop@shop.test"
    assert mail.message["From"] == "Test Shop <shop@shop.test>"
    assert mail.message["Reply-To"] == "help@shop.test"
    assert mail.message["Message-ID"].startswith("<notification.")


def test_text_part_is_not_html_escaped_and_html_part_is(smtp_server, emit):
    order = order_with_lines(lines=1)
    order.lines.update(product_name="Salt & <Pepper>")

    emit(order_placed, Order, order_id=order.pk)

    [mail] = smtp_server.messages
    assert "Salt & <Pepper>" in mail.text
    assert "Salt &amp; &lt;Pepper&gt;" in mail.html
    assert "<Pepper>" not in mail.html


def test_order_shipped_email_names_carrier_and_tracking_number(smtp_server, emit):
    order = OrderFactory(status="shipped")
    shipment = ShipmentFactory(order=order, carrier="ParcelCo", tracking_number="PC123456789")

    emit(
        order_status_changed,
        Order,
        order_id=order.pk,
        from_status="fulfilled",
        to_status="shipped",
        refund_amount=None,
    )

    [mail] = smtp_server.messages
    assert mail.rcpt_tos == [order.email]
    assert mail.subject == f"Order {order.number} has shipped"
    for body in (mail.text, mail.html):
        assert shipment.carrier in body
        assert "PC123456789" in body


def test_order_cancelled_email_states_the_refund_amount(smtp_server, emit):
    order = OrderFactory(status="cancelled", refunded_total=Decimal("44.98"))

    emit(
        order_status_changed,
        Order,
        order_id=order.pk,
        from_status="received",
        to_status="cancelled",
        refund_amount="44.98",
    )

    [mail] = smtp_server.messages
    assert mail.subject == f"Order {order.number} cancelled"
    assert "USD 44.98" in mail.text
    assert "USD 44.98" in mail.html


@pytest.mark.parametrize("to_status", ["processing", "fulfilled", "delivered"])
def test_other_status_changes_send_nothing(smtp_server, emit, to_status):
    order = OrderFactory()

    emit(
        order_status_changed,
        Order,
        order_id=order.pk,
        from_status="received",
        to_status=to_status,
        refund_amount=None,
    )

    assert smtp_server.messages == []
    assert not Notification.objects.exists()


def test_refund_email_subject_says_refund_and_body_states_amount(smtp_server, emit):
    return_request = ReturnRequestFactory(refund_amount=Decimal("19.99"))
    order = return_request.order

    emit(
        refund_issued,
        Order,
        order_id=order.pk,
        return_id=return_request.pk,
        amount="19.99",
    )

    [mail] = smtp_server.messages
    assert mail.rcpt_tos == [order.email]
    assert "Refund" in mail.subject
    assert order.number in mail.subject
    assert "USD 19.99" in mail.text
    assert "USD 19.99" in mail.html


def test_low_stock_alert_goes_to_each_configured_staff_address(smtp_server, emit, settings):
    settings.SHOP_STAFF_EMAILS = ["buyer@shop.test", "Ops@shop.test", "ops@shop.test"]
    item = StockItemFactory(on_hand=2, variant__sku="TEE-RED-M", variant__product__name="Tee")

    emit(stock_low, StockItem, stock_item_id=item.pk, sku="TEE-RED-M", available=2)

    assert sorted(r for m in smtp_server.messages for r in m.rcpt_tos) == [
        "Ops@shop.test",
        "buyer@shop.test",
    ]
    for mail in smtp_server.messages:
        assert "stock" in mail.subject.lower()
        assert "TEE-RED-M" in mail.subject
        for body in (mail.text, mail.html):
            assert "TEE-RED-M" in body
            assert "Tee" in body
            assert "Available: 2" in body or "<strong>2</strong>" in body


def test_low_stock_alert_falls_back_to_active_staff_users(smtp_server, emit):
    staff = StaffFactory()
    StaffFactory(is_active=False)
    UserFactory()
    item = StockItemFactory()

    emit(stock_low, StockItem, stock_item_id=item.pk, sku=item.variant.sku, available=1)

    assert [m.rcpt_tos for m in smtp_server.messages] == [[staff.email]]


def test_a_new_low_stock_episode_alerts_again(smtp_server, emit, settings):
    settings.SHOP_STAFF_EMAILS = ["buyer@shop.test"]
    item = StockItemFactory()

    emit(stock_low, StockItem, stock_item_id=item.pk, sku=item.variant.sku, available=1)
    emit(stock_low, StockItem, stock_item_id=item.pk, sku=item.variant.sku, available=0)

    assert len(smtp_server.messages) == 2
    assert "Available: 0" in smtp_server.messages[1].text


def test_welcome_email_on_registration(smtp_server, emit):
    user = UserFactory(first_name="Grace")

    emit(user_registered, type(user), user_id=user.pk)

    [mail] = smtp_server.messages
    assert mail.rcpt_tos == [user.email]
    assert mail.subject == "Welcome to Test Shop"
    assert "Hello Grace" in mail.text
    assert "Hello Grace" in mail.html


def test_password_reset_email_has_the_link_which_is_erased_once_sent(smtp_server, emit):
    user = UserFactory()
    url = "https://shop.test/accounts/reset/MQ/abc-123/"

    emit(
        password_reset_requested,
        type(user),
        user_id=user.pk,
        uid="MQ",
        token="abc-123",  # noqa: S106
        reset_url=url,
    )

    [mail] = smtp_server.messages
    assert mail.rcpt_tos == [user.email]
    assert "password" in mail.subject.lower()
    assert url in mail.text
    assert url in mail.html
    notification = Notification.objects.get()
    assert notification.context["reset_url"] == REDACTED
    assert "abc-123" not in notification.event_key
