"""The cart side of a checkout (``cart.checkout``) and the stale-checkout recovery hook."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.db.transaction import TransactionManagementError
from django.utils import timezone

from cart import services
from cart.checkout import (
    CHECKOUT_TIMEOUT,
    checkout_is_stale,
    complete_checkout,
    end_checkout,
    lock_cart_in_checkout,
    lock_stale_checkout,
    register_stale_checkout_recovery,
    registered_stale_checkout_recovery,
    stale_checkouts,
    start_checkout,
)
from cart.errors import CartNotFound, CheckoutInProgress
from cart.models import Cart, CartLine, CartStatus
from cart.tests.factories import CartFactory, CartLineFactory
from catalog.tests.factories import make_variant

pytestmark = pytest.mark.django_db

NUMBER = "SO-TEST-0001"


def in_checkout(*, minutes: float = 0, number: str = NUMBER, **kwargs) -> Cart:
    """Return a cart in checkout ``number``, started ``minutes`` ago."""
    return CartFactory(
        checkout_order_number=number,
        checkout_started_at=timezone.now() - timedelta(minutes=minutes),
        **kwargs,
    )


def stale(**kwargs) -> Cart:
    return in_checkout(minutes=CHECKOUT_TIMEOUT.total_seconds() / 60 + 1, **kwargs)


@pytest.fixture
def recovery():
    """Register a fake stale-checkout recovery; yield its calls (and how it should act)."""
    previous = registered_stale_checkout_recovery()
    calls: list[dict] = []
    behaviour = {"then": "end"}

    def fake(*, cart: Cart) -> bool:
        calls.append(
            {
                "cart": cart,
                "in_transaction": transaction.get_connection().in_atomic_block,
                "number": cart.checkout_order_number,
            }
        )
        if behaviour["then"] == "end":
            end_checkout(cart=cart, order_number=cart.checkout_order_number)
        elif behaviour["then"] == "complete":
            complete_checkout(cart=cart)
        return behaviour["then"] != "fail"

    register_stale_checkout_recovery(recovery=fake)
    fake.calls, fake.behaviour = calls, behaviour
    yield fake
    register_stale_checkout_recovery(recovery=previous)


def test_start_checkout_puts_the_cart_in_checkout_so_it_cannot_change():
    cart = CartFactory()
    variant = make_variant(on_hand=5)
    started = timezone.now()
    with transaction.atomic():
        locked = services.lock_cart(cart=cart)
        start_checkout(cart=locked, order_number=NUMBER, started_at=started)
    cart.refresh_from_db()
    assert (cart.in_checkout, cart.checkout_order_number, cart.checkout_started_at) == (
        True,
        NUMBER,
        started,
    )
    with pytest.raises(CheckoutInProgress):
        services.add_item(cart=cart, sku=variant.sku, quantity=1)


@pytest.mark.django_db(transaction=True)
def test_checkout_writes_refuse_to_run_outside_a_transaction():
    cart = in_checkout()
    with pytest.raises(TransactionManagementError):
        start_checkout(cart=cart, order_number="SO-OTHER", started_at=timezone.now())
    with pytest.raises(TransactionManagementError):
        end_checkout(cart=cart, order_number=NUMBER)
    with pytest.raises(TransactionManagementError):
        complete_checkout(cart=cart)
    cart.refresh_from_db()
    assert (cart.status, cart.checkout_order_number) == (CartStatus.OPEN, NUMBER)


def test_end_checkout_opens_the_cart_for_changes_again():
    cart = in_checkout()
    variant = make_variant(on_hand=5)
    with transaction.atomic():
        locked = lock_cart_in_checkout(cart_id=cart.pk, order_number=NUMBER)
        end_checkout(cart=locked, order_number=NUMBER)
    cart.refresh_from_db()
    assert (cart.status, cart.in_checkout, cart.checkout_started_at) == (
        CartStatus.OPEN,
        False,
        None,
    )
    services.add_item(cart=cart, sku=variant.sku, quantity=1)
    assert CartLine.objects.get(cart=cart).quantity == 1


def test_end_checkout_of_another_order_number_changes_nothing():
    cart = in_checkout()
    with transaction.atomic():
        end_checkout(cart=cart, order_number="SO-OTHER")
    assert cart.checkout_order_number == NUMBER
    cart.refresh_from_db()
    assert cart.checkout_order_number == NUMBER


def test_complete_checkout_marks_the_cart_ordered():
    cart = in_checkout()
    with transaction.atomic():
        complete_checkout(cart=cart)
    cart.refresh_from_db()
    assert (cart.status, cart.checkout_order_number, cart.checkout_started_at) == (
        CartStatus.ORDERED,
        "",
        None,
    )
    with pytest.raises(CartNotFound), transaction.atomic():
        services.lock_cart(cart=cart)


def test_lock_cart_in_checkout_finds_only_an_open_cart_in_that_checkout():
    cart = in_checkout()
    ordered = in_checkout(number="SO-TEST-0002", status=CartStatus.ORDERED)
    with transaction.atomic():
        assert lock_cart_in_checkout(cart_id=cart.pk, order_number=NUMBER) == cart
        assert lock_cart_in_checkout(cart_id=cart.pk, order_number="SO-OTHER") is None
        assert lock_cart_in_checkout(cart_id=ordered.pk, order_number="SO-TEST-0002") is None


def test_a_checkout_is_stale_after_the_timeout_or_without_a_start_time():
    now = timezone.now()
    fresh, old = in_checkout(), stale()
    undated = CartFactory(checkout_order_number="SO-TEST-0003")
    assert [checkout_is_stale(cart=c, now=now) for c in (fresh, old, undated, CartFactory())] == [
        False,
        True,
        True,
        False,
    ]
    assert checkout_is_stale(cart=fresh, now=now + CHECKOUT_TIMEOUT * 2)
    assert set(stale_checkouts(started_before=now - CHECKOUT_TIMEOUT)) == {old, undated}


def test_lock_stale_checkout_skips_a_cart_whose_checkout_is_fresh():
    fresh, old = in_checkout(), stale(number="SO-TEST-0002")
    cutoff = timezone.now() - CHECKOUT_TIMEOUT
    with transaction.atomic():
        assert lock_stale_checkout(cart_id=old.pk, started_before=cutoff) == old
        assert lock_stale_checkout(cart_id=fresh.pk, started_before=cutoff) is None


def test_refresh_line_price_takes_the_variants_current_price():
    variant = make_variant(price=Decimal("12.00"))
    line = CartLineFactory(variant=variant, unit_price=Decimal("10.00"))
    with transaction.atomic():
        services.lock_cart(cart=line.cart)
        assert services.refresh_line_price(line=line).unit_price == Decimal("12.00")
    line.refresh_from_db()
    assert line.unit_price == Decimal("12.00")


def test_touching_a_cart_in_a_stale_checkout_runs_the_registered_recovery_first(recovery):
    cart = stale()
    variant = make_variant(on_hand=5)
    services.add_item(cart=cart, sku=variant.sku, quantity=2)
    [call] = recovery.calls
    assert (call["cart"].pk, call["number"], call["in_transaction"]) == (cart.pk, NUMBER, True)
    cart.refresh_from_db()
    assert not cart.in_checkout
    assert CartLine.objects.get(cart=cart).quantity == 2


def test_a_live_checkout_is_not_handed_to_the_recovery(recovery):
    cart = in_checkout()
    with pytest.raises(CheckoutInProgress):
        services.add_item(cart=cart, sku=make_variant().sku, quantity=1)
    assert recovery.calls == []


def test_a_cart_stays_in_checkout_when_the_recovery_cannot_finish(recovery):
    recovery.behaviour["then"] = "fail"
    cart = stale()
    with pytest.raises(CheckoutInProgress):
        services.add_item(cart=cart, sku=make_variant().sku, quantity=1)
    assert len(recovery.calls) == 1
    cart.refresh_from_db()
    assert cart.checkout_order_number == NUMBER


def test_a_cart_whose_stale_checkout_had_placed_its_order_is_not_found(recovery):
    recovery.behaviour["then"] = "complete"
    cart = stale()
    with transaction.atomic():
        with pytest.raises(CartNotFound):
            services.lock_cart(cart=cart)
        cart.refresh_from_db()
        assert cart.status == CartStatus.ORDERED
    assert len(recovery.calls) == 1


def test_without_a_registered_recovery_a_stale_checkout_keeps_the_cart(recovery):
    register_stale_checkout_recovery(recovery=None)
    cart = stale()
    with pytest.raises(CheckoutInProgress):
        services.add_item(cart=cart, sku=make_variant().sku, quantity=1)
    cart.refresh_from_db()
    assert cart.checkout_order_number == NUMBER
