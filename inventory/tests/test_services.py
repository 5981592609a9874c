import uuid
from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.tests.factories import StaffUserFactory
from catalog.tests.factories import VariantFactory, make_variant
from inventory import selectors, services
from inventory.errors import InsufficientStock
from inventory.models import StockHold, StockItem, StockMovement
from inventory.services import StockLine
from inventory.signals import stock_low
from inventory.tests.factories import StockHoldFactory

pytestmark = pytest.mark.django_db


def stock(variant) -> StockItem:
    return StockItem.objects.get(variant=variant)


def line(variant, quantity: int) -> StockLine:
    return StockLine(variant.pk, quantity, variant.sku)


@pytest.fixture
def low_alerts():
    received: list[dict] = []

    def receiver(sender, **kwargs):
        received.append(kwargs)

    stock_low.connect(receiver)
    yield received
    stock_low.disconnect(receiver)


# ---- availability --------------------------------------------------------------------


def test_availability_subtracts_allocations_and_other_carts_holds():
    variant = make_variant(on_hand=10, allocated=3)
    mine = StockHoldFactory(variant=variant, quantity=2)
    StockHoldFactory(variant=variant, quantity=1)
    assert selectors.availability(variant_ids=[variant.pk]) == {variant.pk: 4}
    assert selectors.availability(variant_ids=[variant.pk], cart_token=mine.cart_token) == {
        variant.pk: 6
    }


def test_expired_holds_count_for_nothing():
    variant = make_variant(on_hand=5)
    StockHoldFactory(variant=variant, quantity=5, expires_at=timezone.now() - timedelta(seconds=1))
    assert selectors.availability(variant_ids=[variant.pk]) == {variant.pk: 5}
    row = selectors.with_available(queryset=StockItem.objects.filter(variant=variant)).get()
    assert (row.held, row.available) == (0, 5)
    services.hold_stock(cart_token=uuid.uuid4(), lines=[line(variant, 5)])


def test_availability_of_variant_without_stock_row_is_zero():
    variant = VariantFactory(stock=False)
    assert selectors.availability(variant_ids=[variant.pk]) == {variant.pk: 0}


def test_with_available_annotates_held_and_available():
    variant = make_variant(on_hand=10, allocated=2)
    StockHoldFactory(variant=variant, quantity=3)
    StockHoldFactory(variant=variant, quantity=1)
    row = selectors.with_available(queryset=StockItem.objects.all()).get()
    assert (row.held, row.available) == (4, 4)


# ---- hold / release -----------------------------------------------------------------


def test_hold_stock_holds_until_expiry_and_replaces_earlier_holds():
    variant = make_variant(on_hand=5)
    token = uuid.uuid4()
    first = services.hold_stock(cart_token=token, lines=[line(variant, 2)], ttl_seconds=60)
    assert timedelta(seconds=55) < first - timezone.now() <= timedelta(seconds=60)
    again = services.hold_stock(cart_token=token, lines=[line(variant, 3)], ttl_seconds=600)
    hold = StockHold.objects.get(cart_token=token)
    # One hold per cart: the new quantities, the original expiry.
    assert (hold.quantity, hold.expires_at) == (3, first)
    assert again == first
    assert selectors.availability(variant_ids=[variant.pk]) == {variant.pk: 2}


def test_hold_stock_merges_duplicate_lines_and_is_all_or_nothing():
    plenty = make_variant(on_hand=10)
    scarce = make_variant(on_hand=1)
    token = uuid.uuid4()
    with pytest.raises(InsufficientStock) as info:
        services.hold_stock(
            cart_token=token, lines=[line(plenty, 2), line(scarce, 1), line(scarce, 1)]
        )
    assert info.value.lines == [{"sku": scarce.sku, "requested": 2, "available": 1}]
    assert not StockHold.objects.filter(cart_token=token).exists()


