import pytest
from rest_framework.test import APIClient

from accounts.tests.factories import StaffUserFactory, UserFactory
from catalog.tests.factories import make_variant
from inventory import services
from inventory.models import StockItem, StockMovement
from inventory.services import StockLine
from inventory.tests.factories import StockHoldFactory

pytestmark = pytest.mark.django_db

INVENTORY = "/api/v1/inventory/"


@pytest.fixture
def staff():
    # Adjusting stock is in no staff role: it is granted to the person who counts stock.
    return StaffUserFactory(email="boss@example.com", permissions=["inventory.adjust_stock"])


@pytest.fixture
def staff_client(staff):
    client = APIClient()
    client.force_authenticate(staff)
    return client


def test_stock_list_shape(staff_client):
    variant = make_variant(
        sku="A-1", name="Red", product__name="Mug", on_hand=10, allocated=3, low_stock_threshold=5
    )
    StockHoldFactory(variant=variant, quantity=2)
    body = staff_client.get(INVENTORY).json()
    assert body["count"] == 1
    assert body["results"][0] == {
        "sku": "A-1",
        "product_name": "Mug",
        "variant_name": "Red",
        "on_hand": 10,
        "allocated": 3,
        "reserved": 2,
        "available": 5,
        "low_stock_threshold": 5,
        "is_low": True,
    }


def test_stock_list_filters_low_stock_and_search(staff_client):
    make_variant(sku="LOW-1", on_hand=2, low_stock_threshold=5)
    make_variant(sku="OK-1", on_hand=50, low_stock_threshold=5)
    make_variant(sku="OK-2", on_hand=50, low_stock_threshold=5)

    def skus(**params):
        response = staff_client.get(INVENTORY, params)
        assert response.status_code == 200, response.json()
        return [row["sku"] for row in response.json()["results"]]

    assert skus(low_stock="true") == ["LOW-1"]
    assert skus(low_stock="false") == ["OK-1", "OK-2"]
    assert skus(search="ok-2") == ["OK-2"]


@pytest.mark.parametrize("params", [{"low_stock": "maybe"}, {"search": "x" * 65}])
def test_stock_list_rejects_bad_filters(staff_client, params):
    response = staff_client.get(INVENTORY, params)
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"


@pytest.mark.parametrize("rows", [5, 30])
def test_stock_list_query_count_is_constant(staff_client, django_assert_max_num_queries, rows):
    for _ in range(rows):
        make_variant()
    # The page and the count, plus the staff member's permissions (their own, their groups').
    with django_assert_max_num_queries(4):
        response = staff_client.get(INVENTORY, {"page_size": rows})
    assert len(response.json()["results"]) == rows


def test_inventory_is_staff_only():
    make_variant(sku="A-1")
    anonymous = APIClient()
    assert anonymous.get(INVENTORY).status_code == 401
    assert (
        anonymous.post(f"{INVENTORY}A-1/adjust/", {"delta": 1, "reason": "restock"}).status_code
        == 401
    )
    customer = APIClient()
    customer.force_authenticate(UserFactory())
    for response in (
        customer.get(INVENTORY),
        customer.get(f"{INVENTORY}A-1/movements/"),
        customer.post(f"{INVENTORY}A-1/adjust/", {"delta": 1, "reason": "restock"}),
    ):
        assert response.status_code == 403
        assert response.json()["code"] == "permission_denied"


def test_adjust_changes_stock_and_records_who(staff_client, staff):
    variant = make_variant(sku="A-1", on_hand=4)
    response = staff_client.post(
        f"{INVENTORY}a-1/adjust/", {"delta": 6, "reason": "restock", "note": "PO 17"}
    )
    assert response.status_code == 200, response.json()
    assert response.json()["on_hand"] == 10
    movement = StockMovement.objects.filter(variant=variant).first()
    assert (movement.delta, movement.reason, movement.user, movement.note) == (
        6,
        "restock",
        staff,
        "PO 17",
    )


def test_adjust_below_allocated_is_409(staff_client):
    variant = make_variant(sku="A-1", on_hand=5, allocated=4)
    response = staff_client.post(f"{INVENTORY}A-1/adjust/", {"delta": -2, "reason": "damage"})
    assert response.status_code == 409
    assert response.json()["code"] == "insufficient_stock"
    assert StockItem.objects.get(variant=variant).on_hand == 5


@pytest.mark.parametrize(
    "body",
    [
        {"delta": 0, "reason": "restock"},
        {"delta": 1, "reason": "sale"},
        {"delta": "many", "reason": "restock"},
        {"delta": 10**12, "reason": "restock"},
        {"reason": "restock"},
        {"delta": 1},
    ],
)
def test_adjust_rejects_bad_input(staff_client, body):
    make_variant(sku="A-1")
    response = staff_client.post(f"{INVENTORY}A-1/adjust/", body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"


def test_adjust_rejects_malformed_json(staff_client):
    make_variant(sku="A-1")
    response = staff_client.post(f"{INVENTORY}A-1/adjust/", "{bad", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_unknown_sku_is_404(staff_client):
    assert (
        staff_client.post(f"{INVENTORY}NOPE/adjust/", {"delta": 1, "reason": "restock"}).status_code
        == 404
    )
    assert staff_client.get(f"{INVENTORY}NOPE/movements/").status_code == 404
    assert staff_client.get(f"{INVENTORY}NOPE/").status_code == 404


def test_retrieve_one_row(staff_client):
    make_variant(sku="A-1", on_hand=3)
    assert staff_client.get(f"{INVENTORY}a-1/").json()["available"] == 3


def test_movements_are_paginated_newest_first(staff_client, staff):
    variant = make_variant(sku="A-1", on_hand=10, allocated=0)
    services.adjust(variant=variant, delta=-1, reason="damage", user=staff)
    services.allocate(lines=[StockLine(variant.pk, 2, "A-1")], order_number="ORD-1")
    services.ship(lines=[StockLine(variant.pk, 2, "A-1")], order_number="ORD-1")
    body = staff_client.get(f"{INVENTORY}A-1/movements/", {"page_size": 2}).json()
    assert body["count"] == 3
    assert [(m["delta"], m["reason"], m["by"], m["order"]) for m in body["results"]] == [
        (-2, "sale", None, "ORD-1"),
        (-1, "damage", "boss@example.com", None),
    ]
    assert body["next"]
