"""The staff page for editing an order and issuing goodwill refunds (admin frame)."""

from decimal import Decimal

import pytest
from django.urls import reverse

from catalog.tests.factories import make_variant
from orders.models import Order, OrderEventType, OrderStatus
from orders.tests.factories import fast_gateway, order_in, place, staff_in  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_gateway")]


@pytest.fixture
def order():
    return place(items=[(make_variant(sku="LAMP-1", on_hand=10, price=Decimal("20.00")), 2)])


def url(order) -> str:
    return reverse("orders:staff-edit", args=[order.number])


def test_finance_changes_a_line_adds_one_and_refunds_from_the_page(client, order):
    make_variant(sku="MUG-1", on_hand=5, price=Decimal("7.50"))
    client.force_login(staff_in("Finance"))
    page = client.get(url(order))
    assert page.status_code == 200
    assert b"csrfmiddlewaretoken" in page.content
    assert b"Goodwill refund" in page.content

    client.post(url(order), {"action": "change", "sku": "LAMP-1", "quantity": "1"})
    client.post(
        url(order),
        {"action": "add", "sku": "MUG-1", "quantity": "2", "payment_token": "tok_success"},
    )
    response = client.post(
        url(order), {"action": "refund", "amount": "3.00", "reason": "Sorry for the wait"}
    )
    assert response.status_code == 302
    order = Order.objects.get(pk=order.pk)
    assert {line.sku: line.quantity for line in order.lines.all()} == {"LAMP-1": 1, "MUG-1": 2}
    assert order.refunded_total == Decimal("3.00")
    assert set(order.events.values_list("type", flat=True)) >= {
        OrderEventType.LINE_CHANGED,
        OrderEventType.LINE_ADDED,
        OrderEventType.GOODWILL_REFUND,
    }


def test_a_refused_change_is_shown_as_a_message_and_nothing_changes(client, order):
    client.force_login(staff_in("Finance"))
    response = client.post(
        url(order),
        {"action": "refund", "amount": "1000.00", "reason": "Too generous"},
        follow=True,
    )
    assert b"left to refund" in response.content
    response = client.post(
        url(order), {"action": "change", "sku": "LAMP-1", "quantity": "5"}, follow=True
    )
    assert b"payment token" in response.content
    order = Order.objects.get(pk=order.pk)
    assert order.refunded_total == Decimal("0.00")
    assert order.lines.get().quantity == 2


def test_customer_service_edits_but_cannot_refund_and_fulfilment_sees_nothing(client, order):
    client.force_login(staff_in("Customer service"))
    page = client.get(url(order))
    assert b"Goodwill refund" not in page.content
    assert (
        client.post(url(order), {"action": "refund", "amount": "1", "reason": "x"}).status_code
        == 403
    )
    client.force_login(staff_in("Fulfilment"))
    assert client.get(url(order)).status_code == 403


def test_the_page_offers_no_line_forms_once_fulfilment_started(client):
    shipped = order_in(OrderStatus.SHIPPED)
    client.force_login(staff_in("Finance"))
    page = client.get(url(shipped))
    assert b'value="change"' not in page.content
    assert b"only before fulfilment" in page.content
