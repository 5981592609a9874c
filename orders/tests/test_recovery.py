"""Recovery of checkouts that died between prepare, charge and finalize."""

import threading
from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from accounts.tests.factories import UserFactory
from cart.checkout import CHECKOUT_TIMEOUT, registered_stale_checkout_recovery
from cart.errors import CheckoutInProgress
from cart.models import Cart, CartLine, CartStatus
from cart.services import add_item, set_quantity
from catalog.tests.factories import make_variant
from inventory.models import StockItem
from orders.checkout import services as checkout
from orders.checkout.recovery import recover_stale_checkout, recover_stale_checkouts
from orders.checkout.services import place_order
from orders.errors import CheckoutFailed, PaymentDeclinedError
from orders.models import Order, Payment, PaymentKind, PaymentResult
from orders.payments.gateways import MockGateway, TransientPaymentError
from orders.payments.services import charge_with_retries
from orders.tests.factories import ADDRESS, cart_with, fast_gateway, place  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_gateway")]


class RefundDownGateway(MockGateway):
    """Charges like the mock; every refund fails transiently."""

    def refund(self, **kwargs):
        raise TransientPaymentError("refunds are down")


def stock(variant) -> tuple[int, int]:
    item = StockItem.objects.get(variant=variant)
    return item.on_hand, item.allocated


def refund_rows(number: str):
    return Payment.objects.filter(reference=f"{number}-void", kind=PaymentKind.REFUND)


def dead_checkout(user=None, *items, charge: bool = False, minutes: int = 10):
    """Prepare a checkout (and charge it) as ``place_order`` would, then "crash"; return
    ``(cart, plan)`` with the checkout started ``minutes`` ago."""
    user = user or UserFactory()
    cart = cart_with(user, *items)
    plan = checkout._prepare(user=user, cart=cart, number=checkout.new_order_number())
    if charge:
        charge_with_retries(
            amount=plan.total,
            currency=settings.SHOP_CURRENCY,
            token="tok_success",
            reference=plan.number,
        )
    Cart.objects.filter(pk=cart.pk).update(
        checkout_started_at=timezone.now() - timedelta(minutes=minutes)
    )
    return cart, plan


def assert_out_of_checkout(cart, *lines):
    cart.refresh_from_db()
    assert (cart.status, cart.checkout_order_number, cart.checkout_started_at) == (
        CartStatus.OPEN,
        "",
        None,
    )
    assert sorted(CartLine.objects.filter(cart=cart).values_list("variant_id", "quantity")) == (
        sorted((variant.pk, quantity) for variant, quantity in lines)
    )


def test_a_crash_after_prepare_is_deallocated_and_the_checkout_ended():
    a, b = make_variant(on_hand=5), make_variant(on_hand=4)
    cart, plan = dead_checkout(None, (a, 2), (b, 3))
    assert (stock(a), stock(b)) == ((5, 2), (4, 3))
    assert recover_stale_checkouts() == [plan.number]
    assert (stock(a), stock(b)) == ((5, 0), (4, 0))
    assert_out_of_checkout(cart, (a, 2), (b, 3))
    assert not Payment.objects.exists()
    assert not Order.objects.exists()


def test_a_crash_after_the_charge_refunds_it_once_and_deallocates_exactly():
    variant = make_variant(on_hand=10, price=Decimal("20.00"))
    other_order = place(items=[(variant, 3)])
    cart, plan = dead_checkout(None, (variant, 2), charge=True)
    assert stock(variant) == (10, 5)
    assert recover_stale_checkouts() == [plan.number]
    assert stock(variant) == (10, 3)  # the other order keeps its allocation
    refund = refund_rows(plan.number).get()
    charge = Payment.objects.get(reference=plan.number)
    assert (refund.result, refund.amount, refund.order) == ("succeeded", plan.total, None)
    assert MockGateway._refunds[f"{plan.number}-void"].charge_id == charge.gateway_transaction_id
    assert len(MockGateway._refunds) == 1
    assert_out_of_checkout(cart, (variant, 2))
    assert not Order.objects.exclude(pk=other_order.pk).exists()


def test_running_the_recovery_twice_is_harmless():
    variant = make_variant(on_hand=10)
    cart, plan = dead_checkout(None, (variant, 2), charge=True)
    assert recover_stale_checkouts() == [plan.number]
    payments = Payment.objects.count()
    assert recover_stale_checkouts() == []
    assert stock(variant) == (10, 0)
    assert Payment.objects.count() == payments
    assert len(MockGateway._refunds) == 1
    assert_out_of_checkout(cart, (variant, 2))


def test_a_refund_already_recorded_is_not_asked_for_again():
    variant = make_variant(on_hand=10)
    _, plan = dead_checkout(None, (variant, 1), charge=True)
    checkout.refund_with_retries(
        amount=plan.total,
        currency=settings.SHOP_CURRENCY,
        charge_id=Payment.objects.get(reference=plan.number).gateway_transaction_id,
        reference=f"{plan.number}-void",
    )  # compensation refunded, then the process died before abort
    assert recover_stale_checkouts() == [plan.number]
    assert refund_rows(plan.number).count() == 1
    assert stock(variant) == (10, 0)


