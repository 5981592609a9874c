"""Refunding part or all of an order: one gateway refund plus one credit note."""

from decimal import Decimal

from orders.invoices.services import InvoiceLine, issue_credit_note
from orders.models import Order, OrderLine, Payment, PaymentKind, PaymentResult, PaymentStatus
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


def credit_line(*, line: OrderLine, quantity: int) -> InvoiceLine:
    """Return the credit-note line for ``quantity`` units of an order line."""
    total = money(line.unit_price * quantity)
    return {
        "sku": line.sku,
        "description": f"{line.product_name} {line.variant_name}".strip(),
        "quantity": quantity,
        "unit_price": f"{line.unit_price:.2f}",
        "line_total": f"{total:.2f}",
    }


def refund_order(
    *,
    order: Order,
    amount: Decimal,
    reference: str,
    lines: list[InvoiceLine],
    subtotal: Decimal,
    shipping_total: Decimal,
    tax_total: Decimal,
) -> Decimal:
    """Refund ``amount`` of a paid order and issue the matching credit note.

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
        shipping_total=shipping_total,
        tax_total=tax_total,
        total=amount,
    )
    order.refunded_total += amount
    order.payment_status = (
        PaymentStatus.REFUNDED
        if order.refunded_total >= order.total
        else PaymentStatus.PARTIALLY_REFUNDED
    )
    order.save(update_fields=["refunded_total", "payment_status", "updated_at"])
    return amount
