from decimal import Decimal

import pytest

from accounts.tests.factories import StaffUserFactory, UserFactory
from cart.models import CartLine
from catalog.tests.factories import make_variant
from inventory.models import StockItem
from orders.models import Order, OrderStatus, Payment
from orders.tests.factories import ADDRESS, cart_with, fast_gateway, order_in, place  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_gateway")]
ORDERS = "/api/v1/orders/"
BODY = {"shipping_address": ADDRESS, "payment_token": "tok_success"}


@pytest.fixture
def shopper(api_client):
    user = UserFactory()
    api_client.force_authenticate(user)
    return user


def post_order(client, body=None, key="key-1"):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.post(ORDERS, body if body is not None else BODY, format="json", **headers)


def test_place_order_returns_the_order_body(api_client, shopper):
    variant = make_variant(on_hand=5, price=Decimal("30.00"), name="Blue")
    cart_with(shopper, (variant, 2))
    response = post_order(api_client)
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "received"
    assert body["payment_status"] == "paid"
    assert body["email"] == shopper.email
    assert body["lines"] == [
        {
            "sku": variant.sku,
            "product_name": variant.product.name,
            "variant_name": "Blue",
            "quantity": 2,
            "unit_price": "30.00",
            "line_total": "60.00",
            "discount": "0.00",
            "currency": "USD",
            "returned_quantity": 0,
        }
    ]
    assert (body["subtotal"], body["shipping_total"], body["total"]) == ("60.00", "0.00", "60.00")
    assert body["currency"] == "USD"
    assert body["shipping_address"]["postal_code"] == ADDRESS["postal_code"]
    assert body["shipments"] == []
    assert [e["type"] for e in body["events"]] == ["placed"]
    assert body["invoice_number"].startswith("INV-")
    assert body["can_cancel"] is True
    assert "Idempotent-Replayed" not in response


def test_replay_returns_the_same_response_and_creates_nothing(api_client, shopper):
    cart_with(shopper, (make_variant(), 1))
    first = post_order(api_client)
    second = post_order(api_client)
    assert second.status_code == 201
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert Order.objects.count() == 1


def test_same_key_other_body_is_422(api_client, shopper):
    cart_with(shopper, (make_variant(), 1))
    post_order(api_client)
    response = post_order(api_client, {**BODY, "notes": "leave at door"})
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_mismatch"


@pytest.mark.parametrize("key", [None, "", "x" * 256])
def test_idempotency_key_is_required(api_client, shopper, key):
    response = post_order(api_client, key=key)
    assert response.status_code == 400
    assert response.json()["code"] == "idempotency_key_required"


def test_placing_an_order_needs_sign_in(api_client):
    assert post_order(api_client).status_code == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"payment_token": "tok_success"}, "shipping_address"),
        ({"shipping_address": ADDRESS}, "payment_token"),
        (
            {**BODY, "shipping_address": {**ADDRESS, "postal_code": ""}},
            "shipping_address.postal_code",
        ),
        ({**BODY, "shipping_address": {**ADDRESS, "country": "USA"}}, "shipping_address.country"),
        ({**BODY, "shipping_address": {**ADDRESS, "country": "ZZ"}}, "shipping_address.country"),
        ({**BODY, "address_id": "abc"}, "address_id"),
        ({**BODY, "notes": "x" * 3000}, "notes"),
        ({**BODY, "payment_token": ["tok"]}, "payment_token"),
    ],
)
def test_bad_checkout_bodies_are_validation_errors(api_client, shopper, body, field):
    response = post_order(api_client, body)
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert field in response.json()["errors"]


def test_checkout_refuses_a_country_that_is_not_iso_with_the_address_books_rule(
    api_client, shopper
):
    cart_with(shopper, (make_variant(on_hand=5), 1))
    response = post_order(api_client, {**BODY, "shipping_address": {**ADDRESS, "country": "ZZ"}})
    assert response.status_code == 400
    body = response.json()
    assert (body["code"], list(body["errors"])) == (
        "validation_error",
        ["shipping_address.country"],
    )
    assert "ISO 3166-1" in body["detail"]
    assert not Order.objects.exists()


def test_checkout_accepts_a_lower_case_country_and_stores_it_upper_case(api_client, shopper):
    cart_with(shopper, (make_variant(on_hand=5), 1))
    response = post_order(api_client, {**BODY, "shipping_address": {**ADDRESS, "country": "fr"}})
    assert response.status_code == 201
    assert response.json()["shipping_address"]["country"] == "FR"