def test_hold_stock_cannot_take_what_another_cart_holds():
    variant = make_variant(on_hand=3)
    services.hold_stock(cart_token=uuid.uuid4(), lines=[line(variant, 2)])
    with pytest.raises(InsufficientStock) as info:
        services.hold_stock(cart_token=uuid.uuid4(), lines=[line(variant, 2)])
    assert info.value.extra["available"] == 1


def test_release_holds_drops_the_carts_holds_only():
    variant = make_variant(on_hand=5)
    mine, other = uuid.uuid4(), uuid.uuid4()
    services.hold_stock(cart_token=mine, lines=[line(variant, 1)])
    services.hold_stock(cart_token=other, lines=[line(variant, 1)])
    assert services.release_holds(cart_token=mine) == 1
    assert list(StockHold.objects.values_list("cart_token", flat=True)) == [other]


def test_release_expired_holds_deletes_only_expired_holds():
    variant = make_variant(on_hand=5)
    StockHoldFactory(variant=variant, expires_at=timezone.now() - timedelta(minutes=1))
    live = StockHoldFactory(variant=variant)
    assert services.release_expired_holds() == 1
    assert list(StockHold.objects.all()) == [live]


# ---- allocate / deallocate / ship ----------------------------------------------------


def test_allocate_converts_the_carts_own_holds():
    variant = make_variant(on_hand=3)
    token = uuid.uuid4()
    services.hold_stock(cart_token=token, lines=[line(variant, 3)])
    services.allocate(lines=[line(variant, 3)], order_number="O-1", cart_token=token)
    assert stock(variant).allocated == 3
    assert not StockHold.objects.exists()


def test_allocate_is_all_lines_or_none():
    ok = make_variant(on_hand=5)
    short = make_variant(on_hand=1, allocated=1)
    with pytest.raises(InsufficientStock) as info:
        services.allocate(lines=[line(ok, 1), line(short, 1)], order_number="O-1")
    assert info.value.lines == [{"sku": short.sku, "requested": 1, "available": 0}]
    assert stock(ok).allocated == 0


def test_allocate_respects_other_carts_unexpired_holds_but_not_expired_ones():
    variant = make_variant(on_hand=2)
    StockHoldFactory(variant=variant, quantity=1)
    StockHoldFactory(variant=variant, quantity=1, expires_at=timezone.now())
    with pytest.raises(InsufficientStock):
        services.allocate(lines=[line(variant, 2)])
    services.allocate(lines=[line(variant, 1)])
    assert stock(variant).allocated == 1


def test_deallocate_gives_stock_back():
    variant = make_variant(on_hand=5, allocated=4)
    services.deallocate(lines=[line(variant, 3)], order_number="O-1")
    assert stock(variant).allocated == 1


def test_ship_lowers_on_hand_and_allocated_and_records_a_sale():
    variant = make_variant(on_hand=5, allocated=2)
    services.ship(lines=[line(variant, 2)], order_number="O-9")
    item = stock(variant)
    assert (item.on_hand, item.allocated) == (3, 0)
    movement = StockMovement.objects.filter(variant=variant).first()
    assert (movement.delta, movement.reason, movement.order_number, movement.on_hand_after) == (
        -2,
        "sale",
        "O-9",
        3,
    )


def test_ship_more_than_allocated_is_refused():
    variant = make_variant(on_hand=5, allocated=1)
    with pytest.raises(InsufficientStock):
        services.ship(lines=[line(variant, 2)], order_number="O-9")
    assert stock(variant).on_hand == 5


# ---- adjust / restock / returns ------------------------------------------------------


def test_adjust_writes_a_movement_and_keeps_the_ledger_summing_to_on_hand():
    variant = make_variant(on_hand=10)
    services.adjust(variant=variant, delta=-3, reason="damage")
    services.adjust(variant=variant, delta=5, reason="correction")
    services.restock(variant=variant, quantity=2)
    item = stock(variant)
    assert item.on_hand == 14
    assert sum(StockMovement.objects.filter(variant=variant).values_list("delta", flat=True)) == 14


