"""Vouchers at checkout: re-validated, counted in the checkout transaction, given back by a
cancellation or a full refund; discounts spread over lines so partial returns refund what
was paid."""

from decimal import Decimal

import pytest

from accounts.tests.factories import StaffUserFactory, UserFactory
from cart.errors import VoucherUsedUp
from cart.models import Cart, Voucher, VoucherKind, VoucherUse
from cart.pricing.services import apply_voucher
from cart.tests.factories import VoucherFactory, default_shipping_method
from catalog.tests.factories import make_variant
from orders.checkout.services import place_guest_order, place_order
from orders.errors import PaymentDeclinedError
from orders.lifecycle import cancel_order, transition_order
from orders.models import InvoiceKind, Order, OrderStatus
from orders.returns.services import receive_return, request_return
from orders.tests.factories import ADDRESS, PATH, cart_with, fast_gateway  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_gateway")]


@pytest.fixture(autouse=True)
def flat_rate():
    default_shipping_method()


def voucher_cart(user, code: str, *items):
    cart = cart_with(user, *items)
    apply_voucher(cart=cart, code=code)
    return cart


def buy(user, cart, **kwargs) -> Order:
    return place_order(
        user=user, cart=cart, shipping_address=dict(ADDRESS), payment_token="tok_success", **kwargs
    )


def times_used(code: str) -> int:
    return Voucher.objects.get(code=code).times_used


def test_the_order_carries_the_discount_per_line_and_counts_the_use():
    VoucherFactory(code="FIVER", kind=VoucherKind.FIXED, value=Decimal("5.00"))
    user = UserFactory()
    a = make_variant(price=Decimal("30.00"), on_hand=5)
    b = make_variant(price=Decimal("10.00"), on_hand=5)
    order = buy(user, voucher_cart(user, "fiver", (a, 1), (b, 1)))
    assert (order.subtotal, order.discount_total, order.shipping_total, order.total) == (
        Decimal("40.00"),
        Decimal("5.00"),
        Decimal("5.00"),
        Decimal("40.00"),
    )
    assert order.voucher_code == "FIVER"
    assert sorted(order.lines.values_list("discount", flat=True)) == [
        Decimal("1.25"),
        Decimal("3.75"),
    ]
    assert times_used("FIVER") == 1
    use = VoucherUse.objects.get()
    assert (use.order_number, use.user, use.email) == (order.number, user, user.email)
    invoice = order.invoices.get(kind=InvoiceKind.INVOICE)
    assert invoice.discount_total == Decimal("5.00")
    assert sorted(line["discount"] for line in invoice.lines) == ["1.25", "3.75"]


def test_a_free_shipping_voucher_takes_the_shipping_off():
    VoucherFactory(code="SHIPFREE", kind=VoucherKind.FREE_SHIPPING, value=0)
    user = UserFactory()
    order = buy(user, voucher_cart(user, "SHIPFREE", (make_variant(price=Decimal("12.00")), 1)))
    assert (order.shipping_total, order.discount_total, order.total) == (
        Decimal("0.00"),
        Decimal("0.00"),
        Decimal("12.00"),
    )


def test_a_voucher_used_up_meanwhile_fails_the_checkout_and_leaves_the_cart():
    VoucherFactory(code="ONCE", usage_limit=1)
    first, second = UserFactory(), UserFactory()
    variant = make_variant(price=Decimal("20.00"), on_hand=5)
    first_cart = voucher_cart(first, "ONCE", (variant, 1))
    second_cart = voucher_cart(second, "ONCE", (variant, 1))
    buy(first, first_cart)
    with pytest.raises(VoucherUsedUp):
        buy(second, second_cart)
    second_cart.refresh_from_db()
    assert second_cart.voucher is None  # told once; the next attempt pays the full price
    order = buy(second, second_cart)
    assert (order.discount_total, order.voucher_code) == (Decimal("0.00"), "")
    assert times_used("ONCE") == 1


def test_a_declined_payment_gives_the_use_back():
    VoucherFactory(code="ONCE", usage_limit=1)
    user = UserFactory()
    cart = voucher_cart(user, "ONCE", (make_variant(price=Decimal("20.00")), 1))
    with pytest.raises(PaymentDeclinedError):
        place_order(
            user=user, cart=cart, shipping_address=dict(ADDRESS), payment_token="tok_declined"
        )
    assert times_used("ONCE") == 0
    assert buy(user, cart).voucher_code == "ONCE"


