"""Issue 18 (storefront polish), the order pages: the timeline in the shopper's words, times
in the shop's time zone, the invoice and the address with country names."""

import datetime as dt

import pytest

from orders.lifecycle import transition_order
from orders.models import OrderEvent, OrderStatus
from orders.tests.factories import fast_gateway, order_in, place  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_gateway")]


@pytest.fixture
def shopper(client):
    from accounts.tests.factories import UserFactory

    user = UserFactory()
    client.force_login(user)
    return user


def test_the_timeline_speaks_to_the_shopper_and_hides_staff_notes(client, shopper):
    order = order_in(OrderStatus.SHIPPED, user=shopper)
    staff = order.events.filter(user__is_staff=True).first().user
    order = transition_order(
        order=order, to_status=OrderStatus.DELIVERED, user=staff, note="Admin action"
    )
    body = client.get(f"/orders/{order.number}/").content.decode()
    timeline = body[body.index('data-testid="timeline"') :]
    timeline = timeline[: timeline.index("</ol>")]
    assert "Order placed" in timeline
    assert "We are preparing your order" in timeline
    assert "Your order is packed" in timeline
    assert "Your order has shipped" in timeline
    assert "Your order was delivered" in timeline
    assert "Admin action" not in body


def test_times_are_shown_in_the_shop_time_zone_with_its_name(client, shopper, settings):
    settings.TIME_ZONE = settings.SHOP_TIME_ZONE = "Europe/Berlin"
    order = place(user=shopper)
    winter_noon = dt.datetime(2026, 1, 15, 12, 0, tzinfo=dt.UTC)
    type(order).objects.filter(pk=order.pk).update(created_at=winter_noon)
    OrderEvent.objects.filter(order=order).update(created_at=winter_noon)
    body = client.get(f"/orders/{order.number}/").content.decode()
    assert "15 January 2026, 13:00 CET" in body
    assert "15 Jan 2026, 13:00 CET" in body  # the timeline
    assert "12:00" not in body
