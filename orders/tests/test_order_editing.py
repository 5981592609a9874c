"""Staff order editing before fulfilment and goodwill refunds (services and API)."""

from decimal import Decimal

import pytest

from accounts.tests.factories import StaffUserFactory, UserFactory
from catalog.tests.factories import make_variant
from inventory.models import StockItem
from orders.editing.services import (
    add_order_line,
    change_order_line,
    issue_goodwill_refund,
    remove_order_line,
)
from orders.errors import OrderNotEditable, PaymentDeclinedError
from orders.models import (
    InvoiceKind,
    Order,
    OrderEventType,
    OrderStatus,
    Payment,
    PaymentKind,
    PaymentResult,
    PaymentStatus,
)
from orders.tests.factories import fast_gateway, order_in, place, staff_in  # noqa: F401

pytestmark = pytest.mark.usefixtures("fast_gateway")


@pytest.fixture
def lamp(db):
    return make_variant(sku="LAMP-1", on_hand=10, price=Decimal("20.00"))


@pytest.fixture
def mug(db):
    return make_variant(sku="MUG-1", on_hand=5, price=Decimal("7.50"))


@pytest.fixture
def order(lamp):
    return place(items=[(lamp, 2)])  # 2 x 20.00, free shipping threshold not reached


def allocated(variant) -> int:
    return StockItem.objects.get(variant=variant).allocated


def payments(order, kind) -> list[Decimal]:
    rows = Payment.objects.filter(order=order, kind=kind, result=PaymentResult.SUCCEEDED)
    return [p.amount for p in rows.order_by("id")]


def test_adding_a_line_allocates_stock_charges_the_difference_and_records_an_event(order, mug):
    staff = StaffUserFactory()
    before = order.total
    order = add_order_line(
        order=order, sku="mug-1", quantity=2, user=staff, payment_token="tok_success"
    )
    assert allocated(mug) == 2
    assert order.total - before == Decimal("15.00")
    assert payments(order, PaymentKind.CHARGE)[-1] == Decimal("15.00")
    line = order.lines.get(sku="MUG-1")
    assert (line.quantity, line.unit_price, line.line_total) == (
        2,
        Decimal("7.50"),
        Decimal("15.00"),
    )
    event = order.events.get(type=OrderEventType.LINE_ADDED)
    assert event.user == staff
    assert "0 → 2" in event.note


def test_lowering_a_quantity_releases_stock_and_refunds_with_a_credit_note(order, lamp):
    before = order.total
    order = change_order_line(order=order, sku="LAMP-1", quantity=1, user=StaffUserFactory())
    assert allocated(lamp) == 1
    assert before - order.total == Decimal("20.00")
    assert payments(order, PaymentKind.REFUND) == [Decimal("20.00")]
    note = order.invoices.get(kind=InvoiceKind.CREDIT_NOTE)
    assert note.total == Decimal("20.00")
    assert order.refunded_total == Decimal("0.00")  # the order is worth less, not refunded
    assert order.events.filter(type=OrderEventType.LINE_CHANGED).exists()


def test_removing_a_line_and_refusing_to_remove_the_last(order, lamp, mug):
    staff = StaffUserFactory()
    order = add_order_line(order=order, sku="MUG-1", quantity=1, user=staff, payment_token="tok_x")
    order = remove_order_line(order=order, sku="MUG-1", user=staff)
    assert allocated(mug) == 0
    assert not order.lines.filter(sku="MUG-1").exists()
    with pytest.raises(Exception, match="last line"):
        remove_order_line(order=order, sku="LAMP-1", user=staff)


def test_a_higher_total_needs_a_payment_token_and_a_decline_changes_nothing(order, lamp):
    staff = StaffUserFactory()
    with pytest.raises(Exception, match="payment token"):
        change_order_line(order=order, sku="LAMP-1", quantity=3, user=staff)
    with pytest.raises(PaymentDeclinedError):
        change_order_line(
            order=order, sku="LAMP-1", quantity=3, user=staff, payment_token="tok_declined"
        )
    order.refresh_from_db()
    assert order.lines.get().quantity == 2
    assert allocated(lamp) == 2
    declined = Payment.objects.filter(order=order, result=PaymentResult.DECLINED)
    assert declined.count() == 1  # the attempt is kept after the rollback


def test_orders_in_fulfilment_cannot_be_edited(lamp):
    fulfilled = order_in(OrderStatus.FULFILLED, items=[(lamp, 1)])
    with pytest.raises(OrderNotEditable):
        change_order_line(order=fulfilled, sku="LAMP-1", quantity=2, user=StaffUserFactory())