def test_adjust_cannot_go_below_allocated():
    variant = make_variant(on_hand=5, allocated=3)
    with pytest.raises(InsufficientStock):
        services.adjust(variant=variant, delta=-3, reason="correction")
    assert stock(variant).on_hand == 5


@pytest.mark.parametrize(("delta", "reason"), [(0, "restock"), (1, "sale"), (1, "bogus")])
def test_adjust_rejects_zero_delta_and_non_adjustment_reasons(delta, reason):
    variant = make_variant()
    with pytest.raises(ValueError):  # noqa: PT011
        services.adjust(variant=variant, delta=delta, reason=reason)


def test_restock_requires_a_positive_quantity():
    with pytest.raises(ValueError, match="positive"):
        services.restock(variant=make_variant(), quantity=0)


def test_adjust_creates_a_missing_stock_row():
    variant = VariantFactory(stock=False)
    item = services.restock(variant=variant, quantity=4)
    assert item.on_hand == 4


def test_receive_return_puts_units_back():
    variant = make_variant(on_hand=2)
    services.receive_return(lines=[line(variant, 1)], order_number="O-1")
    assert stock(variant).on_hand == 3
    assert StockMovement.objects.filter(variant=variant, reason="return").count() == 1


# ---- low-stock alerts ----------------------------------------------------------------


def test_stock_low_fires_once_until_restocked_above_threshold(
    low_alerts, django_capture_on_commit_callbacks
):
    variant = make_variant(on_hand=10, low_stock_threshold=3)
    with django_capture_on_commit_callbacks(execute=True):
        services.allocate(lines=[line(variant, 7)])
    assert low_alerts == [
        {
            "signal": stock_low,
            "stock_item_id": stock(variant).pk,
            "sku": variant.sku,
            "available": 3,
        }
    ]
    with django_capture_on_commit_callbacks(execute=True):
        services.allocate(lines=[line(variant, 1)])
    assert len(low_alerts) == 1
    assert stock(variant).low_stock_alerted

    with django_capture_on_commit_callbacks(execute=True):
        services.restock(variant=variant, quantity=10)
    assert not stock(variant).low_stock_alerted
    with django_capture_on_commit_callbacks(execute=True):
        services.adjust(variant=variant, delta=-10, reason="damage")
    assert len(low_alerts) == 2


def test_stock_low_is_sent_inside_the_transaction_and_rolls_back_with_it(
    django_capture_on_commit_callbacks,
):
    # Receivers write their rows (the notifications outbox) in the stock transaction; an
    # exception they raise undoes the sale, and a rolled-back sale keeps the SKU alertable.
    variant = make_variant(on_hand=4, low_stock_threshold=3)
    seen: list[tuple[bool, int]] = []

    def receiver(sender, stock_item_id, **kwargs):
        item = StockItem.objects.get(pk=stock_item_id)
        seen.append((item.low_stock_alerted, item.allocated))
        raise RuntimeError("outbox unavailable")

    stock_low.connect(receiver, weak=False, dispatch_uid="test-refuse")
    try:
        with (
            django_capture_on_commit_callbacks(execute=True) as callbacks,
            pytest.raises(RuntimeError, match="outbox unavailable"),
        ):
            services.allocate(lines=[line(variant, 2)])
    finally:
        stock_low.disconnect(dispatch_uid="test-refuse")
    assert seen == [(True, 2)]  # the receiver saw the uncommitted sale
    assert callbacks == []
    assert (stock(variant).allocated, stock(variant).low_stock_alerted) == (0, False)


# ---- database constraints ------------------------------------------------------------


@pytest.mark.parametrize("values", [{"on_hand": -1}, {"allocated": -1}, {"allocated": 11}])
def test_check_constraints_reject_a_bad_direct_update(values):
    variant = make_variant(on_hand=10)
    with pytest.raises(IntegrityError), transaction.atomic():
        StockItem.objects.filter(variant=variant).update(**values)


# ---- stock rows of new variants ------------------------------------------------------


