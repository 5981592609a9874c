"""The rules of a stock hold (``inventory.services.hold_stock``): one per cart, never more
than the cart could buy, a bounded number of holding carts per client IP."""

import uuid
from datetime import timedelta

import pytest
from django.db.models import Sum
from django.utils import timezone

from catalog.tests.factories import make_variant
from inventory import selectors, services
from inventory.errors import InsufficientStock, TooManyHolds
from inventory.models import StockHold
from inventory.services import StockLine

pytestmark = pytest.mark.django_db

IP = "203.0.113.7"


def line(variant, quantity: int) -> StockLine:
    return StockLine(variant.pk, quantity, variant.sku)


def held(token) -> dict[str, int]:
    rows = StockHold.objects.filter(cart_token=token).select_related("variant")
    return {row.variant.sku: row.quantity for row in rows}


def expire(token) -> None:
    StockHold.objects.filter(cart_token=token).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )


# ---- one hold per cart -----------------------------------------------------------------


def test_holding_again_while_active_follows_the_lines_and_never_extends_the_hold():
    tea, cup = make_variant(on_hand=9), make_variant(on_hand=9)
    token = uuid.uuid4()
    first = services.hold_stock(cart_token=token, lines=[line(tea, 2), line(cup, 1)])

    again = services.hold_stock(cart_token=token, lines=[line(tea, 1)])

    assert again == first
    assert held(token) == {tea.sku: 1}
    assert set(StockHold.objects.filter(cart_token=token).values_list("expires_at", flat=True)) == {
        first
    }


def test_a_hold_that_expired_is_followed_by_a_fresh_one():
    variant = make_variant(on_hand=9)
    token = uuid.uuid4()
    services.hold_stock(cart_token=token, lines=[line(variant, 1)], ttl_seconds=60)
    expire(token)

    renewed = services.hold_stock(cart_token=token, lines=[line(variant, 1)], ttl_seconds=60)

    assert timedelta(seconds=55) < renewed - timezone.now() <= timedelta(seconds=60)
    assert selectors.hold_expiry(cart_token=token) == renewed


def test_hold_expiry_is_none_without_an_active_hold():
    variant = make_variant(on_hand=9)
    token = uuid.uuid4()
    assert selectors.hold_expiry(cart_token=token) is None
    services.hold_stock(cart_token=token, lines=[line(variant, 1)])
    expire(token)
    assert selectors.hold_expiry(cart_token=token) is None


# ---- never more than the cart could buy --------------------------------------------------


def test_a_cart_holds_at_most_the_unit_cap_first_lines_first(settings):
    settings.SHOP_MAX_HELD_UNITS_PER_CART = 5
    first, second, third = (make_variant(on_hand=50) for _ in range(3))
    token = uuid.uuid4()

    services.hold_stock(cart_token=token, lines=[line(first, 3), line(second, 4), line(third, 2)])

    assert held(token) == {first.sku: 3, second.sku: 2}
    assert StockHold.objects.aggregate(total=Sum("quantity"))["total"] == 5
    # What is not held stays available to everyone else.
    assert selectors.availability(variant_ids=[second.pk, third.pk]) == {
        second.pk: 48,
        third.pk: 50,
    }


def test_every_line_must_be_available_even_beyond_the_cap(settings):
    settings.SHOP_MAX_HELD_UNITS_PER_CART = 1
    plenty, scarce = make_variant(on_hand=50), make_variant(on_hand=1)
    token = uuid.uuid4()
    with pytest.raises(InsufficientStock):
        services.hold_stock(cart_token=token, lines=[line(plenty, 1), line(scarce, 2)])
    assert not StockHold.objects.exists()


def test_the_default_cap_stops_a_cart_holding_99_of_every_sku():
    variants = [make_variant(on_hand=99) for _ in range(5)]
    token = uuid.uuid4()
    services.hold_stock(cart_token=token, lines=[line(v, 99) for v in variants], client_ip=IP)
    assert sum(held(token).values()) == 20


# ---- bounded per client IP ---------------------------------------------------------------


def test_the_hold_records_the_client_ip():
    variant = make_variant(on_hand=9)
    token = uuid.uuid4()
    services.hold_stock(cart_token=token, lines=[line(variant, 1)], client_ip=IP)
    assert StockHold.objects.get(cart_token=token).client_ip == IP


def test_at_most_max_holds_per_ip_carts_hold_stock_from_one_address(settings):
    settings.SHOP_MAX_HOLDS_PER_IP = 2
    variant = make_variant(on_hand=50)
    carts = [uuid.uuid4() for _ in range(3)]
    for token in carts[:2]:
        services.hold_stock(cart_token=token, lines=[line(variant, 1)], client_ip=IP)

    with pytest.raises(TooManyHolds) as info:
        services.hold_stock(cart_token=carts[2], lines=[line(variant, 1)], client_ip=IP)

    assert info.value.status_code == 429
    assert info.value.as_dict()["code"] == "too_many_holds"
    assert 0 < info.value.retry_after <= settings.SHOP_RESERVATION_TTL
    assert not StockHold.objects.filter(cart_token=carts[2]).exists()
    # A cart already holding may hold again; another address is not affected.
    services.hold_stock(cart_token=carts[0], lines=[line(variant, 2)], client_ip=IP)
    services.hold_stock(cart_token=carts[2], lines=[line(variant, 1)], client_ip="198.51.100.1")


def test_a_slot_frees_up_when_a_hold_expires_or_is_released(settings):
    settings.SHOP_MAX_HOLDS_PER_IP = 1
    variant = make_variant(on_hand=50)
    first, second, third = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    services.hold_stock(cart_token=first, lines=[line(variant, 1)], client_ip=IP)
    expire(first)
    services.hold_stock(cart_token=second, lines=[line(variant, 1)], client_ip=IP)
    services.release_holds(cart_token=second)
    services.hold_stock(cart_token=third, lines=[line(variant, 1)], client_ip=IP)
    assert selectors.holding_carts_from_ip(client_ip=IP).keys() == {third}


def test_restoring_a_hold_without_a_client_ip_is_not_bounded(settings):
    settings.SHOP_MAX_HOLDS_PER_IP = 0
    variant = make_variant(on_hand=5)
    with pytest.raises(TooManyHolds):
        services.hold_stock(cart_token=uuid.uuid4(), lines=[line(variant, 1)], client_ip=IP)
    services.hold_stock(cart_token=uuid.uuid4(), lines=[line(variant, 1)])
    assert StockHold.objects.get().client_ip is None
