from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.tests.factories import AddressFactory, UserFactory
from cart.errors import CartEmpty, CheckoutInProgress
from cart.models import Cart, CartLine, CartStatus
from cart.services import get_cart_for, reserve_cart
from catalog.models import ProductStatus
from catalog.tests.factories import make_variant
from inventory.errors import InsufficientStock
from inventory.models import StockHold, StockItem
from orders.checkout import services as checkout
from orders.checkout.services import NUMBER_ALPHABET, compute_totals, place_order
from orders.errors import (
    CheckoutFailed,
    PaymentDeclinedError,
    PaymentUnavailableError,
    PriceChanged,
)
from orders.models import Invoice, Order, OrderStatus, Payment, PaymentStatus
from orders.payments.gateways import MockGateway
from orders.signals import order_placed
from orders.tests.factories import ADDRESS, cart_with, fast_gateway, place  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_gateway")]


def stock(variant) -> tuple[int, int]:
    item = StockItem.objects.get(variant=variant)
    return item.on_hand, item.allocated


def test_place_order_snapshots_lines_totals_and_allocates(django_capture_on_commit_callbacks):
    user = UserFactory()
    a = make_variant(on_hand=5, price=Decimal("12.00"), name="Red")
    b = make_variant(on_hand=5, price=Decimal("3.50"))
    cart = cart_with(user, (a, 2), (b, 1))
    received = []
    order_placed.connect(lambda **kw: received.append(kw["order_id"]), weak=False, dispatch_uid="t")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            order = place_order(
                user=user, cart=cart, shipping_address=ADDRESS, payment_token="tok_success"
            )
    finally:
        order_placed.disconnect(dispatch_uid="t")
    assert received == [order.pk]
    assert order.status == OrderStatus.RECEIVED
    assert order.payment_status == PaymentStatus.PAID
    assert order.email == user.email
    assert (order.subtotal, order.shipping_total, order.total) == (
        Decimal("27.50"),
        Decimal("5.00"),
        Decimal("32.50"),
    )
    line = order.lines.get(sku=a.sku)
    assert (line.product_name, line.variant_name, line.unit_price, line.quantity) == (
        a.product.name,
        "Red",
        Decimal("12.00"),
        2,
    )
    assert order.shipping_address["country"] == "GB"
    assert stock(a) == (5, 2)
    cart.refresh_from_db()
    assert cart.status == CartStatus.ORDERED
    assert get_cart_for(user=user) is None
    charge = order.payments.get()
    assert (charge.kind, charge.result, charge.amount) == ("charge", "succeeded", order.total)
    assert order.events.get().type == "placed"


def test_order_numbers_are_human_friendly_and_unique():
    numbers = {place().number for _ in range(3)}
    assert len(numbers) == 3
    for number in numbers:
        prefix, first, second = number.split("-")
        assert prefix == "SO"
        assert len(first) == len(second) == 4
        assert set(first + second) <= set(NUMBER_ALPHABET)


def test_order_number_retries_on_collision(monkeypatch):
    taken = place().number
    picks = iter(taken.replace("-", "")[2:] + "23456789")
    monkeypatch.setattr(checkout.secrets, "choice", lambda alphabet: next(picks))
    assert checkout.new_order_number() == "SO-2345-6789"


@pytest.mark.parametrize(
    ("subtotal", "rate", "expected"),
    [
        ("49.99", "0", ("5.00", "0.00", "54.99")),
        ("50.00", "0", ("0.00", "0.00", "50.00")),
        ("10.00", "0.2", ("5.00", "3.00", "18.00")),
        ("33.33", "0.0825", ("5.00", "3.16", "41.49")),
    ],
)
def test_totals_use_flat_rate_free_threshold_and_tax(settings, subtotal, rate, expected):
    settings.SHOP_TAX_RATE = Decimal(rate)
    assert compute_totals(subtotal=Decimal(subtotal)) == tuple(Decimal(v) for v in expected)


