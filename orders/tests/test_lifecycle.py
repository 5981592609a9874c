from decimal import Decimal

import pytest

from accounts.tests.factories import StaffUserFactory, UserFactory
from catalog.tests.factories import make_variant
from inventory.models import StockItem, StockMovement
from orders.errors import InvalidTransition, PaymentUnavailableError
from orders.lifecycle import (
    ALLOWED_TRANSITIONS,
    CONFIRMATION_ONLY,
    cancel_order,
    transition_order,
)
from orders.models import InvoiceKind, OrderStatus, Payment, PaymentStatus
from orders.payments.gateways import MockGateway
from orders.signals import order_status_changed
from orders.tests.factories import fast_gateway, order_in, place  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_gateway")]
S = OrderStatus


def test_the_table_is_exactly_the_contract():
    assert dict(ALLOWED_TRANSITIONS) == {
        S.DRAFT: {S.PENDING_PAYMENT, S.RECEIVED, S.CANCELLED},
        S.PENDING_PAYMENT: {S.RECEIVED, S.CANCELLED},
        S.RECEIVED: {S.PROCESSING, S.CANCELLED},
        S.PROCESSING: {S.FULFILLED, S.CANCELLED},
        S.FULFILLED: {S.SHIPPED, S.CANCELLED},
        S.SHIPPED: {S.DELIVERED},
        S.DELIVERED: set(),
        S.CANCELLED: set(),
    }


# Orders are walked there by staff; pending_payment orders (3-D Secure) are covered by
# test_pending_payments (only the provider's answer confirms them), drafts by
# orders/drafts/tests (only their payment link or an offline payment moves them on).
ALL_MOVES = [(a, b) for a in S.values for b in S.values if a not in (S.PENDING_PAYMENT, S.DRAFT)]


@pytest.mark.parametrize(("from_status", "to_status"), ALL_MOVES)
def test_every_move_is_allowed_or_rejected_per_the_table(from_status, to_status):
    order = order_in(from_status)
    staff = StaffUserFactory()
    if to_status in ALLOWED_TRANSITIONS[from_status] and to_status not in CONFIRMATION_ONLY:
        moved = transition_order(order=order, to_status=to_status, user=staff, note="ok")
        assert moved.status == to_status
        event = moved.events.last()
        assert (event.type, event.from_status, event.to_status, event.user, event.note) == (
            "status_changed",
            from_status,
            to_status,
            staff,
            "ok",
        )
    else:
        with pytest.raises(InvalidTransition):
            transition_order(order=order, to_status=to_status, user=staff)
        order.refresh_from_db()
        assert order.status == from_status


def test_processing_fulfilled_shipped_delivered_side_effects(django_capture_on_commit_callbacks):
    variant = make_variant(on_hand=5, price=Decimal("20.00"))
    order = place(items=[(variant, 2)])
    staff = StaffUserFactory()
    seen = []
    order_status_changed.connect(
        lambda **kw: seen.append((kw["from_status"], kw["to_status"], kw["refund_amount"])),
        weak=False,
        dispatch_uid="t",
    )
    try:
        with django_capture_on_commit_callbacks(execute=True):
            order = transition_order(order=order, to_status=S.PROCESSING, user=staff)
        assert order.packing_task.packed_at is None
        order = transition_order(order=order, to_status=S.FULFILLED, user=staff)
        order.packing_task.refresh_from_db()
        assert order.packing_task.packed_by == staff
        order = transition_order(order=order, to_status=S.SHIPPED, user=staff)
        shipment = order.shipments.get()
        assert shipment.carrier == "MockPost"
        assert shipment.tracking_number.startswith("MP")
        item = StockItem.objects.get(variant=variant)
        assert (item.on_hand, item.allocated) == (3, 0)
        assert StockMovement.objects.filter(reason="sale", order_number=order.number).exists()
        order = transition_order(order=order, to_status=S.DELIVERED, user=staff)
        assert order.shipments.get().status == "delivered"
    finally:
        order_status_changed.disconnect(dispatch_uid="t")
    assert seen == [
        ("received", "processing", None),
        ("processing", "fulfilled", None),
        ("fulfilled", "shipped", None),
        ("shipped", "delivered", None),
    ]


def test_shipping_with_a_given_tracking_number_records_it():
    order = order_in(S.FULFILLED)
    order = transition_order(
        order=order,
        to_status=S.SHIPPED,
        user=StaffUserFactory(),
        tracking_number="1Z999",
        carrier="UPS",
    )
    assert order.shipments.get().tracking_number == "1Z999"


def test_cancel_deallocates_refunds_and_issues_a_credit_note(django_capture_on_commit_callbacks):
    variant = make_variant(on_hand=5, price=Decimal("20.00"))
    order = place(items=[(variant, 2)])
    seen = []
    order_status_changed.connect(
        lambda **kw: seen.append(kw["refund_amount"]), weak=False, dispatch_uid="t"
    )
    try:
        with django_capture_on_commit_callbacks(execute=True):
            order = cancel_order(order=order, user=order.user)
    finally:
        order_status_changed.disconnect(dispatch_uid="t")
    assert seen == ["45.00"]
    assert order.status == S.CANCELLED
    assert order.payment_status == PaymentStatus.REFUNDED
    assert order.refunded_total == order.total
    assert StockItem.objects.get(variant=variant).allocated == 0
    refund = order.payments.get(kind="refund")
    assert (refund.result, refund.amount) == ("succeeded", Decimal("45.00"))
    note = order.invoices.get(kind=InvoiceKind.CREDIT_NOTE)
    assert note.number.startswith("CN-")
    assert note.total == Decimal("45.00")


@pytest.mark.parametrize(
    ("status", "customer_may", "staff_may"),
    [
        (S.RECEIVED, True, True),
        (S.PROCESSING, True, True),
        (S.FULFILLED, False, True),
        (S.SHIPPED, False, False),
        (S.DELIVERED, False, False),
        (S.CANCELLED, False, False),
    ],
)
def test_who_may_cancel_when(status, customer_may, staff_may):
    for actor, may in ((UserFactory(), customer_may), (StaffUserFactory(), staff_may)):
        order = order_in(status)
        if may:
            assert cancel_order(order=order, user=actor).status == S.CANCELLED
        else:
            with pytest.raises(InvalidTransition):
                cancel_order(order=order, user=actor)


def test_cancel_when_refund_is_unavailable_changes_nothing_but_records_attempts(monkeypatch):
    order = order_in(S.RECEIVED)

    def unavailable(self, **kwargs):
        from orders.payments.gateways import TransientPaymentError

        raise TransientPaymentError("down")

    monkeypatch.setattr(MockGateway, "refund", unavailable)
    with pytest.raises(PaymentUnavailableError):
        cancel_order(order=order, user=order.user)
    order.refresh_from_db()
    assert (order.status, order.payment_status) == (S.RECEIVED, PaymentStatus.PAID)
    assert Payment.objects.filter(order=order, kind="refund", result="failed").count() == 3
    assert not order.invoices.filter(kind=InvoiceKind.CREDIT_NOTE).exists()
