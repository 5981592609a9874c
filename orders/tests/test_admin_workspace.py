"""The order workspace: moves from the order page, the ship form, the panels, search."""

from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.roles import CUSTOMER_SERVICE, FINANCE, FULFILMENT
from accounts.tests.factories import StaffUserFactory, UserFactory
from catalog.tests.factories import make_variant
from orders.admin import format_address
from orders.lifecycle import cancel_order
from orders.models import Order, OrderStatus
from orders.tests.factories import ADDRESS, fast_gateway, order_in, place, staff_in  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_gateway")]


def page_of(client, order) -> str:
    response = client.get(reverse("admin:orders_order_change", args=[order.pk]))
    assert response.status_code == 200
    return response.content.decode()


def move(client, order, to_status, **data):
    return client.post(
        reverse("admin:orders_order_move", args=[order.pk]),
        {"to_status": to_status, **data},
        follow=True,
    )


def test_fulfilment_moves_an_order_from_received_to_delivered_on_its_page(client):
    client.force_login(StaffUserFactory(roles=[FULFILMENT]))
    order = place()
    page = page_of(client, order)
    assert 'data-move="processing"' in page
    assert 'data-move="cancelled"' not in page  # Fulfilment may not cancel
    for status in (OrderStatus.PROCESSING, OrderStatus.FULFILLED):
        move(client, order, status)
    response = move(client, order, OrderStatus.SHIPPED, carrier="DHL", tracking_number="JD0123")
    assert "is now Shipped" in response.content.decode()
    order.refresh_from_db()
    shipment = order.shipments.get()
    assert (shipment.carrier, shipment.tracking_number) == ("DHL", "JD0123")
    page = page_of(client, order)
    assert "https://www.dhl.com/en/express/tracking.html?AWB=JD0123" in page
    move(client, order, OrderStatus.DELIVERED)
    order.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED
    assert list(order.events.values_list("to_status", flat=True)) == [
        "received",
        "processing",
        "fulfilled",
        "shipped",
        "delivered",
    ]


def test_ship_without_a_tracking_number_books_the_courier(client):
    client.force_login(StaffUserFactory(roles=[FULFILMENT]))
    order = order_in(OrderStatus.FULFILLED)
    move(client, order, OrderStatus.SHIPPED, carrier="")
    assert order.shipments.get().carrier == "MockPost"


def test_ship_form_refuses_a_carrier_without_tracking_number(client):
    client.force_login(StaffUserFactory(roles=[FULFILMENT]))
    order = order_in(OrderStatus.FULFILLED)
    response = move(client, order, OrderStatus.SHIPPED, carrier="UPS")
    assert "Enter the tracking number UPS gave you." in response.content.decode()
    order.refresh_from_db()
    assert order.status == OrderStatus.FULFILLED


def test_other_carrier_with_tracking_number(client):
    client.force_login(StaffUserFactory(roles=[FULFILMENT]))
    order = order_in(OrderStatus.FULFILLED)
    move(client, order, OrderStatus.SHIPPED, other_carrier="Bring", tracking_number="B-1")
    assert order.shipments.get().carrier == "Bring"


def test_a_move_not_allowed_now_is_refused(client):
    client.force_login(StaffUserFactory(roles=[FULFILMENT]))
    order = place()
    response = move(client, order, OrderStatus.DELIVERED)
    assert "cannot move to delivered now" in response.content.decode()
    order.refresh_from_db()
    assert order.status == OrderStatus.RECEIVED


def test_customer_service_cancels_but_cannot_move(client):
    client.force_login(StaffUserFactory(roles=[CUSTOMER_SERVICE]))
    order = place()
    page = page_of(client, order)
    assert 'data-move="cancelled"' in page
    assert 'data-move="processing"' not in page
    move(client, order, OrderStatus.PROCESSING)
    order.refresh_from_db()
    assert order.status == OrderStatus.RECEIVED
    response = move(client, order, OrderStatus.CANCELLED)
    assert "Tick the box to confirm" in response.content.decode()
    order.refresh_from_db()
    assert order.status == OrderStatus.RECEIVED
    move(client, order, OrderStatus.CANCELLED, confirm="1")
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED


def test_staff_without_order_roles_cannot_move(client):
    client.force_login(StaffUserFactory(roles=[]))
    order = place()
    assert move(client, order, OrderStatus.PROCESSING).status_code == 403