def test_invoice_is_issued_with_sequential_numbers(settings):
    settings.SHOP_TAX_RATE = Decimal("0.10")
    first, second = place(), place()
    inv1, inv2 = first.invoices.get(), second.invoices.get()
    assert inv2.sequence == inv1.sequence + 1
    assert inv1.number == f"INV-{inv1.sequence:06d}"
    assert inv1.total == first.total
    assert inv1.tax_rate == Decimal("0.1000")
    assert first.tax_total == Decimal("4.50")  # 10% of 40.00 + 5.00 shipping
    assert inv1.lines[0]["line_total"] == "40.00"


def test_address_book_entry_can_be_used():
    user = UserFactory()
    address = AddressFactory(user=user, country="FR")
    cart = cart_with(user, (make_variant(), 1))
    order = place_order(user=user, cart=cart, address_id=address.pk, payment_token="tok_success")
    assert order.shipping_address["line1"] == address.line1


def test_another_users_address_is_rejected():
    user = UserFactory()
    cart = cart_with(user, (make_variant(), 1))
    with pytest.raises(ValidationError) as exc:
        place_order(user=user, cart=cart, address_id=AddressFactory().pk, payment_token="tok_x")
    assert "address_id" in exc.value.message_dict


@pytest.mark.parametrize(
    ("address", "field"),
    [
        ({**ADDRESS, "postal_code": ""}, "shipping_address.postal_code"),
        ({**ADDRESS, "country": "Germany"}, "shipping_address.country"),
        ({**ADDRESS, "country": "ZZ"}, "shipping_address.country"),
        ({**ADDRESS, "city": 12}, "shipping_address.city"),
        ({**ADDRESS, "line1": "x" * 201}, "shipping_address.line1"),
    ],
)
def test_bad_addresses_are_rejected_with_dotted_paths(address, field):
    user = UserFactory()
    cart = cart_with(user, (make_variant(), 1))
    with pytest.raises(ValidationError) as exc:
        place_order(user=user, cart=cart, shipping_address=address, payment_token="tok_x")
    assert field in exc.value.message_dict


def test_empty_cart_is_rejected():
    user = UserFactory()
    with pytest.raises(CartEmpty):
        place_order(user=user, cart=None, shipping_address=ADDRESS, payment_token="tok_success")
    cart = get_cart_for(user=user, create=True)
    with pytest.raises(CartEmpty):
        place_order(user=user, cart=cart, shipping_address=ADDRESS, payment_token="tok_success")


def test_insufficient_stock_lists_lines_and_changes_nothing():
    user = UserFactory()
    scarce = make_variant(on_hand=3)
    plenty = make_variant(on_hand=9)
    cart = cart_with(user, (scarce, 3), (plenty, 1))
    StockItem.objects.filter(variant=scarce).update(on_hand=1)
    with pytest.raises(InsufficientStock) as exc:
        place_order(user=user, cart=cart, shipping_address=ADDRESS, payment_token="tok_success")
    assert exc.value.lines == [{"sku": scarce.sku, "requested": 3, "available": 1}]
    assert stock(plenty) == (9, 0)
    assert CartLine.objects.filter(cart=cart).count() == 2
    assert not Order.objects.exists()
    assert not Payment.objects.exists()


def test_archived_product_in_cart_cannot_be_ordered():
    user = UserFactory()
    variant = make_variant()
    cart = cart_with(user, (variant, 1))
    variant.product.status = ProductStatus.ARCHIVED
    variant.product.save()
    with pytest.raises(InsufficientStock):
        place_order(user=user, cart=cart, shipping_address=ADDRESS, payment_token="tok_success")


def test_price_change_refreshes_snapshots_then_retry_succeeds():
    user = UserFactory()
    variant = make_variant(price=Decimal("10.00"))
    cart = cart_with(user, (variant, 1))
    variant.price = Decimal("11.00")
    variant.save()
    with pytest.raises(PriceChanged):
        place_order(user=user, cart=cart, shipping_address=ADDRESS, payment_token="tok_success")
    assert CartLine.objects.get(cart=cart).unit_price == Decimal("11.00")
    assert stock(variant) == (10, 0)
    assert not Payment.objects.exists()
    order = place_order(user=user, cart=cart, shipping_address=ADDRESS, payment_token="tok_ok")
    assert order.subtotal == Decimal("11.00")


