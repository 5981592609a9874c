"""Order editing taxes each line as checkout did: per country and tax class, rounded per line,
with or without tax in the prices; the money moved, the order's totals, its tax per rate and
its invoices and credit notes agree to the cent (issue #17)."""

import random
from decimal import Decimal

import pytest

from accounts.tests.factories import StaffUserFactory, UserFactory
from cart.models import TaxRate, VoucherKind
from cart.pricing.services import apply_voucher
from cart.tests.factories import VoucherFactory, default_shipping_method
from catalog.tests.factories import make_variant
from orders.checkout.services import place_order
from orders.editing.services import (
    add_order_line,
    change_order_line,
    issue_goodwill_refund,
    remove_order_line,
)
from orders.lifecycle import transition_order
from orders.models import InvoiceKind, Order, OrderStatus, Payment, PaymentKind, PaymentResult
from orders.returns.services import receive_return, request_return
from orders.tests.factories import ADDRESS, PATH, cart_with, fast_gateway  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_gateway")]

ZERO = Decimal("0.00")


@pytest.fixture(autouse=True)
def german_rates(settings):
    settings.SHOP_TAX_RATE = Decimal("0")  # the setting's rate is not the order's
    default_shipping_method()  # 5.00, free from 50.00
    TaxRate.objects.create(country="DE", tax_class="", name="MwSt 19%", rate=Decimal("0.1900"))
    TaxRate.objects.create(
        country="DE", tax_class="reduced", name="MwSt 7%", rate=Decimal("0.0700")
    )


@pytest.fixture(params=[False, True], ids=["net-prices", "gross-prices"])
def included(request, settings):
    settings.SHOP_PRICES_INCLUDE_TAX = request.param
    return request.param


@pytest.fixture
def lamp(db):
    return make_variant(sku="LAMP-1", on_hand=20, price=Decimal("20.00"))


@pytest.fixture
def book(db):
    return make_variant(
        sku="BOOK-1", on_hand=20, price=Decimal("12.99"), product__tax_class="reduced"
    )


def buy(*items, country="DE", voucher="") -> Order:
    user = UserFactory()
    cart = cart_with(user, *items)
    if voucher:
        cart = apply_voucher(cart=cart, code=voucher)
    address = {**ADDRESS, "country": country}
    return place_order(user=user, cart=cart, shipping_address=address, payment_token="tok_x")


def moved(order) -> Decimal:
    """Return what the customer paid net: the succeeded charges less the refunds."""
    rows = Payment.objects.filter(order=order, result=PaymentResult.SUCCEEDED)
    charged = sum((p.amount for p in rows if p.kind == PaymentKind.CHARGE), ZERO)
    return charged - sum((p.amount for p in rows if p.kind == PaymentKind.REFUND), ZERO)


def by_rate(tax_lines) -> dict[str, tuple[Decimal, Decimal]]:
    return {t["rate"]: (Decimal(t["taxable"]), Decimal(t["tax"])) for t in tax_lines}


def assert_consistent(order: Order, *, shipping_tax: Decimal) -> None:
    """The order adds up as checkout makes it, and its invoices less its credit notes hold
    exactly its totals, tax per rate included; the money moved is its total."""
    order.refresh_from_db()
    lines = list(order.lines.all())
    assert order.subtotal == sum((line.line_total for line in lines), ZERO)
    assert order.discount_total == sum((line.discount for line in lines), ZERO)
    assert order.tax_total == sum((line.tax for line in lines), ZERO) + shipping_tax
    assert sum((Decimal(t["tax"]) for t in order.tax_lines), ZERO) == order.tax_total
    paid = order.subtotal - order.discount_total + order.shipping_total
    assert sum((Decimal(t["taxable"]) for t in order.tax_lines), ZERO) == paid
    assert order.total == (paid if order.prices_include_tax else paid + order.tax_total)
    assert moved(order) == order.total
    net: dict[str, list[Decimal]] = {}
    totals = [ZERO, ZERO]
    for doc in order.invoices.all():
        sign = 1 if doc.kind == InvoiceKind.INVOICE else -1
        totals[0] += sign * doc.total
        totals[1] += sign * doc.tax_total
        assert sum((Decimal(t["tax"]) for t in doc.tax_lines), ZERO) == doc.tax_total
        for rate, (taxable, tax) in by_rate(doc.tax_lines).items():
            bucket = net.setdefault(rate, [ZERO, ZERO])
            bucket[0] += sign * taxable
            bucket[1] += sign * tax
    assert totals == [order.total, order.tax_total]
    net_lines = {rate: (t, x) for rate, (t, x) in net.items() if t or x}
    assert net_lines == by_rate(order.tax_lines)