def test_guests_are_limited_per_email():
    VoucherFactory(code="WELCOME", per_customer_limit=1)
    variant = make_variant(price=Decimal("20.00"), on_hand=9)

    def guest_checkout(email: str):
        cart = Cart.objects.create()
        cart.lines.create(variant=variant, quantity=1, unit_price=variant.price)
        apply_voucher(cart=cart, code="WELCOME")
        return place_guest_order(
            email=email, cart=cart, shipping_address=dict(ADDRESS), payment_token="tok_success"
        )

    assert guest_checkout("ada@example.com").order.voucher_code == "WELCOME"
    with pytest.raises(VoucherUsedUp):
        guest_checkout("ADA@example.com")
    assert guest_checkout("grace@example.com").order.voucher_code == "WELCOME"


def test_cancelling_gives_the_use_back():
    VoucherFactory(code="ONCE", usage_limit=1)
    user = UserFactory()
    order = buy(user, voucher_cart(user, "ONCE", (make_variant(price=Decimal("20.00")), 1)))
    cancel_order(order=order, user=user)
    assert times_used("ONCE") == 0
    assert VoucherUse.objects.get().released_at is not None


def test_a_partial_return_refunds_what_was_paid_and_the_last_one_gives_the_use_back():
    VoucherFactory(code="THIRD", value=Decimal("33"))  # 33 %
    user = UserFactory()
    variant = make_variant(price=Decimal("10.00"), on_hand=9, sku="RET-V")
    order = buy(user, voucher_cart(user, "THIRD", (variant, 3)))
    assert order.lines.get().discount == Decimal("9.90")
    staff = StaffUserFactory()
    for step in PATH[OrderStatus.DELIVERED]:
        order = transition_order(order=order, to_status=step, user=staff)
    amounts = []
    for _ in range(3):
        rr = request_return(order=order, user=user, lines=[{"sku": "RET-V", "quantity": 1}])
        amounts.append(receive_return(return_request=rr, user=staff).refund_amount)
    # 9.90 of discount comes back in parts that add up: 3.30 off each 10.00 unit.
    assert amounts[:2] == [Decimal("6.70"), Decimal("6.70")]
    order.refresh_from_db()
    assert sum(amounts) == order.total  # the last return also refunds the shipping
    assert order.refunded_total == order.total
    assert times_used("THIRD") == 0  # fully refunded: the use is given back
    notes = order.invoices.filter(kind=InvoiceKind.CREDIT_NOTE).order_by("sequence")
    assert [n.lines[0]["discount"] for n in notes] == ["3.30", "3.30", "3.30"]


def test_a_promotion_applies_at_checkout_without_a_code():
    VoucherFactory(code="AUTUMN", automatic=True, value=Decimal("10"))
    user = UserFactory()
    order = buy(user, cart_with(user, (make_variant(price=Decimal("20.00")), 1)))
    assert (order.voucher_code, order.discount_total, order.total) == (
        "AUTUMN",
        Decimal("2.00"),
        Decimal("23.00"),
    )
    assert times_used("AUTUMN") == 1


def test_the_api_refuses_a_used_up_voucher_with_its_code(api_client):
    VoucherFactory(code="ONCE", usage_limit=1)
    first, second = UserFactory(), UserFactory()
    variant = make_variant(price=Decimal("20.00"), on_hand=5)
    first_cart = voucher_cart(first, "ONCE", (variant, 1))
    voucher_cart(second, "ONCE", (variant, 1))
    buy(first, first_cart)
    api_client.force_authenticate(second)
    response = api_client.post(
        "/api/v1/orders/",
        {"shipping_address": ADDRESS, "payment_token": "tok_success"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-1",
    )
    assert (response.status_code, response.json()["code"]) == (400, "voucher_used_up")
    body = api_client.post(
        "/api/v1/orders/",
        {"shipping_address": ADDRESS, "payment_token": "tok_success"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-2",
    ).json()
    assert (body["discount_total"], body["voucher_code"], body["total"]) == ("0.00", "", "25.00")