def test_declined_payment_records_the_attempt_and_restores_stock_and_holds():
    user = UserFactory()
    variant = make_variant(on_hand=4)
    cart = cart_with(user, (variant, 2))
    expires_at = reserve_cart(cart=cart, client_ip="192.0.2.1")
    with pytest.raises(PaymentDeclinedError) as exc:
        place_order(user=user, cart=cart, shipping_address=ADDRESS, payment_token="tok_declined")
    assert exc.value.status_code == 402
    assert stock(variant) == (4, 0)
    hold = StockHold.objects.get(cart_token=cart.token)
    assert hold.quantity == 2
    assert abs((hold.expires_at - expires_at).total_seconds()) <= 2
    cart.refresh_from_db()
    assert (cart.status, cart.checkout_order_number) == (CartStatus.OPEN, "")
    attempt = Payment.objects.get()
    assert (attempt.result, attempt.order) == ("declined", None)
    assert not Order.objects.exists()


def test_transient_failure_is_retried_once_and_charged_once():
    order = place(token="tok_transient")
    attempts = list(order.payments.values_list("attempt", "result"))
    assert attempts == [(1, "failed"), (2, "succeeded")]
    assert MockGateway.charge_count() == 1


def test_unavailable_gateway_gives_up_after_three_attempts(monkeypatch):
    sleeps = []
    monkeypatch.setattr("orders.payments.services.time.sleep", sleeps.append)
    user = UserFactory()
    variant = make_variant(on_hand=2)
    cart = cart_with(user, (variant, 1))
    with pytest.raises(PaymentUnavailableError) as exc:
        place_order(user=user, cart=cart, shipping_address=ADDRESS, payment_token="tok_unavailable")
    assert exc.value.status_code == 503
    assert list(Payment.objects.values_list("attempt", "result")) == [
        (1, "failed"),
        (2, "failed"),
        (3, "failed"),
    ]
    assert sleeps == []  # base delay is 0 in tests
    assert stock(variant) == (2, 0)
    assert CartLine.objects.filter(cart=cart).count() == 1


def test_backoff_doubles_between_attempts(monkeypatch, settings):
    settings.SHOP_PAYMENT_RETRY_BASE_DELAY = 0.25
    sleeps = []
    monkeypatch.setattr("orders.payments.services.time.sleep", sleeps.append)
    with pytest.raises(PaymentUnavailableError):
        place(token="tok_unavailable")
    assert sleeps == [0.25, 0.5]


def test_failure_after_the_charge_refunds_it(monkeypatch):
    user = UserFactory()
    variant = make_variant(on_hand=3, price=Decimal("20.00"))
    cart = cart_with(user, (variant, 2))

    def broken(**kwargs):
        raise RuntimeError("invoice printer on fire")

    monkeypatch.setattr(checkout, "issue_invoice", broken)
    with pytest.raises(CheckoutFailed):
        place_order(user=user, cart=cart, shipping_address=ADDRESS, payment_token="tok_success")
    payments = list(Payment.objects.order_by("id").values_list("kind", "result", "amount"))
    assert payments == [
        ("charge", "succeeded", Decimal("45.00")),
        ("refund", "succeeded", Decimal("45.00")),
    ]
    assert not Order.objects.exists()
    assert not Invoice.objects.exists()
    assert stock(variant) == (3, 0)
    cart.refresh_from_db()
    assert (cart.status, cart.checkout_order_number) == (CartStatus.OPEN, "")
    assert CartLine.objects.get(cart=cart).quantity == 2


def test_a_cart_already_in_checkout_cannot_be_placed_twice():
    user = UserFactory()
    cart = cart_with(user, (make_variant(), 1))
    Cart.objects.filter(pk=cart.pk).update(
        checkout_order_number="SO-XXXX-XXXX", checkout_started_at=timezone.now()
    )
    with pytest.raises(CheckoutInProgress):
        place_order(user=user, cart=cart, shipping_address=ADDRESS, payment_token="tok_success")


def test_reserved_cart_converts_its_hold_into_the_allocation():
    user = UserFactory()
    variant = make_variant(on_hand=2)
    cart = cart_with(user, (variant, 2))
    reserve_cart(cart=cart, client_ip="192.0.2.1")
    place_order(user=user, cart=cart, shipping_address=ADDRESS, payment_token="tok_success")
    assert stock(variant) == (2, 2)
    assert not StockHold.objects.exists()
