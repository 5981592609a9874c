"""Staff roles on orders and returns: what each role may do through the API and the admin."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.tests.factories import StaffUserFactory, UserFactory
from orders.models import OrderStatus, PaymentStatus, ReturnStatus
from orders.returns.services import request_return
from orders.tests.factories import fast_gateway, order_in, place  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_gateway")]
ORDERS = "/api/v1/orders/"
RETURNS = "/api/v1/returns/"


def api_as(*roles, **kwargs) -> APIClient:
    client = APIClient()
    client.force_authenticate(StaffUserFactory(roles=list(roles), **kwargs))
    return client


def admin_as(client, *roles, **kwargs):
    client.force_login(StaffUserFactory(roles=list(roles), **kwargs))
    return client


def requested_return(order=None):
    order = order or order_in(OrderStatus.DELIVERED)
    return request_return(
        order=order, user=order.user, lines=[{"sku": order.lines.first().sku, "quantity": 1}]
    )


def assert_denied(response) -> None:
    assert (response.status_code, response.json()["code"]) == (403, "permission_denied")


def offered_actions(response) -> set[str]:
    """Return the admin actions a changelist offers (no form at all when there are none)."""
    form = response.context["action_form"]
    return {name for name, _ in form.fields["action"].choices if name} if form else set()


# --- the API -------------------------------------------------------------------------------


def test_fulfilment_moves_and_ships_orders():
    order = order_in(OrderStatus.FULFILLED)
    client = api_as("Fulfilment")
    assert client.get(ORDERS).json()["count"] == 1
    response = client.post(f"{ORDERS}{order.number}/transition/", {"status": "shipped"})
    assert response.status_code == 200
    assert response.json()["shipments"][0]["tracking_number"]


def test_fulfilment_may_not_cancel_or_refund():
    order = place()
    client = api_as("Fulfilment")
    assert client.get(f"{ORDERS}{order.number}/").json()["can_cancel"] is False
    assert_denied(client.post(f"{ORDERS}{order.number}/cancel/"))
    assert_denied(client.post(f"{ORDERS}{order.number}/transition/", {"status": "cancelled"}))
    order.refresh_from_db()
    assert (order.status, order.payment_status) == (OrderStatus.RECEIVED, PaymentStatus.PAID)


def test_fulfilment_receives_returns():
    rr = requested_return()
    client = api_as("Fulfilment")
    assert [r["id"] for r in client.get(RETURNS).json()["results"]] == [rr.pk]
    assert client.post(f"{RETURNS}{rr.pk}/receive/").json()["status"] == "refunded"


def test_customer_service_cancels_a_customers_order_until_fulfilled():
    order = order_in(OrderStatus.FULFILLED)
    client = api_as("Customer service")
    assert client.get(f"{ORDERS}{order.number}/").json()["can_cancel"] is True
    response = client.post(f"{ORDERS}{order.number}/cancel/")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["payment_status"]) == (
        "cancelled",
        "refunded",
    )


def test_customer_service_may_not_move_orders_or_receive_returns():
    order = place()
    rr = requested_return()
    client = api_as("Customer service")
    assert_denied(client.post(f"{ORDERS}{order.number}/transition/", {"status": "processing"}))
    assert client.get(RETURNS).status_code == 200
    assert_denied(client.post(f"{RETURNS}{rr.pk}/receive/"))
    rr.refresh_from_db()
    assert rr.status == ReturnStatus.REQUESTED


def test_finance_refunds_returns_and_cancels_but_does_not_move_orders():
    rr = requested_return()
    order = place()
    client = api_as("Finance")
    assert client.post(f"{RETURNS}{rr.pk}/receive/").status_code == 200
    assert client.get(f"{ORDERS}{order.number}/invoice/").status_code == 200
    assert client.post(f"{ORDERS}{order.number}/cancel/").status_code == 200
    assert_denied(client.post(f"{ORDERS}{place().number}/transition/", {"status": "processing"}))


def test_only_staff_with_the_invoice_permission_read_another_customers_invoice():
    order = place()
    assert_denied(api_as("Fulfilment").get(f"{ORDERS}{order.number}/invoice/"))
    assert api_as("Customer service").get(f"{ORDERS}{order.number}/invoice/").status_code == 200


def test_catalog_managers_see_only_their_own_orders():
    order = place()
    client = api_as("Catalog managers")
    assert client.get(ORDERS).json()["count"] == 0
    assert_denied(client.get(f"{ORDERS}{order.number}/"))
    assert_denied(client.post(f"{ORDERS}{order.number}/transition/", {"status": "processing"}))


def test_staff_without_a_role_get_403_on_every_order_write():
    order = order_in(OrderStatus.DELIVERED)
    rr = requested_return(order_in(OrderStatus.DELIVERED))
    client = api_as()
    sku = order.lines.first().sku
    for response in (
        client.get(f"{ORDERS}{order.number}/"),
        client.post(f"{ORDERS}{order.number}/transition/", {"status": "processing"}),
        client.post(f"{ORDERS}{order.number}/cancel/"),
        client.post(f"{ORDERS}{order.number}/returns/", {"lines": [{"sku": sku, "quantity": 1}]}),
        client.get(RETURNS),
        client.post(f"{RETURNS}{rr.pk}/receive/"),
    ):
        assert_denied(response)
    assert client.get(ORDERS).json()["count"] == 0


def test_staff_cancel_their_own_order_as_customers_do():
    client = APIClient()
    clerk = StaffUserFactory(roles=["Fulfilment"])
    client.force_authenticate(clerk)
    fulfilled = order_in(OrderStatus.FULFILLED, user=clerk)
    response = client.post(f"{ORDERS}{fulfilled.number}/cancel/")
    assert (response.status_code, response.json()["code"]) == (409, "invalid_transition")
    assert client.post(f"{ORDERS}{place(user=clerk).number}/cancel/").status_code == 200


def test_customers_still_get_404_on_other_orders_and_403_on_staff_endpoints(api_client):
    order = place()
    api_client.force_authenticate(UserFactory())
    assert api_client.post(f"{ORDERS}{order.number}/cancel/").status_code == 404
    assert_denied(api_client.post(f"{ORDERS}{order.number}/transition/", {"status": "shipped"}))
    assert_denied(api_client.get(RETURNS))


# --- the admin -----------------------------------------------------------------------------


def test_view_only_staff_are_not_offered_cancel_and_a_forged_post_does_nothing(client):
    order = place()
    admin_as(client, permissions=["orders.view_order"])
    url = reverse("admin:orders_order_changelist")
    response = client.get(url)
    assert response.status_code == 200
    assert offered_actions(response) == set()
    client.post(url, {"action": "move_to_cancelled", "_selected_action": [order.pk]})
    order.refresh_from_db()
    assert (order.status, order.payment_status) == (OrderStatus.RECEIVED, PaymentStatus.PAID)
    assert not order.events.filter(to_status=OrderStatus.CANCELLED).exists()


def test_fulfilment_moves_orders_in_the_admin_but_cannot_cancel_them(client):
    order = place()
    admin_as(client, "Fulfilment")
    url = reverse("admin:orders_order_changelist")
    actions = offered_actions(client.get(url))
    assert "move_to_processing" in actions
    assert "move_to_cancelled" not in actions
    client.post(url, {"action": "move_to_cancelled", "_selected_action": [order.pk]})
    order.refresh_from_db()
    assert order.status == OrderStatus.RECEIVED
    client.post(url, {"action": "move_to_processing", "_selected_action": [order.pk]})
    order.refresh_from_db()
    assert order.status == OrderStatus.PROCESSING


def test_customer_service_cancels_and_refunds_in_the_admin(client):
    order = place()
    admin_as(client, "Customer service")
    url = reverse("admin:orders_order_changelist")
    assert offered_actions(client.get(url)) == {"move_to_cancelled"}
    client.post(url, {"action": "move_to_cancelled", "_selected_action": [order.pk]})
    order.refresh_from_db()
    assert (order.status, order.payment_status) == (OrderStatus.CANCELLED, PaymentStatus.REFUNDED)


def test_only_roles_that_receive_returns_get_the_admin_receive_action(client):
    rr = requested_return()
    url = reverse("admin:orders_returnrequest_changelist")
    admin_as(client, "Customer service")
    assert "receive" not in offered_actions(client.get(url))
    client.post(url, {"action": "receive", "_selected_action": [rr.pk]})
    rr.refresh_from_db()
    assert rr.status == ReturnStatus.REQUESTED
    admin_as(client, "Finance")
    assert "receive" in offered_actions(client.get(url))
    client.post(url, {"action": "receive", "_selected_action": [rr.pk]})
    rr.refresh_from_db()
    assert rr.status == ReturnStatus.REFUNDED


def test_the_sales_dashboard_is_for_finance(client):
    dashboard = reverse("orders:staff-dashboard")
    admin_as(client, "Fulfilment")
    assert client.get(dashboard).status_code == 403
    assert dashboard.encode() not in client.get(reverse("admin:index")).content
    admin_as(client, "Finance")
    assert client.get(dashboard).status_code == 200
    assert dashboard.encode() in client.get(reverse("admin:index")).content
