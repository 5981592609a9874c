import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from catalog.tests.factories import make_variant
from inventory import services
from inventory.models import StockItem, StockMovement

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:inventory_stockitem_changelist"


@pytest.fixture
def admin_browser(client):
    user = get_user_model().objects.create_superuser(email="root@example.com", password="x")
    client.force_login(user)
    return client


@pytest.mark.parametrize("count", [5, 60])
def test_stock_changelist_query_count_does_not_grow(
    admin_browser, django_assert_max_num_queries, count
):
    for _ in range(count):
        make_variant()
    with django_assert_max_num_queries(10):
        response = admin_browser.get(reverse(CHANGELIST))
    assert response.status_code == 200
    assert response.content.count(b'class="action-select"') == count


def test_stock_changelist_shows_availability_and_filters_low_stock(admin_browser):
    make_variant(sku="LOW-1", on_hand=3, allocated=1, low_stock_threshold=5)
    make_variant(sku="OK-1", on_hand=50)
    response = admin_browser.get(reverse(CHANGELIST), {"stock_level": "low"})
    body = response.content.decode()
    assert "LOW-1" in body
    assert "OK-1" not in body
    assert '<td class="field-available_display">2</td>' in body


def test_restock_action_asks_for_a_quantity_then_restocks(admin_browser):
    a = make_variant(on_hand=1)
    b = make_variant(on_hand=2)
    ids = [a.stock.pk, b.stock.pk]
    url = reverse(CHANGELIST)
    form = admin_browser.post(url, {"action": "restock_selected", "_selected_action": ids})
    assert form.status_code == 200
    assert b'name="quantity"' in form.content
    invalid = admin_browser.post(
        url, {"action": "restock_selected", "_selected_action": ids, "apply": "1", "quantity": 0}
    )
    assert invalid.status_code == 200
    assert StockItem.objects.get(pk=a.stock.pk).on_hand == 1
    done = admin_browser.post(
        url,
        {"action": "restock_selected", "_selected_action": ids, "apply": "1", "quantity": 5},
    )
    assert done.status_code == 302
    assert [StockItem.objects.get(pk=pk).on_hand for pk in ids] == [6, 7]
    assert StockMovement.objects.filter(reason="restock", delta=5).count() == 2


def test_stock_change_page_shows_movements_read_only(admin_browser):
    variant = make_variant(on_hand=4)
    services.adjust(variant=variant, delta=-1, reason="damage")
    response = admin_browser.get(
        reverse("admin:inventory_stockitem_change", args=[variant.stock.pk])
    )
    assert response.status_code == 200
    assert b"-1 damage" in response.content
    assert b'name="on_hand"' not in response.content


def test_variant_page_has_read_only_movement_inline(admin_browser):
    variant = make_variant(on_hand=4)
    response = admin_browser.get(reverse("admin:catalog_variant_change", args=[variant.pk]))
    assert response.status_code == 200
    assert b"stock movements" in response.content.lower()
