"""Write-offs and corrections from the stock item's page, through inventory.services."""

import pytest
from django.urls import reverse

from accounts.roles import CATALOG_MANAGERS, FULFILMENT
from accounts.tests.factories import StaffUserFactory
from catalog.tests.factories import make_variant
from inventory.models import MovementReason, StockItem, StockMovement

pytestmark = pytest.mark.django_db


@pytest.fixture
def item():
    variant = make_variant(on_hand=10, sku="LAMP-M")
    variant.product.name = "Fjell Summit Lamp"
    variant.product.save()
    variant.name = "M"
    variant.save()
    return StockItem.objects.get(variant=variant)


@pytest.fixture
def counter(client):
    client.force_login(StaffUserFactory(roles=[FULFILMENT], permissions=["inventory.adjust_stock"]))
    return client


def adjust(client, item, **data):
    return client.post(
        reverse("admin:inventory_stockitem_adjust", args=[item.pk]), data, follow=True
    )


def last_movement(item) -> StockMovement:
    return StockMovement.objects.filter(variant_id=item.variant_id).latest("id")


def test_stock_item_page_is_titled_by_product_and_sku(client, item):
    client.force_login(StaffUserFactory(is_superuser=True))
    page = client.get(reverse("admin:inventory_stockitem_change", args=[item.pk])).content
    assert "Fjell Summit Lamp M (LAMP-M)" in page.decode()
    assert b"Write off or correct" in page


@pytest.mark.parametrize(
    ("kind", "quantity", "on_hand", "reason", "delta"),
    [
        ("damaged", 2, 8, MovementReason.DAMAGE, -2),
        ("lost", 3, 7, MovementReason.CORRECTION, -3),
        ("found", 4, 14, MovementReason.CORRECTION, 4),
        ("counted", 6, 6, MovementReason.CORRECTION, -4),
    ],
)
def test_adjustments_write_the_ledger_with_the_reason(
    counter, item, kind, quantity, on_hand, reason, delta
):
    response = adjust(counter, item, kind=kind, quantity=quantity, reason="Shelf check")
    assert f"LAMP-M: {on_hand} on hand now." in response.content.decode()
    item.refresh_from_db()
    assert item.on_hand == on_hand
    movement = last_movement(item)
    assert (movement.reason, movement.delta) == (reason, delta)
    assert movement.note.endswith(": Shelf check")


def test_a_reason_is_required(counter, item):
    response = adjust(counter, item, kind="damaged", quantity=1, reason="")
    assert "This field is required." in response.content.decode()
    item.refresh_from_db()
    assert item.on_hand == 10


def test_cannot_write_off_below_what_is_allocated(counter, item):
    StockItem.objects.filter(pk=item.pk).update(allocated=9)
    response = adjust(counter, item, kind="lost", quantity=5, reason="Missing")
    assert "below the quantity allocated" in response.content.decode()
    item.refresh_from_db()
    assert item.on_hand == 10


@pytest.mark.parametrize("role", [FULFILMENT, CATALOG_MANAGERS])
def test_roles_without_adjust_stock_cannot_adjust(client, item, role):
    client.force_login(StaffUserFactory(roles=[role]))
    page = client.get(reverse("admin:inventory_stockitem_change", args=[item.pk]))
    assert b"Write off or correct" not in page.content
    response = client.post(
        reverse("admin:inventory_stockitem_adjust", args=[item.pk]),
        {"kind": "found", "quantity": 1, "reason": "x"},
    )
    assert response.status_code == 403
    item.refresh_from_db()
    assert item.on_hand == 10
