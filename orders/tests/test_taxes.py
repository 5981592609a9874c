"""Taxes per country and tax class, rounded per line, with or without tax in the prices; and
a property-style check over many random carts that the cart, the order, its invoice and its
refunds agree to the cent."""

import random
from decimal import Decimal

import pytest

from accounts.tests.factories import StaffUserFactory, UserFactory
from cart.models import TaxRate, VoucherKind
from cart.pricing.services import apply_voucher
from cart.selectors import cart_summary
from cart.tests.factories import VoucherFactory, default_shipping_method
from catalog.tests.factories import make_variant
from orders.checkout.services import place_order
from orders.lifecycle import transition_order
from orders.models import InvoiceKind, OrderStatus
from orders.returns.services import receive_return, request_return
from orders.tests.factories import ADDRESS, PATH, cart_with, fast_gateway  # noqa: F401
from shop.money import money

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_gateway")]


@pytest.fixture(autouse=True)
def uk_rates():
    default_shipping_method()  # 5.00, free from 50.00
    TaxRate.objects.create(country="GB", tax_class="", name="VAT 20%", rate=Decimal("0.2000"))
    TaxRate.objects.create(country="GB", tax_class="reduced", name="VAT 5%", rate=Decimal("0.0500"))


def buy(user, cart, country="GB"):
    address = {**ADDRESS, "country": country}
    return place_order(user=user, cart=cart, shipping_address=address, payment_token="tok_success")


def test_each_line_is_taxed_at_its_class_rate_and_rounded_on_its_own():
    user = UserFactory()
    kettle = make_variant(price=Decimal("10.05"), on_hand=9)
    book = make_variant(price=Decimal("7.99"), on_hand=9, product__tax_class="reduced")
    order = buy(user, cart_with(user, (kettle, 1), (book, 1)))
    lines = {line.sku: line for line in order.lines.all()}
    assert (lines[kettle.sku].tax, lines[kettle.sku].tax_rate) == (Decimal("2.01"), Decimal("0.2"))
    assert (lines[book.sku].tax, lines[book.sku].tax_rate) == (Decimal("0.40"), Decimal("0.05"))
    # 2.01 + 0.40 + 1.00 (shipping at the standard rate) = 3.41
    assert (order.tax_total, order.total) == (Decimal("3.41"), Decimal("26.45"))
    assert order.tax_lines == [
        {"rate": "0.0500", "name": "VAT 5%", "taxable": "7.99", "tax": "0.40"},
        {"rate": "0.2000", "name": "VAT 20%", "taxable": "15.05", "tax": "3.01"},
    ]
    invoice = order.invoices.get(kind=InvoiceKind.INVOICE)
    assert (invoice.tax_lines, invoice.tax_total, invoice.total) == (
        order.tax_lines,
        order.tax_total,
        order.total,
    )


def test_a_country_without_rates_is_taxed_at_the_setting(settings):
    settings.SHOP_TAX_RATE = Decimal("0.10")
    user = UserFactory()
    order = buy(user, cart_with(user, (make_variant(price=Decimal("20.00")), 1)), country="US")
    assert (order.tax_total, order.total) == (Decimal("2.50"), Decimal("27.50"))


def test_prices_that_include_tax_keep_the_total_and_show_the_tax_inside(settings):
    settings.SHOP_PRICES_INCLUDE_TAX = True
    user = UserFactory()
    order = buy(user, cart_with(user, (make_variant(price=Decimal("12.00")), 1)))
    assert order.total == Decimal("17.00")  # 12.00 + 5.00 shipping, tax inside
    assert order.tax_total == Decimal("2.83")  # 2.00 + 0.83
    assert order.prices_include_tax is True


def test_the_discount_is_taxed_away_with_its_line():
    VoucherFactory(code="HALF", value=Decimal("50"))
    user = UserFactory()
    cart = cart_with(user, (make_variant(price=Decimal("30.00")), 1))
    apply_voucher(cart=cart, code="HALF")
    order = buy(user, cart)
    line = order.lines.get()
    assert (line.discount, line.tax) == (Decimal("15.00"), Decimal("3.00"))
    assert order.total == Decimal("15.00") + Decimal("5.00") + Decimal("4.00")


@pytest.mark.parametrize("included", [False, True])
def test_cart_order_invoice_and_refunds_agree_over_many_random_carts(settings, included):
    """Property: for random carts (prices, quantities, tax classes, vouchers), the cart's
    total is the order's, the invoice shows the order's figures, the lines add up to the
    totals, and returning every unit one by one refunds exactly the total."""
    settings.SHOP_PRICES_INCLUDE_TAX = included
    settings.SHOP_TAX_RATE = Decimal("0.2")  # the cart (no address yet) uses the GB rate too
    TaxRate.objects.filter(tax_class="reduced").delete()  # one rate: the cart can know it
    rnd = random.Random(1404 + included)
    staff = StaffUserFactory()
    kinds = [None, VoucherKind.PERCENTAGE, VoucherKind.FIXED, VoucherKind.FREE_SHIPPING]
    for case in range(15):
        user = UserFactory()
        items = [
            (
                make_variant(
                    price=Decimal(rnd.randint(1, 4000)) / 100, on_hand=20, sku=f"P{case}-{i}"
                ),
                rnd.randint(1, 3),
            )
            for i in range(rnd.randint(1, 4))
        ]
        cart = cart_with(user, *items)
        kind = rnd.choice(kinds)
        if kind is not None:
            value = Decimal(rnd.randint(1, 60)) if kind != VoucherKind.FREE_SHIPPING else 0
            VoucherFactory(code=f"V{case}", kind=kind, value=value)
            cart = apply_voucher(cart=cart, code=f"V{case}")
        shown = cart_summary(cart=cart)
        order = buy(user, cart)
        context = f"case {case}: {[(v.price, q) for v, q in items]} {kind}"
        assert shown.total == order.total, context
        assert shown.discount_total == order.discount_total, context
        invoice = order.invoices.get(kind=InvoiceKind.INVOICE)
        assert (invoice.subtotal, invoice.discount_total, invoice.tax_total, invoice.total) == (
            order.subtotal,
            order.discount_total,
            order.tax_total,
            order.total,
        ), context
        lines = list(order.lines.all())
        assert sum(line.discount for line in lines) == order.discount_total, context
        assert sum(Decimal(t["tax"]) for t in order.tax_lines) == order.tax_total, context
        paid = order.subtotal - order.discount_total + order.shipping_total
        assert order.total == (paid if included else paid + order.tax_total), context
        for step in PATH[OrderStatus.DELIVERED]:
            order = transition_order(order=order, to_status=step, user=staff)
        refunds = []
        for line in lines:
            for _ in range(line.quantity):
                rr = request_return(
                    order=order, user=user, lines=[{"sku": line.sku, "quantity": 1}]
                )
                refunds.append(receive_return(return_request=rr, user=staff).refund_amount)
        order.refresh_from_db()
        assert sum(refunds) == order.total == order.refunded_total, context
        notes = order.invoices.filter(kind=InvoiceKind.CREDIT_NOTE)
        assert sum(n.total for n in notes) == order.total, context
        assert all(amount == money(amount) and amount >= 0 for amount in refunds), context