def test_malformed_json_is_400(api_client, shopper):
    response = api_client.post(
        ORDERS, "{oops", content_type="application/json", HTTP_IDEMPOTENCY_KEY="k"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_unknown_address_id_is_400(api_client, shopper):
    cart_with(shopper, (make_variant(), 1))
    response = post_order(api_client, {"address_id": 999999, "payment_token": "tok_success"})
    assert response.status_code == 400
    assert "address_id" in response.json()["errors"]


def test_empty_cart_is_400_cart_empty(api_client, shopper):
    response = post_order(api_client)
    assert (response.status_code, response.json()["code"]) == (400, "cart_empty")


def test_insufficient_stock_is_409_with_lines(api_client, shopper):
    variant = make_variant(on_hand=2)
    cart_with(shopper, (variant, 2))
    StockItem.objects.filter(variant=variant).update(on_hand=1)
    response = post_order(api_client)
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "insufficient_stock"
    assert body["lines"] == [{"sku": variant.sku, "requested": 2, "available": 1}]


def test_price_changed_is_409_and_a_retry_with_a_new_key_succeeds(api_client, shopper):
    variant = make_variant(price=Decimal("10.00"))
    cart_with(shopper, (variant, 1))
    variant.price = Decimal("12.00")
    variant.save()
    response = post_order(api_client, key="a")
    assert (response.status_code, response.json()["code"]) == (409, "price_changed")
    assert api_client.get("/api/v1/cart/").json()["items"][0]["unit_price"] == "12.00"
    assert post_order(api_client, key="b").status_code == 201


def test_declined_is_402_and_a_retry_with_the_key_tries_the_card_again(api_client, shopper):
    cart_with(shopper, (make_variant(), 1))
    body = {**BODY, "payment_token": "tok_declined"}
    response = post_order(api_client, body)
    assert (response.status_code, response.json()["code"]) == (402, "payment_declined")
    again = post_order(api_client, body)
    assert again.status_code == 402
    assert "Idempotent-Replayed" not in again
    assert Payment.objects.filter(kind="charge", result="declined").count() == 2
    assert CartLine.objects.filter(cart__user=shopper).count() == 1


def test_price_changed_is_409_and_a_retry_with_the_same_key_succeeds(api_client, shopper):
    variant = make_variant(price=Decimal("10.00"))
    cart_with(shopper, (variant, 1))
    variant.price = Decimal("12.00")
    variant.save()
    response = post_order(api_client, key="same")
    assert (response.status_code, response.json()["code"]) == (409, "price_changed")
    retry = post_order(api_client, key="same")
    assert retry.status_code == 201
    assert "Idempotent-Replayed" not in retry
    assert retry.json()["subtotal"] == "12.00"


def test_unavailable_is_503_and_the_key_can_be_retried(api_client, shopper):
    cart_with(shopper, (make_variant(), 1))
    response = post_order(api_client, {**BODY, "payment_token": "tok_unavailable"})
    assert (response.status_code, response.json()["code"]) == (503, "payment_unavailable")
    retry = post_order(api_client, {**BODY, "payment_token": "tok_unavailable"})
    assert "Idempotent-Replayed" not in retry


def test_transient_payment_succeeds(api_client, shopper):
    cart_with(shopper, (make_variant(), 1))
    assert post_order(api_client, {**BODY, "payment_token": "tok_transient"}).status_code == 201


def test_list_shows_own_orders_newest_first(api_client, shopper):
    mine = [place(user=shopper), place(user=shopper)]
    place()
    body = api_client.get(ORDERS).json()
    assert body["count"] == 2
    assert [o["number"] for o in body["results"]] == [mine[1].number, mine[0].number]


def test_staff_see_all_orders_and_filter_by_status(api_client):
    order_in(OrderStatus.PROCESSING)
    place()
    api_client.force_authenticate(StaffUserFactory())
    assert api_client.get(ORDERS).json()["count"] == 2
    body = api_client.get(ORDERS, {"status": "processing"}).json()
    assert [o["status"] for o in body["results"]] == ["processing"]
    assert api_client.get(ORDERS, {"status": "bogus"}).status_code == 400


def test_order_list_query_count_is_constant(api_client, shopper, django_assert_max_num_queries):
    place(user=shopper)
    with django_assert_max_num_queries(9):
        api_client.get(ORDERS, {"page_size": 1})
    for _ in range(4):
        place(user=shopper)
    with django_assert_max_num_queries(9):
        assert len(api_client.get(ORDERS, {"page_size": 5}).json()["results"]) == 5


def test_other_users_orders_are_404_everywhere(api_client, shopper):
    other = order_in(OrderStatus.DELIVERED)
    base = f"{ORDERS}{other.number}/"
    assert api_client.get(base).status_code == 404
    assert api_client.post(f"{base}cancel/").status_code == 404
    assert api_client.get(f"{base}invoice/").status_code == 404
    sku = other.lines.first().sku
    response = api_client.post(f"{base}returns/", {"lines": [{"sku": sku, "quantity": 1}]})
    assert response.status_code == 404


def test_customer_cancels_a_received_order_but_not_a_fulfilled_one(api_client, shopper):
    order = place(user=shopper)
    response = api_client.post(f"{ORDERS}{order.number}/cancel/")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["payment_status"]) == (
        "cancelled",
        "refunded",
    )
    fulfilled = order_in(OrderStatus.FULFILLED, user=shopper)
    response = api_client.post(f"{ORDERS}{fulfilled.number}/cancel/")
    assert (response.status_code, response.json()["code"]) == (409, "invalid_transition")


