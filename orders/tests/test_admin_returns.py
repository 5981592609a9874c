"""The return's page: readable, receive or reject it there; financial records never deleted."""

from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.roles import CUSTOMER_SERVICE, FINANCE, FULFILMENT
from accounts.tests.factories import StaffUserFactory
from catalog.tests.factories import make_variant
from orders.models import Invoice, OrderStatus, Payment, ReturnStatus
from orders.returns.services import request_return
from orders.tests.factories import fast_gateway, order_in  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_gateway")]


@pytest.fixture
def return_request():
    variant = make_variant(on_hand=5, price=Decimal("25.00"), sku="ADM-RET", name="S")
    variant.product.name = "Fjell Summit Lamp"
    variant.product.save()
    order = order_in(OrderStatus.DELIVERED, items=[(variant, 3)])
    return request_return(
        order=order, user=order.user, lines=[{"sku": "ADM-RET", "quantity": 2}], reason="Broken"
    )


def change_url(rr) -> str:
    return reverse("admin:orders_returnrequest_change", args=[rr.pk])


def test_return_page_is_readable_and_shows_no_refund_before_refunding(client, return_request):
    client.force_login(StaffUserFactory(roles=[FULFILMENT]))
    page = client.get(change_url(return_request)).content.decode()
    assert f"Return #{return_request.pk} of order {return_request.order.number}" in page
    assert "2 × Fjell Summit Lamp (S)" in page
    assert "field-refunded" not in page
    assert "Refund amount" not in page
    assert "Receive and refund" in page
    assert "Reject the return" in page


def test_receive_button_on_the_return_page_refunds(client, return_request):
    client.force_login(StaffUserFactory(roles=[FULFILMENT]))
    url = reverse("admin:orders_return_receive", args=[return_request.pk])
    assert client.get(url).status_code == 405
    response = client.post(url, follow=True)
    return_request.refresh_from_db()
    assert return_request.status == ReturnStatus.REFUNDED
    page = response.content.decode()
    assert "received: restocked, refunded 50.00" in page
    assert "Receive and refund" not in page


def test_reject_button_needs_a_reason_and_records_it(client, return_request):
    client.force_login(StaffUserFactory(roles=[FINANCE]))
    url = reverse("admin:orders_return_reject", args=[return_request.pk])
    client.post(url, {"reason": ""})
    return_request.refresh_from_db()
    assert return_request.status == ReturnStatus.REQUESTED
    response = client.post(url, {"reason": "Damaged by the customer"}, follow=True)
    return_request.refresh_from_db()
    assert return_request.status == ReturnStatus.REJECTED
    assert "Damaged by the customer" in response.content.decode()


def test_customer_service_sees_returns_but_cannot_decide(client, return_request):
    client.force_login(StaffUserFactory(roles=[CUSTOMER_SERVICE]))
    page = client.get(change_url(return_request))
    assert page.status_code == 200
    assert "Reject the return" not in page.content.decode()
    url = reverse("admin:orders_return_reject", args=[return_request.pk])
    assert client.post(url, {"reason": "No"}).status_code == 403
    return_request.refresh_from_db()
    assert return_request.status == ReturnStatus.REQUESTED


@pytest.mark.parametrize("name", ["orders_returnrequest", "orders_payment", "orders_invoice"])
def test_financial_records_cannot_be_deleted_even_by_a_superuser(client, return_request, name):
    client.force_login(StaffUserFactory(is_superuser=True))
    obj = {
        "orders_returnrequest": return_request,
        "orders_payment": Payment.objects.first(),
        "orders_invoice": Invoice.objects.first(),
    }[name]
    assert client.get(reverse(f"admin:{name}_change", args=[obj.pk])).status_code == 200
    assert client.get(reverse(f"admin:{name}_delete", args=[obj.pk])).status_code == 403
    changelist = client.get(reverse(f"admin:{name}_changelist")).content.decode()
    assert "delete_selected" not in changelist
