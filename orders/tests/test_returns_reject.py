"""Rejecting returns (with a reason) and the return window, in the service and the API."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.roles import CUSTOMER_SERVICE, FULFILMENT
from accounts.tests.factories import StaffUserFactory
from catalog.tests.factories import make_variant
from inventory.models import StockItem
from orders.errors import InvalidTransition, ReturnWindowClosed
from orders.models import OrderEvent, OrderEventType, OrderStatus, PaymentStatus, ReturnStatus
from orders.returns.services import (
    can_request_return,
    receive_return,
    reject_return,
    request_return,
    returnable_quantities,
)
from orders.signals import return_rejected
from orders.tests.factories import fast_gateway, order_in  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_gateway")]


@pytest.fixture
def delivered():
    variant = make_variant(on_hand=10, price=Decimal("20.00"), sku="REJ-A")
    return order_in(OrderStatus.DELIVERED, items=[(variant, 2)])


def requested(order, quantity=1):
    return request_return(
        order=order, user=order.user, lines=[{"sku": "REJ-A", "quantity": quantity}]
    )


def age_delivery(order, days: int) -> None:
    OrderEvent.objects.filter(order=order, to_status=OrderStatus.DELIVERED).update(
        created_at=timezone.now() - timedelta(days=days)
    )


def test_rejecting_records_the_reason_and_refunds_nothing(delivered):
    staff = StaffUserFactory()
    rr = requested(delivered)
    sent = []
    return_rejected.connect(lambda **kw: sent.append(kw), weak=False, dispatch_uid="t-rej")
    try:
        rr = reject_return(return_request=rr, user=staff, reason="  Item was used.  ")
    finally:
        return_rejected.disconnect(dispatch_uid="t-rej")
    delivered.refresh_from_db()
    assert (rr.status, rr.rejection_reason, rr.rejected_by) == (
        ReturnStatus.REJECTED,
        "Item was used.",
        staff,
    )
    assert rr.refund_amount == 0
    assert rr.rejected_at is not None
    assert delivered.refunded_total == 0
    assert delivered.payment_status == PaymentStatus.PAID
    assert StockItem.objects.get(variant__sku="REJ-A").on_hand == 8
    assert delivered.events.filter(type=OrderEventType.RETURN_REJECTED).exists()
    assert sent[0]["reason"] == "Item was used."
    assert sent[0]["return_id"] == rr.pk
    # The rejected units may be asked for again.
    assert set(returnable_quantities(order=delivered).values()) == {2}


def test_a_reason_is_required(delivered):
    rr = requested(delivered)
    with pytest.raises(ValidationError) as exc:
        reject_return(return_request=rr, user=StaffUserFactory(), reason="   ")
    assert "reason" in exc.value.message_dict
    rr.refresh_from_db()
    assert rr.status == ReturnStatus.REQUESTED


def test_a_processed_return_cannot_be_rejected(delivered):
    staff = StaffUserFactory()
    rr = receive_return(return_request=requested(delivered), user=staff)
    with pytest.raises(InvalidTransition):
        reject_return(return_request=rr, user=staff, reason="Too late")


def test_returns_close_after_the_window(delivered, settings):
    settings.SHOP_RETURN_WINDOW_DAYS = 30
    age_delivery(delivered, 29)
    assert can_request_return(order=delivered)
    age_delivery(delivered, 31)
    assert not can_request_return(order=delivered)
    with pytest.raises(ReturnWindowClosed):
        requested(delivered)


def test_api_refuses_a_return_after_the_window(delivered, settings):
    settings.SHOP_RETURN_WINDOW_DAYS = 14
    age_delivery(delivered, 15)
    client = APIClient()
    client.force_authenticate(delivered.user)
    response = client.post(
        f"/api/v1/orders/{delivered.number}/returns/",
        {"lines": [{"sku": "REJ-A", "quantity": 1}]},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["code"] == "return_window_closed"


def test_api_reject_answers_the_rejected_return(delivered):
    rr = requested(delivered)
    client = APIClient()
    client.force_authenticate(StaffUserFactory(roles=[FULFILMENT]))
    url = f"/api/v1/returns/{rr.pk}/reject/"
    assert client.post(url, {}, format="json").status_code == 400
    response = client.post(url, {"reason": "Outside our policy"}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["rejection_reason"]) == ("rejected", "Outside our policy")
    again = client.post(url, {"reason": "Again"}, format="json")
    assert (again.status_code, again.json()["code"]) == (409, "invalid_transition")
    assert client.post("/api/v1/returns/999999/reject/", {"reason": "x"}).status_code == 404


def test_api_reject_needs_the_receive_permission(delivered):
    rr = requested(delivered)
    client = APIClient()
    client.force_authenticate(StaffUserFactory(roles=[CUSTOMER_SERVICE]))
    response = client.post(f"/api/v1/returns/{rr.pk}/reject/", {"reason": "No"}, format="json")
    assert (response.status_code, response.json()["code"]) == (403, "permission_denied")


def test_order_page_says_when_returns_closed_and_why_a_return_was_refused(client, delivered):
    rr = requested(delivered)
    reject_return(return_request=rr, user=StaffUserFactory(), reason="Worn outdoors")
    client.force_login(delivered.user)
    page = client.get(f"/orders/{delivered.number}/").content.decode()
    assert "Not accepted: Worn outdoors" in page
    assert 'data-testid="returns-closed"' not in page
    age_delivery(delivered, 45)
    page = client.get(f"/orders/{delivered.number}/").content.decode()
    assert 'data-testid="returns-closed"' in page
    assert "Request a return" not in page
