from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from accounts.tests.factories import StaffUserFactory
from catalog.tests.factories import make_variant
from inventory.models import StockItem
from orders.errors import InvalidTransition, ReturnNotAllowed
from orders.models import InvoiceKind, OrderStatus, PaymentStatus, ReturnStatus
from orders.returns.services import receive_return, request_return
from orders.signals import refund_issued
from orders.tests.factories import fast_gateway, order_in  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_gateway")]


@pytest.fixture
def delivered():
    a = make_variant(on_hand=10, price=Decimal("20.00"), sku="RET-A")
    b = make_variant(on_hand=10, price=Decimal("10.00"), sku="RET-B")
    return order_in(OrderStatus.DELIVERED, items=[(a, 2), (b, 1)])


def test_only_delivered_orders_can_be_returned():
    order = order_in(OrderStatus.SHIPPED)
    sku = order.lines.first().sku
    with pytest.raises(ReturnNotAllowed):
        request_return(order=order, user=order.user, lines=[{"sku": sku, "quantity": 1}])


def test_never_more_than_delivered_minus_already_requested(delivered):
    request_return(order=delivered, user=delivered.user, lines=[{"sku": "RET-A", "quantity": 1}])
    with pytest.raises(ValidationError) as exc:
        request_return(
            order=delivered, user=delivered.user, lines=[{"sku": "ret-a", "quantity": 2}]
        )
    assert "lines" in exc.value.message_dict
    request_return(order=delivered, user=delivered.user, lines=[{"sku": "RET-A", "quantity": 1}])


@pytest.mark.parametrize(
    "lines",
    [
        [],
        [{"sku": "NOT-IN-ORDER", "quantity": 1}],
        [{"sku": "RET-B", "quantity": 2}],
        [{"sku": "RET-B", "quantity": 1}, {"sku": "RET-B", "quantity": 1}],
        [{"sku": "RET-B", "quantity": 0}],
        [{"quantity": 1}],
    ],
)
def test_invalid_return_lines_are_rejected(delivered, lines):
    with pytest.raises(ValidationError):
        request_return(order=delivered, user=delivered.user, lines=lines)


def test_receiving_a_partial_return_restocks_refunds_and_credits(
    delivered, django_capture_on_commit_callbacks
):
    rr = request_return(
        order=delivered, user=delivered.user, lines=[{"sku": "RET-A", "quantity": 1}], reason="big"
    )
    signals = []
    refund_issued.connect(lambda **kw: signals.append(kw), weak=False, dispatch_uid="t")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            rr = receive_return(return_request=rr, user=StaffUserFactory())
    finally:
        refund_issued.disconnect(dispatch_uid="t")
    assert rr.status == ReturnStatus.REFUNDED
    assert rr.refund_amount == Decimal("20.00")
    assert signals[0]["amount"] == "20.00"
    assert signals[0]["return_id"] == rr.pk
    delivered.refresh_from_db()
    assert delivered.payment_status == PaymentStatus.PARTIALLY_REFUNDED
    assert delivered.refunded_total == Decimal("20.00")
    assert StockItem.objects.get(variant__sku="RET-A").on_hand == 9  # 10 - 2 shipped + 1
    assert delivered.lines.get(sku="RET-A").returned_quantity == 1
    note = delivered.invoices.get(kind=InvoiceKind.CREDIT_NOTE)
    assert note.total == Decimal("20.00")
    assert delivered.payments.filter(kind="refund", result="succeeded").count() == 1


def test_returning_everything_refunds_the_whole_order(delivered):
    staff = StaffUserFactory()
    first = request_return(
        order=delivered, user=delivered.user, lines=[{"sku": "RET-A", "quantity": 2}]
    )
    receive_return(return_request=first, user=staff)
    second = request_return(
        order=delivered, user=delivered.user, lines=[{"sku": "RET-B", "quantity": 1}]
    )
    receive_return(return_request=second, user=staff)
    delivered.refresh_from_db()
    assert delivered.payment_status == PaymentStatus.REFUNDED
    assert delivered.refunded_total == delivered.total
    with pytest.raises(ValidationError):
        request_return(
            order=delivered, user=delivered.user, lines=[{"sku": "RET-B", "quantity": 1}]
        )


def test_a_return_is_received_only_once(delivered):
    rr = request_return(
        order=delivered, user=delivered.user, lines=[{"sku": "RET-B", "quantity": 1}]
    )
    receive_return(return_request=rr, user=StaffUserFactory())
    with pytest.raises(InvalidTransition):
        receive_return(return_request=rr, user=StaffUserFactory())
