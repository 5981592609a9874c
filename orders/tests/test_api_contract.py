"""API.md "Orders and checkout" rules not pinned elsewhere: the order body, idempotency at the
HTTP level (in use, per user, odd keys), the status machine over HTTP, returns, invoices."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from accounts.tests.factories import StaffUserFactory, UserFactory
from catalog.tests.factories import make_variant
from orders.checkout.idempotency import payload_hash
from orders.models import IdempotencyKey, IdempotencyState, Order, OrderStatus
from orders.tests.factories import ADDRESS, cart_with, fast_gateway, order_in, place  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_gateway")]
ORDERS = "/api/v1/orders/"
RETURNS = "/api/v1/returns/"
BODY = {"shipping_address": ADDRESS, "payment_token": "tok_success"}
ORDER_FIELDS = {
    "number",
    "status",
    "payment_status",
    "created_at",
    "email",
    "lines",
    "subtotal",
    "shipping_total",
    "total",
    "currency",
    "shipping_address",
    "shipments",
    "events",
}


def client_for(user) -> APIClient:
    client = APIClient(enforce_csrf_checks=True)
    client.force_authenticate(user)
    return client


def post_order(client, key="key-1", body=None):
    return client.post(ORDERS, body or BODY, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_order_body_has_every_documented_field_and_money_strings():
    user = UserFactory()
    cart_with(user, (make_variant(on_hand=5, price=Decimal("19.99")), 1))
    body = post_order(client_for(user)).json()
    assert set(body) >= ORDER_FIELDS
    assert (body["subtotal"], body["currency"]) == ("19.99", "USD")
    assert isinstance(body["total"], str)
    assert isinstance(body["shipping_total"], str)
    [line] = body["lines"]
    assert set(line) >= {"sku", "product_name", "variant_name", "quantity", "unit_price"}
    assert (line["unit_price"], line["line_total"], line["currency"]) == ("19.99", "19.99", "USD")
    assert set(body["events"][0]) >= {"type", "created_at", "note"}
    assert body["payment_status"] == "paid"


@pytest.mark.parametrize("key", ["a\x00b", "tab\tkey", " "])
def test_keys_with_control_characters_or_blank_are_refused(key):
    user = UserFactory()
    cart_with(user, (make_variant(), 1))
    response = post_order(client_for(user), key=key)
    assert (response.status_code, response.json()["code"]) == (400, "idempotency_key_required")
    assert Order.objects.count() == 0


def test_a_255_character_key_is_accepted():
    user = UserFactory()
    cart_with(user, (make_variant(), 1))
    assert post_order(client_for(user), key="k" * 255).status_code == 201


def test_a_key_still_running_is_409_in_use():
    user = UserFactory()
    cart_with(user, (make_variant(), 1))
    IdempotencyKey.objects.create(
        user=user,
        key="key-1",
        scope="orders.create",
        request_hash=payload_hash(payload=BODY),
        state=IdempotencyState.IN_PROGRESS,
    )
    response = post_order(client_for(user))
    assert (response.status_code, response.json()["code"]) == (409, "idempotency_key_in_use")
    assert Order.objects.count() == 0


def test_keys_are_per_user():
    first, second = UserFactory(), UserFactory()
    for user in (first, second):
        cart_with(user, (make_variant(), 1))
        response = post_order(client_for(user), key="shared")
        assert response.status_code == 201
        assert "Idempotent-Replayed" not in response
    assert Order.objects.count() == 2


def test_a_failure_is_not_kept_against_the_key_so_a_retry_runs_the_checkout_again():
    user = UserFactory()
    client = client_for(user)
    first = post_order(client)
    assert (first.status_code, first.json()["code"]) == (400, "cart_empty")
    cart_with(user, (make_variant(), 1))
    again = post_order(client)
    assert again.status_code == 201
    assert "Idempotent-Replayed" not in again
    replay = post_order(client)
    assert (replay.status_code, replay["Idempotent-Replayed"]) == (201, "true")
    assert replay.json()["number"] == again.json()["number"]


def _dead_request(user, *, order_number: str, lease_left_minutes: int = -1):
    """The key row left by a request whose worker was killed mid-checkout."""
    from datetime import timedelta

    from django.utils import timezone

    return IdempotencyKey.objects.create(
        user=user,
        key="key-1",
        scope="orders.create",
        request_hash=payload_hash(payload=BODY),
        state=IdempotencyState.IN_PROGRESS,
        order_number=order_number,
        lease_expires_at=timezone.now() + timedelta(minutes=lease_left_minutes),
    )


def test_a_key_whose_request_died_after_placing_the_order_replays_that_order():
    user = UserFactory()
    order = place(user=user, order_number="SO-KILL-ED01")
    _dead_request(user, order_number=order.number)
    response = post_order(client_for(user))
    assert (response.status_code, response["Idempotent-Replayed"]) == (201, "true")
    assert response.json()["number"] == order.number
    assert set(response.json()) >= ORDER_FIELDS
    assert Order.objects.count() == 1


def test_a_key_whose_request_died_before_the_order_runs_the_checkout_again():
    user = UserFactory()
    cart_with(user, (make_variant(), 1))
    _dead_request(user, order_number="SO-KILL-ED02")
    response = post_order(client_for(user))
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response
    assert Order.objects.get().number == response.json()["number"] != "SO-KILL-ED02"


def test_a_key_whose_request_died_is_in_use_until_its_lease_runs_out():
    user = UserFactory()
    cart_with(user, (make_variant(), 1))
    _dead_request(user, order_number="SO-KILL-ED03", lease_left_minutes=1)
    response = post_order(client_for(user))
    assert (response.status_code, response.json()["code"]) == (409, "idempotency_key_in_use")


def test_the_status_machine_over_http():
    order = place()
    staff = client_for(StaffUserFactory())
    url = f"{ORDERS}{order.number}/transition/"
    assert staff.post(url, {"status": "shipped"}, format="json").json()["code"] == (
        "invalid_transition"
    )
    for status in ("processing", "fulfilled", "shipped", "delivered"):
        response = staff.post(url, {"status": status}, format="json")
        assert (response.status_code, response.json()["status"]) == (200, status)
    for status in ("cancelled", "shipped", "received"):
        response = staff.post(url, {"status": status}, format="json")
        assert (response.status_code, response.json()["code"]) == (409, "invalid_transition")
    response = staff.post(f"{ORDERS}{order.number}/cancel/")
    assert (response.status_code, response.json()["code"]) == (409, "invalid_transition")


def test_staff_may_cancel_a_fulfilled_order_and_it_is_refunded():
    order = order_in(OrderStatus.FULFILLED)
    response = client_for(StaffUserFactory()).post(f"{ORDERS}{order.number}/cancel/")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["payment_status"]) == (
        "cancelled",
        "refunded",
    )


def test_a_customer_cannot_cancel_a_shipped_order():
    user = UserFactory()
    order = order_in(OrderStatus.SHIPPED, user=user)
    response = client_for(user).post(f"{ORDERS}{order.number}/cancel/")
    assert (response.status_code, response.json()["code"]) == (409, "invalid_transition")


@pytest.mark.parametrize("number", ["0.5", "null,null", "\u00e5\u00fb", "x" * 40])
@pytest.mark.parametrize("action", ["cancel/", "returns/", "transition/"])
def test_odd_order_numbers_answer_json_404(number, action):
    client = client_for(StaffUserFactory())
    response = client.post(f"{ORDERS}{number}/{action}", {"status": "processing"}, format="json")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_order_list_pagination_and_bad_pages():
    user = UserFactory()
    client = client_for(user)
    body = client.get(ORDERS).json()
    assert body == {"count": 0, "next": None, "previous": None, "results": []}
    response = client.get(ORDERS, {"page": 2})
    assert (response.status_code, response.json()["code"]) == (400, "validation_error")
    assert list(response.json()["errors"]) == ["page"]


def test_invoice_shape():
    user = UserFactory()
    order = place(user=user)
    body = client_for(user).get(f"{ORDERS}{order.number}/invoice/").json()
    assert set(body) >= {"number", "issued_at", "lines", "totals"}
    assert body["currency"] == body["totals"]["currency"] == "USD"
    assert body["totals"]["total"] == f"{order.total:.2f}"
    assert {line["currency"] for line in body["lines"]} == {"USD"}


def test_return_shape_and_staff_list():
    user = UserFactory()
    variant = make_variant(on_hand=5, price=Decimal("20.00"))
    order = order_in(OrderStatus.DELIVERED, user=user, items=[(variant, 2)])
    response = client_for(user).post(
        f"{ORDERS}{order.number}/returns/",
        {"lines": [{"sku": variant.sku, "quantity": 2}], "reason": "too big"},
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert set(body) >= {"id", "status", "lines", "reason"}
    assert (body["status"], body["reason"], body["currency"]) == ("requested", "too big", "USD")
    assert body["lines"] == [{"sku": variant.sku, "quantity": 2}]
    again = client_for(user).post(
        f"{ORDERS}{order.number}/returns/",
        {"lines": [{"sku": variant.sku, "quantity": 1}]},
        format="json",
    )
    assert (again.status_code, again.json()["code"]) == (400, "validation_error")

    assert APIClient().get(RETURNS).status_code == 401
    staff = client_for(StaffUserFactory())
    assert staff.get(RETURNS, {"status": "requested"}).json()["count"] == 1
    assert staff.get(RETURNS, {"status": "refunded"}).json()["count"] == 0
    bad = staff.get(RETURNS, {"status": "bogus"})
    assert (bad.status_code, list(bad.json()["errors"])) == (400, ["status"])
    for return_id in ("0.5", ".exe", "abc", "999999"):
        response = staff.post(f"{RETURNS}{return_id}/receive/")
        assert (response.status_code, response.json()["code"]) == (404, "not_found")
    received = staff.post(f"{RETURNS}{body['id']}/receive/").json()
    assert (received["status"], received["refund_amount"], received["currency"]) == (
        "refunded",
        f"{order.total:.2f}",  # everything returned: shipping is refunded too
        "USD",
    )
