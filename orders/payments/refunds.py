"""Refunding part or all of an order: one gateway refund plus one credit note."""

from decimal import Decimal

from cart.pricing.services import release_voucher_use
from orders.invoices.services import InvoiceLine, issue_credit_note
from orders.models import (
    Order,
    OrderEvent,
    OrderEventType,
    OrderLine,
    Payment,
    PaymentKind,
    PaymentResult,
    PaymentStatus,
)
from orders.payments.gateways import get_gateway
from orders.payments.services import refund_with_retries
from shop.money import money


def charge_id_of(*, order: Order) -> str:
    """Return the gateway id of the order's successful charge."""
    payment = (
        Payment.objects.filter(order=order, kind=PaymentKind.CHARGE, result=PaymentResult.SUCCEEDED)
        .order_by("id")
        .first()
    )
    return payment.gateway_transaction_id if payment else ""


def _share(amount: Decimal, *, line: OrderLine, quantity: int) -> Decimal:
    """Return the part of a line's ``amount`` that ``quantity`` more units of it carry (after
    its ``returned_quantity`` units already returned).

    Cumulative rounding: ``money(a * (r + q) / Q) - money(a * r / Q)``, so however a line is
    returned in parts, the parts add up to the whole amount (to the cent).
    """
    if not amount or not line.quantity:
        return Decimal("0.00")
    before = line.returned_quantity
    after = min(before + quantity, line.quantity)
    return money(amount * after / line.quantity) - money(amount * before / line.quantity)


def discount_share(*, line: OrderLine, quantity: int) -> Decimal:
    """Return the part of ``line.discount`` paid back with ``quantity`` more units."""
    return _share(line.discount, line=line, quantity=quantity)


def tax_share(*, line: OrderLine, quantity: int) -> Decimal:
    """Return the part of ``line.tax`` paid back with ``quantity`` more units."""
    return _share(line.tax, line=line, quantity=quantity)


def credit_line(*, line: OrderLine, quantity: int) -> InvoiceLine:
    """Return the credit-note line for ``quantity`` units of an order line (not yet counted in
    its ``returned_quantity``): ``line_total`` before, ``discount`` the part of the line's
    discount those units had."""
    total = money(line.unit_price * quantity)
    return {
        "sku": line.sku,
        "description": f"{line.product_name} {line.variant_name}".strip(),
        "quantity": quantity,
        "unit_price": f"{line.unit_price:.2f}",
        "line_total": f"{total:.2f}",
        "discount": f"{discount_share(line=line, quantity=quantity):.2f}",
        "tax": f"{tax_share(line=line, quantity=quantity):.2f}",
        "tax_rate": f"{line.tax_rate:.4f}",
    }


def credit_tax_lines(
    *, order: Order, lines: list[InvoiceLine], shipping: Decimal, tax: Decimal
) -> list[dict]:
    """Return the tax per rate of a credit note's ``lines`` (names from the order's
    ``tax_lines``); the shipping refunded, and the rest of ``tax`` (its tax), join the
    order's first rate line."""
    names = {line["rate"]: line["name"] for line in order.tax_lines}
    by_rate: dict[str, list[Decimal]] = {}
    for line in lines:
        rate = line.get("tax_rate", "0.0000")
        bucket = by_rate.setdefault(rate, [Decimal("0.00"), Decimal("0.00")])
        bucket[0] += Decimal(line["line_total"]) - Decimal(line.get("discount", "0"))
        bucket[1] += Decimal(line.get("tax", "0"))
    if shipping and order.tax_lines:
        bucket = by_rate.setdefault(order.tax_lines[0]["rate"], [Decimal("0"), Decimal("0")])
        bucket[0] += shipping
        bucket[1] += tax - sum((b[1] for b in by_rate.values()), Decimal("0"))
    return [
        {"rate": rate, "name": names.get(rate, ""), "taxable": f"{t:.2f}", "tax": f"{x:.2f}"}
        for rate, (t, x) in sorted(by_rate.items())
        if x or Decimal(rate)
    ]


