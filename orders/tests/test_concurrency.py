"""Real threads against PostgreSQL: row locks and unique constraints under contention."""

import threading
from collections import Counter
from decimal import Decimal

import pytest
from django.db import connection
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from cart.errors import VoucherUsedUp
from cart.models import Cart, CartStatus, Voucher, VoucherUse
from cart.pricing.services import apply_voucher
from cart.tests.factories import VoucherFactory, default_shipping_method
from catalog.tests.factories import make_variant
from inventory.errors import InsufficientStock
from inventory.models import StockItem
from orders.checkout.services import place_order
from orders.guest_access import hash_order_token
from orders.models import IdempotencyKey, Order, Payment
from orders.tests.factories import ADDRESS, cart_with, fast_gateway  # noqa: F401

pytestmark = [pytest.mark.postgres, pytest.mark.usefixtures("fast_gateway")]


def run_threads(count: int, work) -> list:
    """Run ``work(i)`` in ``count`` threads released together; return results in order."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def runner(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = work(i)
        except Exception as exc:  # noqa: BLE001 - collected and asserted by the test
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    return results


def test_forty_buyers_of_the_last_ten_units(transactional_db):
    variant = make_variant(on_hand=10, price=Decimal("15.00"))
    buyers = [UserFactory() for _ in range(40)]
    carts = [cart_with(user, (variant, 1)) for user in buyers]

    def buy(i: int):
        return place_order(
            user=buyers[i], cart=carts[i], shipping_address=ADDRESS, payment_token="tok_success"
        )

    results = run_threads(40, buy)

    outcomes = Counter(type(r).__name__ for r in results)
    assert outcomes == {"Order": 10, "InsufficientStock": 30}, outcomes
    assert all(r.lines[0]["available"] == 0 for r in results if isinstance(r, InsufficientStock))
    item = StockItem.objects.get(variant=variant)
    assert (item.on_hand, item.allocated) == (10, 10)
    assert Order.objects.count() == 10
    assert Payment.objects.filter(kind="charge", result="succeeded").count() == 10
    assert sorted(Order.objects.values_list("invoices__sequence", flat=True)) == list(range(1, 11))


def test_twelve_concurrent_requests_with_one_key_make_one_order(transactional_db):
    user = UserFactory()
    variant = make_variant(on_hand=50)
    cart_with(user, (variant, 2))
    body = {"shipping_address": ADDRESS, "payment_token": "tok_success"}

    def post(i: int):
        client = APIClient()
        client.force_authenticate(user)
        response = client.post(
            "/api/v1/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY="one-key"
        )
        return (
            response.status_code,
            response.json().get("code"),
            response.get("Idempotent-Replayed"),
        )

    results = run_threads(12, post)

    assert Order.objects.count() == 1
    fresh = [r for r in results if r == (201, None, None)]
    assert len(fresh) == 1, results
    for status, code, replayed in results:
        assert (
            (status, replayed) == (201, "true")
            or (status, code)
            == (
                409,
                "idempotency_key_in_use",
            )
            or (status, code, replayed) == (201, None, None)
        ), results
    assert StockItem.objects.get(variant=variant).allocated == 2
    assert IdempotencyKey.objects.get().state == "completed"
    assert Payment.objects.filter(kind="charge").count() == 1


def test_twelve_concurrent_guest_checkouts_with_one_key_and_cart_token_make_one_order(
    transactional_db,
):
    variant = make_variant(on_hand=50)
    added = APIClient().post(
        "/api/v1/cart/items/", {"sku": variant.sku, "quantity": 2}, format="json"
    )
    cart_token = added.json()["token"]
    body = {"shipping_address": ADDRESS, "payment_token": "tok_success", "email": "g@example.com"}

    def post(i: int):
        response = APIClient().post(
            "/api/v1/orders/",
            body,
            format="json",
            HTTP_IDEMPOTENCY_KEY="one-key",
            HTTP_X_CART_TOKEN=cart_token,
        )
        data = response.json()
        return (
            response.status_code,
            data.get("code"),
            (data.get("number"), data.get("order_token")),
            response.get("Idempotent-Replayed"),
        )

    results = run_threads(12, post)

    assert Order.objects.count() == 1, results
    assert IdempotencyKey.objects.count() == 1
    statuses = Counter(status for status, _, _, _ in results)
    assert set(statuses) <= {201, 409}, results
    assert {code for status, code, _, _ in results if status == 409} <= {"idempotency_key_in_use"}
    # Exactly one answer placed the order; every other 201 is its replay.
    assert [r[3] for r in results if r[0] == 201].count(None) == 1, results
    # Every 201 (fresh or replayed) names the same order with the same order token.
    [(number, order_token)] = {order for status, _, order, _ in results if status == 201}
    order = Order.objects.get()
    assert number == order.number
    assert order.order_token_hash == hash_order_token(token=order_token)
    assert StockItem.objects.get(variant=variant).allocated == 2


def test_forty_guests_for_the_last_ten_units_make_exactly_ten_orders(transactional_db):
    variant = make_variant(on_hand=10, price=Decimal("15.00"))
    cart_tokens = []
    for _ in range(40):
        added = APIClient().post(
            "/api/v1/cart/items/", {"sku": variant.sku, "quantity": 1}, format="json"
        )
        assert added.status_code == 201, added.json()
        cart_tokens.append(added.json()["token"])
    assert len(set(cart_tokens)) == 40

    def post(i: int):
        body = {
            "shipping_address": ADDRESS,
            "payment_token": "tok_success",
            "email": f"guest{i}@example.com",
        }
        response = APIClient().post(
            "/api/v1/orders/",
            body,
            format="json",
            HTTP_IDEMPOTENCY_KEY=f"guest-{i}",
            HTTP_X_CART_TOKEN=cart_tokens[i],
        )
        return response.status_code, response.json()

    results = run_threads(40, post)

    outcomes = Counter((status, body.get("code")) for status, body in results)
    assert outcomes == {(201, None): 10, (409, "insufficient_stock"): 30}, results
    placed = [body for status, body in results if status == 201]
    assert all(len(body["order_token"]) >= 32 for body in placed)
    assert {body["email"] for body in placed} == {
        order.email for order in Order.objects.filter(user__isnull=True)
    }
    assert Order.objects.count() == 10
    item = StockItem.objects.get(variant=variant)
    assert (item.on_hand, item.allocated) == (10, 10)
    assert Payment.objects.filter(kind="charge", result="succeeded").count() == 10
    # Each refused guest keeps a cart that is no longer in checkout, ready to be changed.
    refused = {cart_tokens[i] for i, (status, _) in enumerate(results) if status == 409}
    open_carts = Cart.objects.filter(
        token__in=refused, status=CartStatus.OPEN, checkout_order_number=""
    )
    assert open_carts.count() == 30
    assert IdempotencyKey.objects.count() == 10  # the refusals were not kept against keys


def test_twelve_checkouts_with_a_single_use_voucher_make_one_discounted_order(transactional_db):
    """django-oscar #2101: a single-use voucher used twice under concurrent checkouts."""
    default_shipping_method()
    VoucherFactory(code="ONLY-ONE", value=Decimal("50"), usage_limit=1)
    variant = make_variant(on_hand=50, price=Decimal("20.00"))
    buyers = [UserFactory() for _ in range(12)]
    carts = [cart_with(user, (variant, 1)) for user in buyers]
    for cart in carts:
        apply_voucher(cart=cart, code="only-one")

    def buy(i: int):
        return place_order(
            user=buyers[i], cart=carts[i], shipping_address=ADDRESS, payment_token="tok_success"
        )

    results = run_threads(12, buy)

    outcomes = Counter(type(r).__name__ for r in results)
    assert outcomes == {"Order": 1, "VoucherUsedUp": 11}, outcomes
    assert all(isinstance(r, VoucherUsedUp) for r in results if not isinstance(r, Order))
    assert (
        Order.objects.filter(discount_total=Decimal("10.00"), voucher_code="ONLY-ONE").count() == 1
    )
    assert Voucher.objects.get().times_used == 1
    assert VoucherUse.objects.count() == 1
    # Nothing was charged for the refused checkouts, and they can be placed at full price.
    assert Payment.objects.filter(kind="charge", result="succeeded").count() == 1
    assert Cart.objects.filter(voucher__isnull=False, status=CartStatus.OPEN).count() == 0
    assert StockItem.objects.get(variant=variant).allocated == 1