def latest(order, kind) -> object:
    return order.invoices.filter(kind=kind).order_by("-id").first()


def test_raising_a_line_charges_its_tax_at_the_countrys_rate_not_the_setting(settings, lamp):
    """The reported case: VAT 20 % for the country, SHOP_TAX_RATE 0; 2 -> 5 lamps at 20.00
    charges 60.00 + 12.00 tax, not 60.00 alone."""
    TaxRate.objects.create(country="GB", tax_class="", name="VAT 20%", rate=Decimal("0.2000"))
    order = buy((lamp, 2), country="GB")
    before = order.total
    order = change_order_line(
        order=order, sku="LAMP-1", quantity=5, user=StaffUserFactory(), payment_token="tok_x"
    )
    assert order.total - before == Decimal("72.00")
    assert Payment.objects.get(reference=f"{order.number}-E1").amount == Decimal("72.00")
    line = order.lines.get()
    assert (line.tax, line.tax_rate) == (Decimal("20.00"), Decimal("0.2000"))
    # shipping's 1.00 tax (20 % of 5.00) stays as checkout charged it
    assert order.tax_total == Decimal("21.00")
    assert order.tax_lines == [
        {"rate": "0.2000", "name": "VAT 20%", "taxable": "105.00", "tax": "21.00"}
    ]
    extra = latest(order, InvoiceKind.INVOICE)
    assert (extra.subtotal, extra.tax_total, extra.total, extra.tax_rate) == (
        Decimal("60.00"),
        Decimal("12.00"),
        Decimal("72.00"),
        Decimal("0.2000"),
    )
    assert extra.tax_lines == [
        {"rate": "0.2000", "name": "VAT 20%", "taxable": "60.00", "tax": "12.00"}
    ]
    assert_consistent(order, shipping_tax=Decimal("1.00"))


def test_raising_a_line_charges_the_difference_with_its_tax(included, lamp, book):
    order = buy((lamp, 2), (book, 1))
    before = order.total
    order = change_order_line(
        order=order, sku="LAMP-1", quantity=5, user=StaffUserFactory(), payment_token="tok_x"
    )
    line = order.lines.get(sku="LAMP-1")
    # 100.00 paid for the line at 19 %: 19.00 on top, or 15.97 inside
    assert line.tax == (Decimal("15.97") if included else Decimal("19.00"))
    added = Decimal("60.00") if included else Decimal("71.40")
    assert order.total - before == added
    extra = latest(order, InvoiceKind.INVOICE)
    assert extra.total == added == Payment.objects.get(reference=f"{order.number}-E1").amount
    assert extra.subtotal == Decimal("60.00")
    assert extra.tax_total == (Decimal("9.58") if included else Decimal("11.40"))
    assert extra.lines[0]["tax"] == f"{extra.tax_total:.2f}"
    assert_consistent(order, shipping_tax=ZERO)  # 52.99: shipping was free


def test_lowering_a_line_refunds_the_difference_with_its_tax_on_a_credit_note(included, lamp, book):
    order = buy((lamp, 3), (book, 1))  # 72.99: shipping free
    before = order.total
    order = change_order_line(order=order, sku="LAMP-1", quantity=1, user=StaffUserFactory())
    taken = Decimal("40.00") if included else Decimal("47.60")
    assert before - order.total == taken
    assert Payment.objects.get(reference=f"{order.number}-E1").amount == taken
    note = latest(order, InvoiceKind.CREDIT_NOTE)
    assert (note.subtotal, note.total) == (Decimal("40.00"), taken)
    assert note.tax_total == (Decimal("6.39") if included else Decimal("7.60"))
    assert note.tax_lines == [
        {
            "rate": "0.1900",
            "name": "MwSt 19%",
            "taxable": "40.00",
            "tax": f"{note.tax_total:.2f}",
        }
    ]
    assert_consistent(order, shipping_tax=ZERO)