def test_a_goodwill_refund_never_exceeds_what_is_left(order):
    staff = StaffUserFactory()
    order = issue_goodwill_refund(order=order, amount=Decimal("10.00"), reason="Late", user=staff)
    assert order.refunded_total == Decimal("10.00")
    assert order.payment_status == PaymentStatus.PARTIALLY_REFUNDED
    assert order.invoices.filter(kind=InvoiceKind.CREDIT_NOTE).count() == 1
    assert order.events.filter(type=OrderEventType.GOODWILL_REFUND).count() == 1
    left = order.total - order.refunded_total
    with pytest.raises(Exception, match="left to refund"):
        issue_goodwill_refund(order=order, amount=left + Decimal("0.01"), reason="x", user=staff)
    order = issue_goodwill_refund(order=order, amount=left, reason="Broken", user=staff)
    assert order.payment_status == PaymentStatus.REFUNDED
    assert payments(order, PaymentKind.REFUND) == [Decimal("10.00"), left]


# ---- API -------------------------------------------------------------------------------


def staff_client(api_client, *roles):
    api_client.force_authenticate(staff_in(*roles))
    return api_client


def test_api_staff_add_change_and_delete_lines(api_client, order, mug):
    client = staff_client(api_client, "Customer service")
    url = f"/api/v1/orders/{order.number}/lines/"
    added = client.post(url, {"sku": "MUG-1", "quantity": 1, "payment_token": "tok_success"})
    assert added.status_code == 200, added.json()
    assert {line["sku"] for line in added.json()["lines"]} == {"LAMP-1", "MUG-1"}
    changed = client.patch(f"{url}MUG-1/", {"quantity": 3, "payment_token": "tok_success"})
    assert changed.status_code == 200
    assert allocated(mug) == 3
    assert client.delete(f"{url}MUG-1/").status_code == 200
    assert client.delete(f"{url}NOPE-9/").status_code == 404
    assert client.patch(f"{url}LAMP-1/", {"quantity": -1}).json()["code"] == "validation_error"
    unknown = client.post(url, {"sku": "NOPE-9", "quantity": 1, "payment_token": "tok_success"})
    assert unknown.status_code == 400
    assert "sku" in unknown.json()["errors"]
    short = client.post(url, {"sku": "MUG-1", "quantity": 99, "payment_token": "tok_success"})
    assert short.status_code == 409
    assert short.json()["code"] == "insufficient_stock"


def test_api_refuses_editing_after_fulfilment_started(api_client, lamp):
    shipped = order_in(OrderStatus.SHIPPED, items=[(lamp, 1)])
    client = staff_client(api_client, "Customer service")
    response = client.patch(f"/api/v1/orders/{shipped.number}/lines/LAMP-1/", {"quantity": 2})
    assert response.status_code == 409
    assert response.json()["code"] == "order_not_editable"


def test_api_goodwill_refund(api_client, order):
    client = staff_client(api_client, "Finance")
    url = f"/api/v1/orders/{order.number}/refunds/"
    response = client.post(url, {"amount": "5.00", "reason": "Delivery was late"})
    assert response.status_code == 200, response.json()
    assert Order.objects.get(pk=order.pk).refunded_total == Decimal("5.00")
    too_much = client.post(url, {"amount": "1000.00", "reason": "x"})
    assert too_much.status_code == 400
    assert too_much.json()["code"] == "validation_error"
    assert "amount" in too_much.json()["errors"]
    assert client.post(url, {"amount": "0", "reason": "x"}).status_code == 400


@pytest.mark.parametrize(
    ("role", "edit", "refund"),
    [
        ("Fulfilment", 403, 403),
        ("Catalog managers", 403, 403),
        ("Customer service", 200, 403),
        ("Finance", 200, 200),
    ],
)
def test_each_role_may_do_what_its_permissions_say(api_client, order, role, edit, refund):
    client = staff_client(api_client, role)
    lines = client.patch(f"/api/v1/orders/{order.number}/lines/LAMP-1/", {"quantity": 1})
    assert lines.status_code == edit
    refunds = client.post(
        f"/api/v1/orders/{order.number}/refunds/", {"amount": "1.00", "reason": "Sorry"}
    )
    assert refunds.status_code == refund


def test_customers_cannot_edit_their_own_order(api_client, order):
    api_client.force_authenticate(order.user)
    assert (
        api_client.patch(
            f"/api/v1/orders/{order.number}/lines/LAMP-1/", {"quantity": 1}
        ).status_code
        == 403
    )
    api_client.force_authenticate(UserFactory())
    assert (
        api_client.post(
            f"/api/v1/orders/{order.number}/refunds/", {"amount": "1.00", "reason": "x"}
        ).status_code
        == 403
    )
