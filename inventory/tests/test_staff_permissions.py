"""Staff roles on stock: who reads it and who may adjust it (API and admin)."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.tests.factories import StaffUserFactory
from catalog.tests.factories import make_variant
from inventory.models import StockItem, StockMovement

pytestmark = pytest.mark.django_db

INVENTORY = "/api/v1/inventory/"
RESTOCK = {"delta": 5, "reason": "restock"}
CHANGELIST = "admin:inventory_stockitem_changelist"


def api_as(*roles, **kwargs) -> APIClient:
    client = APIClient()
    client.force_authenticate(StaffUserFactory(roles=list(roles), **kwargs))
    return client


def assert_denied(response) -> None:
    assert (response.status_code, response.json()["code"]) == (403, "permission_denied")


@pytest.mark.parametrize("role", ["Catalog managers", "Fulfilment"])
def test_stock_readers_read_stock_but_may_not_adjust_it(role):
    make_variant(sku="A-1", on_hand=10)
    movements = StockMovement.objects.count()
    client = api_as(role)
    assert client.get(INVENTORY).json()["count"] == 1
    assert client.get(f"{INVENTORY}A-1/").json()["on_hand"] == 10
    assert client.get(f"{INVENTORY}A-1/movements/").status_code == 200
    assert_denied(client.post(f"{INVENTORY}A-1/adjust/", RESTOCK))
    assert StockItem.objects.get().on_hand == 10
    assert StockMovement.objects.count() == movements


@pytest.mark.parametrize("role", ["Customer service", "Finance"])
def test_roles_without_stock_do_not_read_it(role):
    make_variant(sku="A-1")
    client = api_as(role)
    assert_denied(client.get(INVENTORY))
    assert_denied(client.get(f"{INVENTORY}A-1/movements/"))


def test_the_adjust_permission_lets_staff_adjust():
    make_variant(sku="A-1", on_hand=10)
    client = api_as("Fulfilment", permissions=["inventory.adjust_stock"])
    assert client.post(f"{INVENTORY}A-1/adjust/", RESTOCK).json()["on_hand"] == 15


def test_staff_without_a_role_get_403_on_every_inventory_endpoint():
    make_variant(sku="A-1", on_hand=10)
    client = api_as()
    for response in (
        client.get(INVENTORY),
        client.get(f"{INVENTORY}A-1/"),
        client.get(f"{INVENTORY}A-1/movements/"),
        client.post(f"{INVENTORY}A-1/adjust/", RESTOCK),
    ):
        assert_denied(response)
    # An OPTIONS request only needs staff: it describes, it does nothing.
    assert client.options(INVENTORY).status_code == 200


def test_restock_is_not_offered_in_the_admin_without_the_permission(client):
    item = make_variant(sku="A-1", on_hand=10).stock
    client.force_login(StaffUserFactory(roles=["Fulfilment"]))
    url = reverse(CHANGELIST)
    response = client.get(url)
    assert response.status_code == 200
    assert b'value="restock_selected"' not in response.content
    form = {"action": "restock_selected", "_selected_action": [item.pk], "apply": "1"}
    client.post(url, {**form, "quantity": 5})
    item.refresh_from_db()
    assert item.on_hand == 10


def test_restock_works_in_the_admin_with_the_permission(client):
    item = make_variant(sku="A-1", on_hand=10).stock
    client.force_login(
        StaffUserFactory(
            roles=[], permissions=["inventory.view_stockitem", "inventory.adjust_stock"]
        )
    )
    url = reverse(CHANGELIST)
    assert b'value="restock_selected"' in client.get(url).content
    form = {"action": "restock_selected", "_selected_action": [item.pk], "apply": "1"}
    client.post(url, {**form, "quantity": 5})
    item.refresh_from_db()
    assert item.on_hand == 15