def test_a_new_line_is_taxed_at_its_tax_class_rate_for_the_orders_country(included, lamp, book):
    order = buy((lamp, 2))
    before = order.total
    order = add_order_line(
        order=order, sku="BOOK-1", quantity=2, user=StaffUserFactory(), payment_token="tok_x"
    )
    line = order.lines.get(sku="BOOK-1")
    # 25.98 at 7 %: 1.82 on top, or 1.70 inside
    assert line.tax_rate == Decimal("0.0700")
    assert line.tax == (Decimal("1.70") if included else Decimal("1.82"))
    assert line.discount == ZERO
    assert order.total - before == (Decimal("25.98") if included else Decimal("27.80"))
    assert [(t["rate"], t["name"]) for t in order.tax_lines] == [
        ("0.0700", "MwSt 7%"),
        ("0.1900", "MwSt 19%"),
    ]
    assert by_rate(order.tax_lines)["0.0700"] == (Decimal("25.98"), line.tax)
    extra = latest(order, InvoiceKind.INVOICE)
    assert (extra.tax_rate, extra.tax_total) == (Decimal("0.0700"), line.tax)
    assert extra.tax_lines == [
        {"rate": "0.0700", "name": "MwSt 7%", "taxable": "25.98", "tax": f"{line.tax:.2f}"}
    ]
    assert_consistent(order, shipping_tax=Decimal("0.80") if included else Decimal("0.95"))


def test_removing_a_line_refunds_its_tax_and_drops_its_rate(included, lamp, book):
    order = buy((lamp, 1), (book, 1))  # 32.99 + 5.00 shipping
    book_tax = order.lines.get(sku="BOOK-1").tax
    before = order.total
    order = remove_order_line(order=order, sku="BOOK-1", user=StaffUserFactory())
    assert before - order.total == Decimal("12.99") + (ZERO if included else book_tax)
    assert [t["rate"] for t in order.tax_lines] == ["0.1900"]
    note = latest(order, InvoiceKind.CREDIT_NOTE)
    assert (note.tax_total, note.lines[0]["tax_rate"]) == (book_tax, "0.0700")
    assert_consistent(order, shipping_tax=Decimal("0.80") if included else Decimal("0.95"))


def test_a_discounted_line_keeps_its_discount_when_raised_and_sheds_its_share_when_lowered(
    included, lamp
):
    VoucherFactory(code="TENOFF", value=Decimal("10"))  # 10 %
    order = buy((lamp, 4), voucher="TENOFF")  # 80.00 less 8.00
    staff = StaffUserFactory()
    order = change_order_line(
        order=order, sku="LAMP-1", quantity=6, user=staff, payment_token="tok_x"
    )
    line = order.lines.get()
    assert (line.discount, order.discount_total) == (Decimal("8.00"), Decimal("8.00"))
    order = change_order_line(order=order, sku="LAMP-1", quantity=3, user=staff)
    line = order.lines.get()
    assert line.discount == Decimal("4.00")  # the 3 units taken off took half of it
    note = latest(order, InvoiceKind.CREDIT_NOTE)
    assert (note.subtotal, note.discount_total) == (Decimal("60.00"), Decimal("4.00"))
    assert_consistent(order, shipping_tax=ZERO)