def test_transition_is_staff_only(api_client, shopper):
    order = place(user=shopper)
    url = f"{ORDERS}{order.number}/transition/"
    assert api_client.post(url, {"status": "processing"}).status_code == 403
    api_client.force_authenticate(None)
    assert api_client.post(url, {"status": "processing"}).status_code == 401


def test_staff_transition_to_shipped_books_a_shipment(api_client):
    order = order_in(OrderStatus.FULFILLED)
    api_client.force_authenticate(StaffUserFactory())
    url = f"{ORDERS}{order.number}/transition/"
    response = api_client.post(url, {"status": "shipped"})
    assert response.status_code == 200
    shipment = response.json()["shipments"][0]
    assert shipment["carrier"] == "MockPost"
    assert shipment["tracking_number"]
    response = api_client.post(url, {"status": "processing"})
    assert (response.status_code, response.json()["code"]) == (409, "invalid_transition")
    assert api_client.post(url, {"status": "nope"}).json()["code"] == "validation_error"


def test_invoice_json_and_printable_html(api_client, shopper):
    order = place(user=shopper)
    body = api_client.get(f"{ORDERS}{order.number}/invoice/").json()
    assert body["number"].startswith("INV-")
    assert body["totals"]["total"] == f"{order.total:.2f}"
    assert body["lines"][0]["sku"] == order.lines.first().sku
    assert "issued_at" in body
    response = api_client.get(f"{ORDERS}{order.number}/invoice/", {"format": "html"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert body["number"] in html
    assert "<!doctype html>" in html.lower()


def test_credit_note_appears_on_the_invoice_after_cancel(api_client, shopper):
    order = place(user=shopper)
    api_client.post(f"{ORDERS}{order.number}/cancel/")
    body = api_client.get(f"{ORDERS}{order.number}/invoice/").json()
    assert body["credit_notes"][0]["number"].startswith("CN-")
    assert body["credit_notes"][0]["total"] == f"{order.total:.2f}"


def test_returns_flow_through_the_api(api_client, shopper):
    variant = make_variant(on_hand=5, price=Decimal("20.00"))
    order = order_in(OrderStatus.DELIVERED, user=shopper, items=[(variant, 2)])
    url = f"{ORDERS}{order.number}/returns/"
    too_many = api_client.post(url, {"lines": [{"sku": variant.sku, "quantity": 3}]})
    assert (too_many.status_code, too_many.json()["code"]) == (400, "validation_error")
    response = api_client.post(
        url, {"lines": [{"sku": variant.sku, "quantity": 1}], "reason": "too big"}, format="json"
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["status"], body["reason"]) == ("requested", "too big")
    assert body["lines"] == [{"sku": variant.sku, "quantity": 1}]

    assert api_client.get("/api/v1/returns/").status_code == 403
    assert api_client.post(f"/api/v1/returns/{body['id']}/receive/").status_code == 403
    api_client.force_authenticate(StaffUserFactory())
    listed = api_client.get("/api/v1/returns/").json()
    assert [r["id"] for r in listed["results"]] == [body["id"]]
    received = api_client.post(f"/api/v1/returns/{body['id']}/receive/")
    assert received.status_code == 200
    assert (received.json()["status"], received.json()["refund_amount"]) == ("refunded", "20.00")
    order.refresh_from_db()
    assert order.payment_status == "partially_refunded"
    again = api_client.post(f"/api/v1/returns/{body['id']}/receive/")
    assert (again.status_code, again.json()["code"]) == (409, "invalid_transition")


def test_return_on_undelivered_order_is_409(api_client, shopper):
    order = place(user=shopper)
    sku = order.lines.first().sku
    response = api_client.post(
        f"{ORDERS}{order.number}/returns/", {"lines": [{"sku": sku, "quantity": 1}]}, format="json"
    )
    assert (response.status_code, response.json()["code"]) == (409, "return_not_allowed")
