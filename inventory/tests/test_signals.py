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
    variant = make_variant(on_hand=5)
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