def test_edits_one_after_another_keep_the_order_and_its_documents_in_step(included, lamp, book):
    order = buy((lamp, 1), (book, 1))
    staff = StaffUserFactory()
    for sku, quantity in [("LAMP-1", 5), ("BOOK-1", 3), ("LAMP-1", 1), ("BOOK-1", 0)]:
        order = change_order_line(
            order=order, sku=sku, quantity=quantity, user=staff, payment_token="tok_x"
        )
        assert_consistent(order, shipping_tax=Decimal("0.80") if included else Decimal("0.95"))
    order = add_order_line(order=order, sku="BOOK-1", quantity=1, user=staff, payment_token="tok_x")
    assert_consistent(order, shipping_tax=Decimal("0.80") if included else Decimal("0.95"))


def test_a_goodwill_refund_after_an_edit_refunds_an_amount_and_leaves_the_tax(included, lamp):
    order = buy((lamp, 2))
    staff = StaffUserFactory()
    order = change_order_line(
        order=order, sku="LAMP-1", quantity=3, user=staff, payment_token="tok_x"
    )
    tax_lines, tax_total = order.tax_lines, order.tax_total
    order = issue_goodwill_refund(order=order, amount=Decimal("7.00"), reason="Late", user=staff)
    order.refresh_from_db()
    assert (order.tax_lines, order.tax_total) == (tax_lines, tax_total)
    assert order.refunded_total == Decimal("7.00")
    note = latest(order, InvoiceKind.CREDIT_NOTE)
    assert (note.total, note.tax_total) == (Decimal("7.00"), ZERO)
    assert moved(order) == order.total - Decimal("7.00")


def test_random_edits_keep_every_figure_in_step_and_returns_then_refund_exactly_the_rest(
    included,
):
    """Property: random orders (prices, tax classes, vouchers) edited at random stay
    consistent after every edit, and returning every unit afterwards gives credit notes that
    each add up, refunding to the cent what the edited order holds, tax per rate included."""
    rnd = random.Random(1717 + included)
    staff = StaffUserFactory()
    kinds = [None, VoucherKind.PERCENTAGE, VoucherKind.FIXED, VoucherKind.FREE_SHIPPING]
    for case in range(8):
        variants = [
            make_variant(
                sku=f"E{case}-{i}",
                price=Decimal(rnd.randint(1, 4000)) / 100,
                on_hand=30,
                product__tax_class=rnd.choice(["", "reduced"]),
            )
            for i in range(4)
        ]
        kind = rnd.choice(kinds)
        if kind is not None:
            value = Decimal(rnd.randint(1, 60)) if kind != VoucherKind.FREE_SHIPPING else 0
            VoucherFactory(code=f"R{case}", kind=kind, value=value)
        order = buy(
            *[(v, rnd.randint(1, 3)) for v in variants[:2]], voucher=f"R{case}" if kind else ""
        )
        shipping_tax = order.tax_total - sum((line.tax for line in order.lines.all()), ZERO)
        context = f"case {case}: {kind}"
        for _ in range(4):
            skus = list(order.lines.values_list("sku", flat=True))
            sku = rnd.choice([v.sku for v in variants])
            if sku in skus:
                quantity = rnd.randint(0 if len(skus) > 1 else 1, 4)
                edit = change_order_line
            else:
                quantity, edit = rnd.randint(1, 4), add_order_line
            order = edit(order=order, sku=sku, quantity=quantity, user=staff, payment_token="tok_x")
            assert_consistent(order, shipping_tax=shipping_tax)
        edits = set(order.invoices.values_list("pk", flat=True))
        for step in PATH[OrderStatus.DELIVERED]:
            order = transition_order(order=order, to_status=step, user=staff)
        for line in list(order.lines.all()):
            for _ in range(line.quantity):
                rr = request_return(
                    order=order, user=order.user, lines=[{"sku": line.sku, "quantity": 1}]
                )
                receive_return(return_request=rr, user=staff)
        order.refresh_from_db()
        assert order.refunded_total == order.total, context
        notes = order.invoices.filter(kind=InvoiceKind.CREDIT_NOTE).exclude(pk__in=edits)
        for note in notes:
            paid = note.subtotal - note.discount_total + note.shipping_total
            assert note.total == (paid if included else paid + note.tax_total), context
        assert sum((n.tax_total for n in notes), ZERO) == order.tax_total, context
        assert sum((n.total for n in notes), ZERO) == order.total, context
