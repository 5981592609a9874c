"""API.md "Inventory" rules not pinned elsewhere: odd SKUs, movement shape, bad pages."""

import pytest
from rest_framework.test import APIClient

from accounts.tests.factories import StaffUserFactory
from catalog.tests.factories import make_variant

pytestmark = pytest.mark.django_db

INVENTORY = "/api/v1/inventory/"


@pytest.fixture
def staff_client() -> APIClient:
    client = APIClient(enforce_csrf_checks=True)
    client.force_authenticate(
        StaffUserFactory(email="boss@example.com", permissions=["inventory.adjust_stock"])
    )
    return client


@pytest.mark.parametrize(
    ("sku", "status", "code"),
    [
        ("a%00b", 400, "bad_request"),  # NUL never reaches PostgreSQL (RejectNullBytesMiddleware)
        ("%00", 400, "bad_request"),
        ("..", 404, "not_found"),
        ("A-1%20", 404, "not_found"),
    ],
)
def test_odd_skus_answer_4xx_never_500(staff_client, sku, status, code):
    make_variant(sku="A-1")
    for response in (
        staff_client.get(f"{INVENTORY}{sku}/"),
        staff_client.get(f"{INVENTORY}{sku}/movements/"),
        staff_client.post(
            f"{INVENTORY}{sku}/adjust/", {"delta": 1, "reason": "restock"}, format="json"
        ),
    ):
        assert response.status_code == status
        assert response.json()["code"] == code


def test_adjust_answers_the_stock_row_and_records_a_movement(staff_client):
    make_variant(sku="A-1", on_hand=4, low_stock_threshold=2)
    response = staff_client.post(
        f"{INVENTORY}A-1/adjust/", {"delta": 3, "reason": "correction"}, format="json"
    )
    assert response.status_code == 200
    assert set(response.json()) >= {
        "sku",
        "product_name",
        "on_hand",
        "allocated",
        "reserved",
        "available",
        "low_stock_threshold",
        "is_low",
    }
    assert (response.json()["on_hand"], response.json()["is_low"]) == (7, False)
    movements = staff_client.get(f"{INVENTORY}A-1/movements/").json()
    assert set(movements) == {"count", "next", "previous", "results"}
    movement = movements["results"][0]  # newest first
    assert set(movement) >= {"delta", "reason", "created_at", "by", "order"}
    assert (movement["delta"], movement["reason"], movement["by"], movement["order"]) == (
        3,
        "correction",
        "boss@example.com",
        None,
    )


@pytest.mark.parametrize("url", [INVENTORY, f"{INVENTORY}A-1/movements/"])
def test_pages_past_the_end_are_validation_errors(staff_client, url):
    make_variant(sku="A-1")
    response = staff_client.get(url, {"page": 5})
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["page"]


def test_page_size_is_clamped_to_100(staff_client):
    for n in range(101):
        make_variant(sku=f"S-{n:03}")
    body = staff_client.get(INVENTORY, {"page_size": 1000}).json()
    assert (body["count"], len(body["results"])) == (101, 100)


def test_adjusting_past_the_on_hand_ceiling_is_a_validation_error(staff_client):
    make_variant(sku="A-1", on_hand=2_000_000_000)
    response = staff_client.post(
        f"{INVENTORY}A-1/adjust/", {"delta": 10**9, "reason": "restock"}, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["delta"]
    assert staff_client.get(f"{INVENTORY}A-1/").json()["on_hand"] == 2_000_000_000
