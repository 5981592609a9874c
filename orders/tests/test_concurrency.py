"""Real threads against PostgreSQL: row locks and unique constraints under contention."""

import threading
from collections import Counter
from decimal import Decimal

import pytest
from django.db import connection
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from catalog.tests.factories import make_variant
from inventory.errors import InsufficientStock
from inventory.models import StockItem
from orders.checkout.services import place_order
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
        return response.status_code, data.get("code"), data.get("order_token")

    results = run_threads(12, post)

    assert Order.objects.count() == 1, results
    assert IdempotencyKey.objects.count() == 1
    statuses = Counter(status for status, _, _ in results)
    assert set(statuses) <= {201, 409}, results
    assert {code for status, code, _ in results if status == 409} <= {"idempotency_key_in_use"}
    tokens = {token for status, _, token in results if status == 201}
    assert len(tokens) == 1  # every 201 (fresh or replayed) carries the same order token
    assert StockItem.objects.get(variant=variant).allocated == 2