def test_page_shows_address_customer_and_lifetime_value(client):
    user = UserFactory(first_name="Ada", last_name="Lovelace")
    variant = make_variant(on_hand=20, price=Decimal("10.00"))
    first = place(user=user, items=[(variant, 1)])
    cancelled = place(user=user, items=[(variant, 1)])
    cancel_order(order=cancelled, user=user)
    order = place(user=user, items=[(variant, 2)])
    client.force_login(StaffUserFactory(roles=[FINANCE]))
    page = page_of(client, order)
    assert "1 Analytical Way<br>N1 9GU London<br>United Kingdom" in page
    assert "Ada Lovelace" in page
    assert first.number in page
    assert cancelled.number in page
    lifetime = first.total + order.total
    assert f'data-testid="lifetime-value">{lifetime} ' in page
    assert "3 orders" in page
    assert "Payments" in page  # Finance sees payments
    assert '"shipping_address"' not in page  # no raw JSON


def test_fulfilment_does_not_see_payments_or_emails(client):
    client.force_login(StaffUserFactory(roles=[FULFILMENT]))
    page = page_of(client, place())
    assert 'id="ws-payments"' not in page
    assert 'id="order-emails"' not in page


def test_customer_service_sees_the_emails_sent(client):
    client.force_login(StaffUserFactory(roles=[CUSTOMER_SERVICE]))
    order = order_in(OrderStatus.SHIPPED)
    page = page_of(client, order)
    assert 'id="order-emails"' in page
    assert f"Order {order.number}" in page.split('id="order-emails"')[1]


def test_format_address_prints_lines():
    assert format_address(dict(ADDRESS)) == [
        "Ada Lovelace",
        "1 Analytical Way",
        "N1 9GU London",
        "United Kingdom",
    ]
    assert format_address("nonsense") == []


@pytest.mark.parametrize(
    "query", ["Lovelace", "n1 9gu", "LONDON", "buyer@example.org", "ORDER-NUMBER"]
)
def test_order_search_by_number_email_name_postcode_city(client, query):
    order = place(user=UserFactory(email="buyer@example.org"))
    other = place(user=UserFactory(email="other@example.com"))
    Order.objects.filter(pk=other.pk).update(
        shipping_address={**ADDRESS, "full_name": "Bob", "city": "Oslo", "postal_code": "0150"}
    )
    client.force_login(StaffUserFactory(roles=[FULFILMENT]))
    q = order.number if query == "ORDER-NUMBER" else query
    response = client.get(reverse("admin:orders_order_changelist"), {"q": q})
    assert response.status_code == 200
    assert [o.pk for o in response.context["cl"].result_list] == [order.pk]


def test_order_list_is_constant_in_queries(client, django_assert_max_num_queries):
    client.force_login(StaffUserFactory(roles=[FULFILMENT]))
    for _ in range(3):
        place()
    with django_assert_max_num_queries(12):
        client.get(reverse("admin:orders_order_changelist"))
    for _ in range(5):
        place()
    with django_assert_max_num_queries(12):
        client.get(reverse("admin:orders_order_changelist"))


@pytest.mark.parametrize("lines", [1, 6])
def test_order_page_is_constant_in_queries(client, django_assert_max_num_queries, lines):
    client.force_login(StaffUserFactory(roles=[FINANCE, CUSTOMER_SERVICE]))
    items = [(make_variant(on_hand=5), 1) for _ in range(lines)]
    order = order_in(OrderStatus.SHIPPED, items=items)
    with django_assert_max_num_queries(21):
        page_of(client, order)


@pytest.mark.parametrize("count", [1, 8])
def test_returns_list_is_constant_in_queries(client, django_assert_max_num_queries, count):
    from orders.returns.services import request_return

    client.force_login(StaffUserFactory(roles=[FULFILMENT]))
    for _ in range(count):
        order = order_in(OrderStatus.DELIVERED)
        request_return(
            order=order, user=order.user, lines=[{"sku": order.lines.first().sku, "quantity": 1}]
        )
    with django_assert_max_num_queries(10):
        response = client.get(reverse("admin:orders_returnrequest_changelist"))
    assert response.status_code == 200


def test_the_order_page_links_to_line_editing_only_for_staff_who_may_edit_or_refund(client):
    order = place()
    client.force_login(staff_in(FINANCE))
    edit_url = reverse("orders:staff-edit", args=[order.number])
    assert edit_url in page_of(client, order)
    client.force_login(staff_in(FULFILMENT))
    assert edit_url not in page_of(client, order)