def test_a_fresh_checkout_is_left_alone_until_it_is_stale():
    variant = make_variant(on_hand=5)
    cart, plan = dead_checkout(None, (variant, 2), charge=True, minutes=0)
    assert recover_stale_checkouts() == []
    cart.refresh_from_db()
    assert cart.checkout_order_number == plan.number
    assert stock(variant) == (5, 2)
    assert not refund_rows(plan.number).exists()
    later = timezone.now() + CHECKOUT_TIMEOUT + timedelta(seconds=1)
    assert recover_stale_checkouts(now=later) == [plan.number]
    assert stock(variant) == (5, 0)


def test_older_than_overrides_the_timeout():
    variant = make_variant(on_hand=5)
    _, plan = dead_checkout(None, (variant, 1), minutes=2)
    assert recover_stale_checkouts() == []
    assert recover_stale_checkouts(older_than=timedelta(minutes=1)) == [plan.number]
    assert stock(variant) == (5, 0)


def test_a_checkout_whose_order_exists_only_has_its_cart_closed():
    variant = make_variant(on_hand=5)
    order = place(items=[(variant, 2)])
    cart = Cart.objects.get(user=order.user)
    Cart.objects.filter(pk=cart.pk).update(  # finalize committed but the cart update was lost
        status=CartStatus.OPEN,
        checkout_order_number=order.number,
        checkout_started_at=timezone.now() - timedelta(hours=1),
    )
    assert recover_stale_checkouts() == [order.number]
    cart.refresh_from_db()
    assert (cart.status, cart.checkout_order_number, cart.checkout_started_at) == (
        CartStatus.ORDERED,
        "",
        None,
    )
    assert stock(variant) == (5, 2)
    assert not refund_rows(order.number).exists()
    assert recover_stale_checkouts() == []


def test_orders_hands_its_recovery_to_the_cart_at_startup():
    assert registered_stale_checkout_recovery() is recover_stale_checkout


def test_touching_a_cart_whose_checkout_died_recovers_it_first():
    variant = make_variant(on_hand=5)
    cart, plan = dead_checkout(None, (variant, 2), charge=True)
    add_item(cart=cart, sku=variant.sku, quantity=1)
    assert stock(variant) == (5, 0)
    assert refund_rows(plan.number).get().result == PaymentResult.SUCCEEDED
    assert_out_of_checkout(cart, (variant, 3))
    assert recover_stale_checkouts() == []


def test_a_cart_whose_checkout_died_can_be_checked_out_again():
    user = UserFactory()
    variant = make_variant(on_hand=3)
    cart, plan = dead_checkout(user, (variant, 3))
    order = place_order(user=user, cart=cart, shipping_address=ADDRESS, payment_token="tok_ok")
    assert order.number != plan.number
    assert stock(variant) == (3, 3)  # the new order's allocation only
    assert order.lines.get().quantity == 3


def test_a_cart_stays_in_checkout_while_its_refund_cannot_be_made(settings):
    variant = make_variant(on_hand=5)
    cart, plan = dead_checkout(None, (variant, 2), charge=True)
    settings.SHOP_PAYMENT_GATEWAY = f"{__name__}.RefundDownGateway"
    line = CartLine.objects.get(cart=cart)
    with pytest.raises(CheckoutInProgress):
        set_quantity(cart=cart, line_id=line.pk, quantity=1)
    assert recover_stale_checkouts() == []
    assert refund_rows(plan.number).filter(result=PaymentResult.FAILED).count() == 3
    cart.refresh_from_db()
    assert cart.checkout_order_number == plan.number
    assert stock(variant) == (5, 2)
    settings.SHOP_PAYMENT_GATEWAY = "orders.payments.gateways.MockGateway"
    assert recover_stale_checkouts() == [plan.number]
    assert refund_rows(plan.number).filter(result=PaymentResult.SUCCEEDED).count() == 1
    assert stock(variant) == (5, 0)
    assert_out_of_checkout(cart, (variant, 2))


def slow_charge(monkeypatch, *, then):
    """Make the checkout's charge take so long that recovery runs meanwhile."""

    def charge(**kwargs):
        recover_stale_checkouts(now=timezone.now() + CHECKOUT_TIMEOUT * 2)
        return then(**kwargs)

    monkeypatch.setattr(checkout, "charge_with_retries", charge)


def test_a_slow_checkout_recovered_meanwhile_refunds_instead_of_placing(monkeypatch):
    user = UserFactory()
    variant = make_variant(on_hand=10)
    place(items=[(variant, 4)])
    slow_charge(monkeypatch, then=charge_with_retries)
    cart = cart_with(user, (variant, 2))
    with pytest.raises(CheckoutFailed):
        place_order(user=user, cart=cart, shipping_address=ADDRESS, payment_token="tok_success")
    assert stock(variant) == (10, 4)  # given back once, not twice
    assert Order.objects.count() == 1
    number = Payment.objects.filter(kind=PaymentKind.CHARGE).last().reference
    assert refund_rows(number).filter(result=PaymentResult.SUCCEEDED).exists()
    assert len(MockGateway._refunds) == 1
    assert_out_of_checkout(cart, (variant, 2))


