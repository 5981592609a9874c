"""One availability rule and one low-stock rule, the same in every reader."""

import pytest

from accounts.tests.factories import StaffUserFactory
from catalog.selectors import variants_with_stock
from catalog.tests.factories import make_variant
from inventory import selectors
from inventory.models import StockHold, StockItem
from inventory.tests.factories import StockHoldFactory
from orders.reports.dashboard import low_stock

pytestmark = pytest.mark.django_db


@pytest.fixture
def oversold():
    """5 on hand, 1 allocated, 7 held by other carts (a correction after the holds were made)."""
    variant = make_variant(on_hand=5, allocated=1, low_stock_threshold=2, sku="OVER-1")
    StockHoldFactory(variant=variant, quantity=7)
    return variant


def test_available_from_is_clamped_at_zero():
    assert selectors.available_from(on_hand=10, allocated=3, held=2) == 5
    assert selectors.available_from(on_hand=5, allocated=1, held=7) == 0


def test_availability_never_goes_below_zero(oversold):
    assert selectors.availability(variant_ids=[oversold.pk]) == {oversold.pk: 0}


def test_with_available_is_clamped_and_keeps_the_held_quantity(oversold):
    row = selectors.with_available(queryset=StockItem.objects.all()).get()
    assert (row.held, row.available) == (7, 0)


def test_catalog_variants_use_the_same_clamped_rule(oversold):
    assert variants_with_stock().get(pk=oversold.pk).available == 0
    # For the cart holding the 7, its own holds count as its own: 5 - 1 = 4.
    token = StockHold.objects.get(variant=oversold).cart_token
    assert variants_with_stock(cart_token=token).get(pk=oversold.pk).available == 4
    assert selectors.availability(variant_ids=[oversold.pk], cart_token=token) == {oversold.pk: 4}


def test_the_dashboard_and_the_inventory_api_show_the_clamped_value(oversold, api_client):
    assert [row.available for row in low_stock()] == [0]
    api_client.force_authenticate(StaffUserFactory())
    body = api_client.get("/api/v1/inventory/over-1/").json()
    assert (body["reserved"], body["available"], body["is_low"]) == (7, 0, True)


def test_sql_availability_agrees_with_the_python_rule():
    cases = [(10, 0, 0), (10, 3, 2), (5, 5, 0), (5, 1, 7), (0, 0, 3)]
    for on_hand, allocated, held in cases:
        variant = make_variant(on_hand=on_hand, allocated=allocated)
        if held:
            StockHoldFactory(variant=variant, quantity=held)
        expected = selectors.available_from(on_hand=on_hand, allocated=allocated, held=held)
        assert selectors.availability(variant_ids=[variant.pk])[variant.pk] == expected


@pytest.mark.parametrize(("available", "low"), [(0, True), (3, True), (4, False)])
def test_low_stock_is_at_or_below_the_threshold(available, low):
    variant = make_variant(on_hand=available, low_stock_threshold=3)
    rows = selectors.with_available(queryset=StockItem.objects.filter(variant=variant))
    assert selectors.is_low_stock(available=available, threshold=3) is low
    assert rows.filter(selectors.low_stock_condition()).exists() is low
