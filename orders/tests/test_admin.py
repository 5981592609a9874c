import pytest
from django.urls import reverse

from accounts.tests.factories import StaffUserFactory
from orders.models import OrderStatus, ReturnStatus
from orders.returns.services import request_return
from orders.tests.factories import fast_gateway, order_in, place  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_gateway")]


@pytest.fixture
def admin_client_staff(client):
    client.force_login(StaffUserFactory(is_superuser=True))
    return client


def test_order_changelist_search_and_change_page(admin_client_staff):
    order = place()
    url = reverse("admin:orders_order_changelist")
    response = admin_client_staff.get(url, {"q": order.number})
    assert response.status_code == 200
    assert order.number in response.content.decode()
    change = admin_client_staff.get(reverse("admin:orders_order_change", args=[order.pk]))
    assert change.status_code == 200
    assert order.lines.first().sku in change.content.decode()


def test_admin_action_moves_orders_through_the_service(admin_client_staff):
    ok, bad = place(), order_in(OrderStatus.CANCELLED)
    response = admin_client_staff.post(
        reverse("admin:orders_order_changelist"),
        {"action": "move_to_processing", "_selected_action": [ok.pk, bad.pk]},
        follow=True,
    )
    assert response.status_code == 200
    ok.refresh_from_db()
    bad.refresh_from_db()
    assert (ok.status, bad.status) == (OrderStatus.PROCESSING, OrderStatus.CANCELLED)
    assert ok.events.filter(type="status_changed").exists()
    assert hasattr(ok, "packing_task")


def test_packing_list_shows_lines_to_pick(admin_client_staff):
    order = order_in(OrderStatus.PROCESSING)
    response = admin_client_staff.get(
        reverse("admin:orders_packingtask_changelist"), {"packed": "no"}
    )
    assert response.status_code == 200
    assert order.lines.first().sku in response.content.decode()


def test_returns_admin_receive_action(admin_client_staff):
    order = order_in(OrderStatus.DELIVERED)
    rr = request_return(
        order=order, user=order.user, lines=[{"sku": order.lines.first().sku, "quantity": 1}]
    )
    admin_client_staff.post(
        reverse("admin:orders_returnrequest_changelist"),
        {"action": "receive", "_selected_action": [rr.pk]},
    )
    rr.refresh_from_db()
    assert rr.status == ReturnStatus.REFUNDED
