"""Stock counts imported from CSV: previewed, then written through inventory.services."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.roles import CATALOG_MANAGERS, FULFILMENT
from accounts.tests.factories import StaffUserFactory
from catalog.tests.factories import make_variant
from inventory.models import MovementReason, StockItem, StockMovement

pytestmark = pytest.mark.django_db


@pytest.fixture
def counter(client):
    client.force_login(StaffUserFactory(roles=[FULFILMENT], permissions=["inventory.adjust_stock"]))
    return client


def upload(client, *rows: str):
    body = "\n".join(["sku,on_hand", *rows]) + "\n"
    return client.post(
        reverse("admin:inventory_stockitem_import"),
        {
            "resource": "0",
            "format": "0",
            "import_file": SimpleUploadedFile("count.csv", body.encode(), "text/csv"),
        },
    )


def test_counted_quantities_are_previewed_then_written_as_movements(counter):
    make_variant(sku="CNT-1", on_hand=10)
    make_variant(sku="CNT-2", on_hand=3)
    response = upload(counter, "cnt-1,7", "CNT-2,5")
    assert response.context["result"].totals["update"] == 2
    assert StockItem.objects.get(variant__sku="CNT-1").on_hand == 10
    form = response.context["confirm_form"]
    counter.post(
        reverse("admin:inventory_stockitem_process_import"), {**form.initial, "resource": "0"}
    )
    assert StockItem.objects.get(variant__sku="CNT-1").on_hand == 7
    assert StockItem.objects.get(variant__sku="CNT-2").on_hand == 5
    down = StockMovement.objects.filter(variant__sku="CNT-1").latest("id")
    assert (down.reason, down.delta) == (MovementReason.CORRECTION, -3)


def test_unknown_skus_and_bad_counts_are_row_errors(counter):
    make_variant(sku="CNT-3", on_hand=4)
    StockItem.objects.filter(variant__sku="CNT-3").update(allocated=2)
    response = upload(counter, "NOPE-1,4", "CNT-3,1", "CNT-3,x")
    page = response.content.decode()
    assert response.context["result"].has_validation_errors()
    assert "Unknown SKU “NOPE-1”." in page
    assert "2 units are allocated to orders." in page
    assert StockItem.objects.get(variant__sku="CNT-3").on_hand == 4


def test_importing_counts_needs_adjust_stock(client):
    client.force_login(StaffUserFactory(roles=[CATALOG_MANAGERS]))
    assert client.get(reverse("admin:inventory_stockitem_import")).status_code == 403