def refund_order(
    *,
    order: Order,
    amount: Decimal,
    reference: str,
    lines: list[InvoiceLine],
    subtotal: Decimal,
    shipping_total: Decimal,
    tax_total: Decimal,
    discount_total: Decimal = Decimal("0.00"),
    tax_lines: list[dict] | None = None,
) -> Decimal:
    """Refund ``amount`` of a paid order and issue the matching credit note.

    ``subtotal`` is the lines' value before ``discount_total`` (the part of the order's
    discount they had). A refund that makes the order fully refunded gives its voucher use
    back (``cart.pricing.services.release_voucher_use``).

    Refunds through the gateway (idempotent per ``reference``, retried like charges), issues
    the credit note, then raises ``refunded_total`` and sets ``payment_status`` (refunded or
    partially refunded) and saves them. Call it inside the caller's transaction with the order
    row locked. A zero amount refunds nothing. Raises the gateway errors of
    ``refund_with_retries``. Return the amount refunded.
    """
    if amount <= 0:
        return Decimal("0.00")
    refund_with_retries(
        amount=amount,
        currency=order.currency,
        charge_id=charge_id_of(order=order),
        reference=reference,
        order=order,
    )
    issue_credit_note(
        order=order,
        lines=lines,
        subtotal=subtotal,
        discount_total=discount_total,
        shipping_total=shipping_total,
        tax_total=tax_total,
        total=amount,
        tax_lines=tax_lines,
    )
    order.refunded_total += amount
    order.payment_status = (
        PaymentStatus.REFUNDED
        if order.refunded_total >= order.total
        else PaymentStatus.PARTIALLY_REFUNDED
    )
    order.save(update_fields=["refunded_total", "payment_status", "updated_at"])
    if order.payment_status == PaymentStatus.REFUNDED:
        release_voucher_use(order_number=order.number)
    return amount


def record_provider_refund(
    *, order: Order, refunded_total: Decimal, transaction_id: str
) -> Decimal:
    """Record refunds made at the provider outside the shop (e.g. in its dashboard), as its
    ``charge.refunded`` webhook reports them, and return the amount newly recorded.

    ``refunded_total`` is the provider's running total for the charge; what exceeds the
    order's ``refunded_total`` is recorded once: a succeeded refund ``Payment`` row, a credit
    note for that amount, ``refunded_total`` and ``payment_status`` (refunded or partially
    refunded) saved, and a ``refund_issued`` event. Call it inside the caller's transaction
    with the order row locked (the shop's own refunds raise ``refunded_total`` under the same
    lock, so they are never counted twice). Returns 0 when nothing is new.
    """
    amount = money(min(refunded_total, order.total) - order.refunded_total)
    if amount <= 0:
        return Decimal("0.00")
    Payment.objects.create(
        order=order,
        reference=f"{order.number}-provider-{transaction_id}"[:64],
        kind=PaymentKind.REFUND,
        result=PaymentResult.SUCCEEDED,
        amount=amount,
        currency=order.currency,
        gateway=get_gateway().name,
        gateway_transaction_id=transaction_id,
    )
    issue_credit_note(
        order=order,
        lines=[
            {
                "sku": "",
                "description": "Refund made at the payment provider",
                "quantity": 1,
                "unit_price": f"{amount:.2f}",
                "line_total": f"{amount:.2f}",
            }
        ],
        subtotal=amount,
        shipping_total=Decimal("0.00"),
        tax_total=Decimal("0.00"),
        total=amount,
    )
    order.refunded_total += amount
    order.payment_status = (
        PaymentStatus.REFUNDED
        if order.refunded_total >= order.total
        else PaymentStatus.PARTIALLY_REFUNDED
    )
    order.save(update_fields=["refunded_total", "payment_status", "updated_at"])
    OrderEvent.objects.create(
        order=order,
        type=OrderEventType.REFUND_ISSUED,
        note=f"Refund of {amount} {order.currency} made at the payment provider "
        f"({transaction_id}).",
    )
    return amount