def test_create_stock_item_without_starting_stock_writes_no_movement():
    variant = VariantFactory(stock=False)
    item = services.create_stock_item(variant=variant)
    assert (item.on_hand, item.allocated, item.low_stock_alerted) == (0, 0, False)
    assert item.low_stock_threshold == 5  # SHOP_LOW_STOCK_THRESHOLD
    assert not StockMovement.objects.filter(variant=variant).exists()


def test_create_stock_item_records_starting_stock_as_a_restock_movement():
    staff_user = StaffUserFactory()
    variant = VariantFactory(stock=False)
    item = services.create_stock_item(
        variant=variant, on_hand=7, low_stock_threshold=2, user=staff_user, note="first delivery"
    )
    assert (item.on_hand, item.low_stock_threshold) == (7, 2)
    movement = StockMovement.objects.get(variant=variant)
    assert (movement.delta, movement.reason, movement.on_hand_after) == (7, "restock", 7)
    assert (movement.user, movement.note) == (staff_user, "first delivery")


def test_create_stock_item_alerts_for_a_low_starting_stock_like_any_restock(
    low_alerts, django_capture_on_commit_callbacks
):
    variant = VariantFactory(stock=False)
    with django_capture_on_commit_callbacks(execute=True):
        services.create_stock_item(variant=variant, on_hand=2, low_stock_threshold=3)
    assert [alert["available"] for alert in low_alerts] == [2]
    assert stock(variant).low_stock_alerted


def test_create_stock_item_refuses_negative_stock_and_a_second_row():
    variant = VariantFactory(stock=False)
    with pytest.raises(ValueError, match="negative"):
        services.create_stock_item(variant=variant, on_hand=-1)
    services.create_stock_item(variant=variant)
    with pytest.raises(IntegrityError), transaction.atomic():
        services.create_stock_item(variant=variant)


def test_create_stock_items_loads_rows_and_movements_in_bulk_without_alerts(
    low_alerts, django_capture_on_commit_callbacks
):
    empty, low, plenty = (VariantFactory(stock=False) for _ in range(3))
    already = make_variant(on_hand=4)
    with django_capture_on_commit_callbacks(execute=True):
        created = services.create_stock_items(
            on_hand={empty.pk: 0, low.pk: 2, plenty.pk: 40, already.pk: 99},
            low_stock_threshold=3,
            note="seed",
            batch_size=2,
        )
    assert created == 3
    rows = {row.variant_id: row for row in StockItem.objects.all()}
    assert [(rows[v.pk].on_hand, rows[v.pk].low_stock_alerted) for v in (empty, low, plenty)] == [
        (0, True),
        (2, True),
        (40, False),
    ]
    assert rows[already.pk].on_hand == 4  # an existing row is left alone
    moves = StockMovement.objects.filter(note="seed").values_list("variant_id", "delta", "reason")
    assert sorted(moves) == sorted([(low.pk, 2, "restock"), (plenty.pk, 40, "restock")])
    assert low_alerts == []


def test_set_low_stock_threshold_changes_only_the_threshold():
    variant = make_variant(on_hand=6, low_stock_threshold=5)
    item = services.set_low_stock_threshold(variant=variant, threshold=1)
    assert (item.low_stock_threshold, item.on_hand) == (1, 6)
    orphan = VariantFactory(stock=False)
    assert services.set_low_stock_threshold(variant=orphan, threshold=2).low_stock_threshold == 2


def test_set_on_hand_writes_a_movement_and_respects_allocations():
    variant = make_variant(on_hand=5, allocated=2)
    services.set_on_hand(variant=variant, on_hand=8)
    services.set_on_hand(variant=variant, on_hand=3)
    services.set_on_hand(variant=variant, on_hand=3)  # already there: nothing written
    assert StockItem.objects.get(variant=variant).on_hand == 3
    with pytest.raises(InsufficientStock):
        services.set_on_hand(variant=variant, on_hand=1)
    reasons = list(
        StockMovement.objects.filter(variant=variant).order_by("id").values_list("reason", "delta")
    )
    assert reasons == [("restock", 5), ("restock", 3), ("correction", -5)]
