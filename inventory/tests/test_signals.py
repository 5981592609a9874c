"""``stock_changed``: sent once per committed transaction that changed stock or holds."""

import uuid

import pytest
from django.db import transaction

from catalog.tests.factories import make_variant
from inventory import services
from inventory.services import StockLine
from inventory.signals import stock_change_pending, stock_changed


@pytest.fixture
def changes():
    received: list[dict] = []

    def receiver(sender, **kwargs):
        received.append({"sender": sender, **kwargs})

    stock_changed.connect(receiver)
    yield received
    stock_changed.disconnect(receiver)


@pytest.mark.django_db
def test_stock_changed_waits_for_commit_and_is_sent_once(
    changes, django_capture_on_commit_callbacks
):
    variant = make_variant(on_hand=5)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        services.restock(variant=variant, quantity=1)
        services.hold_stock(cart_token=uuid.uuid4(), lines=[StockLine(variant.pk, 2)])
        assert stock_change_pending()
        assert changes == []
    assert len(changes) == 1
    assert changes[0]["sender"].__name__ == "StockItem"


@pytest.mark.django_db
def test_stock_changed_is_not_sent_when_the_transaction_rolls_back(
    changes, django_capture_on_commit_callbacks
):
    variant = make_variant(on_hand=5)

    def checkout_that_fails_after_allocating():
        with transaction.atomic():
            services.allocate(lines=[StockLine(variant.pk, 2)], order_number="O-1")
            raise RuntimeError("checkout failed later")

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        checkout_that_fails_after_allocating()
    assert changes == []


@pytest.mark.django_db(transaction=True)
def test_every_stock_writer_sends_stock_changed(changes):
    # One unit: every write below turns the variant sold out or back (allocate and deallocate
    # send the notice only when a stock hint changes).
    variant = make_variant(on_hand=1)
    token = uuid.uuid4()
    lines = [StockLine(variant.pk, 1, variant.sku)]
    writers = [
        lambda: services.hold_stock(cart_token=token, lines=lines),
        lambda: services.release_holds(cart_token=token),
        lambda: services.allocate(lines=lines, order_number="O-1"),
        lambda: services.deallocate(lines=lines, order_number="O-1"),
        lambda: services.allocate(lines=lines, order_number="O-2"),
        lambda: services.ship(lines=lines, order_number="O-2"),
        lambda: services.receive_return(lines=lines, order_number="O-2"),
        lambda: services.adjust(variant=variant, delta=-1, reason="damage"),
        lambda: services.restock(variant=variant, quantity=3),
    ]
    for count, write in enumerate(writers, start=1):
        write()
        assert len(changes) == count, write
    assert not stock_change_pending()


@pytest.mark.django_db(transaction=True)
def test_an_order_that_changes_no_stock_hint_sends_no_stock_changed(changes):
    """Shoppers see hints, not counts: an order that leaves every hint as it was keeps the
    catalogue cache (no ``stock_changed``); the one that makes it low stock, or sold out,
    or a cancellation that brings it back, does not."""
    variant = make_variant(on_hand=5, low_stock_threshold=2)
    one = [StockLine(variant.pk, 1, variant.sku)]
    services.allocate(lines=one, order_number="O-1")  # 5 -> 4: in stock
    services.deallocate(lines=one, order_number="O-1")  # 4 -> 5: in stock
    services.allocate(lines=one, order_number="O-2")  # 5 -> 4
    assert changes == []
    services.allocate(lines=[StockLine(variant.pk, 2, variant.sku)], order_number="O-3")
    assert len(changes) == 1  # 4 -> 2: low stock
    services.allocate(lines=[StockLine(variant.pk, 2, variant.sku)], order_number="O-4")
    assert len(changes) == 2  # 2 -> 0: sold out
    services.deallocate(lines=one, order_number="O-4")
    assert len(changes) == 3  # 0 -> 1: back in stock (low)


@pytest.mark.django_db(transaction=True)
def test_allocating_a_carts_held_stock_always_sends_stock_changed(changes):
    variant = make_variant(on_hand=50)
    token = uuid.uuid4()
    one = [StockLine(variant.pk, 1, variant.sku)]
    services.hold_stock(cart_token=token, lines=one)
    assert len(changes) == 1
    services.allocate(lines=one, order_number="O-1", cart_token=token)
    assert len(changes) == 2