def test_a_slow_declined_checkout_recovered_meanwhile_does_not_deallocate_twice(monkeypatch):
    user = UserFactory()
    variant = make_variant(on_hand=10)
    place(items=[(variant, 4)])
    slow_charge(monkeypatch, then=charge_with_retries)
    cart = cart_with(user, (variant, 2))
    with pytest.raises(PaymentDeclinedError):
        place_order(user=user, cart=cart, shipping_address=ADDRESS, payment_token="tok_declined")
    assert stock(variant) == (10, 4)
    assert_out_of_checkout(cart, (variant, 2))


def test_recover_checkouts_command_prints_what_it_recovered():
    variant = make_variant(on_hand=5)
    _, plan = dead_checkout(None, (variant, 1))
    out = StringIO()
    call_command("recover_checkouts", stdout=out)
    assert out.getvalue().splitlines() == [
        f"Recovered checkout {plan.number}.",
        "Recovered 1 checkout(s).",
    ]
    out = StringIO()
    call_command("recover_checkouts", stdout=out)
    assert out.getvalue().strip() == "Recovered 0 checkout(s)."


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_cart_locked_by_someone_else_is_skipped_not_waited_for():
    variant = make_variant(on_hand=5)
    cart, plan = dead_checkout(None, (variant, 2))
    locked, release = threading.Event(), threading.Event()

    def hold_lock():
        try:
            with transaction.atomic():
                Cart.objects.select_for_update().get(pk=cart.pk)
                locked.set()
                release.wait(10)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_lock)
    holder.start()
    try:
        assert locked.wait(10)
        assert recover_stale_checkouts() == []
        assert stock(variant) == (5, 2)
    finally:
        release.set()
        holder.join(10)
    assert recover_stale_checkouts() == [plan.number]
    assert stock(variant) == (5, 0)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_recovery_runs_recover_each_checkout_once():
    variant = make_variant(on_hand=20)
    place(items=[(variant, 5)])
    numbers = {dead_checkout(None, (variant, 3), charge=True)[1].number for _ in range(3)}
    results: list[list[str]] = []
    barrier = threading.Barrier(2)

    def run():
        try:
            barrier.wait(10)
            results.append(recover_stale_checkouts())
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    recovered = [number for result in results for number in result]
    assert sorted(recovered) == sorted(numbers)
    assert stock(variant) == (20, 5)
    assert len(MockGateway._refunds) == 3
    for number in numbers:
        assert refund_rows(number).filter(result=PaymentResult.SUCCEEDED).count() == 1


# ------------------------------------------------- one checkout whose request is known dead


def test_a_young_checkout_whose_request_died_is_recovered_at_once():
    from orders.checkout.recovery import recover_checkout

    variant = make_variant(on_hand=10)
    cart, plan = dead_checkout(None, (variant, 2), charge=True, minutes=0)
    assert recover_stale_checkouts() == []  # not stale yet
    assert recover_checkout(order_number=plan.number) is True
    assert stock(variant) == (10, 0)
    assert refund_rows(plan.number).get().result == "succeeded"
    assert_out_of_checkout(cart, (variant, 2))


def test_recovering_a_checkout_that_is_not_in_flight_does_nothing():
    from orders.checkout.recovery import recover_checkout

    variant = make_variant(on_hand=10)
    order = place(items=[(variant, 1)])
    assert recover_checkout(order_number="SO-NONE-0000") is True
    assert recover_checkout(order_number=order.number) is True
    assert stock(variant) == (10, 1)
    assert not Payment.objects.filter(kind=PaymentKind.REFUND).exists()


def test_the_recovery_command_takes_a_younger_age():
    variant = make_variant(on_hand=10)
    cart, plan = dead_checkout(None, (variant, 2), minutes=1)
    call_command("recover_checkouts", stdout=StringIO())
    assert stock(variant) == (10, 2)
    out = StringIO()
    call_command("recover_checkouts", "--older-than", "0", stdout=out)
    assert f"Recovered checkout {plan.number}." in out.getvalue()
    assert stock(variant) == (10, 0)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_dead_requests_checkout_still_locked_is_reported_not_waited_for():
    from orders.checkout.recovery import recover_checkout

    variant = make_variant(on_hand=5)
    cart, plan = dead_checkout(None, (variant, 2), minutes=0)
    locked, release = threading.Event(), threading.Event()

    def hold_lock():
        try:
            with transaction.atomic():
                Cart.objects.select_for_update().get(pk=cart.pk)
                locked.set()
                release.wait(10)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_lock)
    holder.start()
    try:
        assert locked.wait(10)
        assert recover_checkout(order_number=plan.number) is False
        assert stock(variant) == (5, 2)
    finally:
        release.set()
        holder.join(10)
    assert recover_checkout(order_number=plan.number) is True
    assert stock(variant) == (5, 0)
