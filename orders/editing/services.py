"""Edit an order before fulfilment and issue goodwill refunds (staff).

Every change runs in one transaction that locks the order row first, then (inside inventory)
the stock rows in variant order. The difference a line change makes to the total is charged
(with a payment token the staff member enters, e.g. a card taken over the phone) with a
supplementary invoice for the units added, or refunded across the order's charges (newest
first, ``refunds.refund_across_charges``) with a credit note, and recorded as an order event.
Gateway calls are idempotent per reference (``<number>-E<n>`` / ``<number>-G<n>``, numbered
under the order lock); when one fails the transaction rolls back and its attempts are
recorded again.

Shipping stays as charged at checkout; tax is recomputed at the invoice's rate.
"""

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum

from accounts.models import User
from catalog.models import Variant
from inventory import services as inventory
from inventory.services import StockLine
from orders.checkout.services import tax_rate
from orders.errors import OrderNotEditable, PaymentDeclinedError, PaymentUnavailableError
from orders.invoices.services import InvoiceLine, issue_credit_note, issue_supplementary_invoice
from orders.models import InvoiceKind, Order, OrderEvent, OrderEventType, OrderLine, OrderStatus
from orders.payments.refunds import credit_line, refund_across_charges, refund_order
from orders.payments.services import charge_with_retries, persist_attempts
from orders.signals import refund_issued
from shop.money import money

EDITABLE_STATUSES = frozenset({OrderStatus.RECEIVED, OrderStatus.PROCESSING})
MAX_LINE_QUANTITY = 999


def _locked(order: Order) -> Order:
    locked = Order.objects.select_for_update().get(pk=order.pk)
    if locked.status not in EDITABLE_STATUSES:
        raise OrderNotEditable()
    return locked


def _invoice_tax_rate(order: Order) -> Decimal:
    invoice = order.invoices.filter(kind=InvoiceKind.INVOICE).order_by("id").first()
    return invoice.tax_rate if invoice else tax_rate()


def _next_reference(order: Order, prefix: str, types: tuple[str, ...]) -> str:
    number = OrderEvent.objects.filter(order=order, type__in=types).count() + 1
    return f"{order.number}-{prefix}{number}"


EDIT_EVENTS = (OrderEventType.LINE_ADDED, OrderEventType.LINE_CHANGED, OrderEventType.LINE_REMOVED)


def _find_line(order: Order, sku: str) -> OrderLine | None:
    return order.lines.filter(sku__iexact=sku).first()


def _set_quantity(
    *,
    order: Order,
    sku: str,
    quantity: int,
    add: bool,
    user: User,
    payment_token: str,
) -> Order:
    if quantity < 0 or quantity > MAX_LINE_QUANTITY:
        raise ValidationError({"quantity": [f"Enter 0 to {MAX_LINE_QUANTITY}."]})
    order = _locked(order)
    line = _find_line(order, sku)
    if line is None and not add:
        raise OrderLine.DoesNotExist(f"No line {sku!r} on order {order.number}.")
    old_quantity = line.quantity if line else 0
    new_quantity = old_quantity + quantity if add else quantity
    if new_quantity > MAX_LINE_QUANTITY:
        raise ValidationError({"quantity": [f"A line holds at most {MAX_LINE_QUANTITY}."]})
    if new_quantity == old_quantity:
        return order
    if new_quantity == 0 and order.lines.count() == 1:
        raise ValidationError({"sku": ["This is the order's last line: cancel the order instead."]})
    if line is None:
        variant = Variant.objects.purchasable().select_related("product").filter(sku__iexact=sku)
        found = variant.first()
        if found is None:
            raise ValidationError({"sku": ["No purchasable variant has this SKU."]})
        line = OrderLine(
            order=order,
            variant=found,
            sku=found.sku,
            product_name=found.product.name,
            variant_name=found.name,
            unit_price=found.price,
            quantity=0,
            line_total=Decimal("0.00"),
        )
    delta = new_quantity - old_quantity
    if line.variant_id is not None:
        stock = [StockLine(line.variant_id, abs(delta), line.sku)]
        if delta > 0:
            inventory.allocate(lines=stock, order_number=order.number)
        else:
            inventory.deallocate(lines=stock, order_number=order.number)
    removed_credit = credit_line(line=line, quantity=-delta) if delta < 0 else None
    if new_quantity == 0:
        line.delete()
        event_type = OrderEventType.LINE_REMOVED
    else:
        event_type = OrderEventType.LINE_ADDED if old_quantity == 0 else OrderEventType.LINE_CHANGED
        line.quantity = new_quantity
        line.line_total = money(line.unit_price * new_quantity)
        line.save()

    old_total = order.total
    subtotal = money(order.lines.aggregate(s=Sum("line_total"))["s"] or 0)
    rate = _invoice_tax_rate(order)
    tax = money((subtotal + order.shipping_total) * rate)
    new_total = money(subtotal + order.shipping_total + tax)
    if new_total < order.refunded_total:
        raise ValidationError(
            {"quantity": [f"{order.refunded_total} was already refunded: more than the new total."]}
        )
    difference = new_total - old_total
    reference = _next_reference(order, "E", EDIT_EVENTS)
    money_note = ""
    if difference > 0:
        if not payment_token:
            raise ValidationError(
                {
                    "payment_token": [
                        f"The total goes up by {difference}: a payment token is needed."
                    ]
                }
            )
        charge = charge_with_retries(
            amount=difference,
            currency=order.currency,
            token=payment_token,
            reference=reference,
            order=order,
        )
        added_tax = money(tax - order.tax_total)
        issue_supplementary_invoice(
            order=order,
            lines=[added_line(line=line, quantity=delta, tax=added_tax, rate=rate)],
            subtotal=money(difference - added_tax),
            tax_total=added_tax,
            total=difference,
        )
        money_note = f"; charged {difference} {order.currency} ({charge.charge_id})"
    elif difference < 0:
        refund_across_charges(order=order, amount=-difference, reference=reference)
        credit_lines: list[InvoiceLine] = [removed_credit] if removed_credit else []
        credited_subtotal = old_total - new_total - (order.tax_total - tax)
        issue_credit_note(
            order=order,
            lines=credit_lines,
            subtotal=money(credited_subtotal),
            shipping_total=Decimal("0.00"),
            tax_total=money(order.tax_total - tax),
            total=-difference,
        )
        money_note = f"; refunded {-difference} {order.currency}"
    order.subtotal, order.tax_total, order.total = subtotal, tax, new_total
    order.save(update_fields=["subtotal", "tax_total", "total", "updated_at"])
    OrderEvent.objects.create(
        order=order,
        type=event_type,
        user=user,
        note=f"{line.sku}: {old_quantity} → {new_quantity}{money_note} (ref {reference}).",
    )
    return order


def added_line(*, line: OrderLine, quantity: int, tax: Decimal, rate: Decimal) -> InvoiceLine:
    """Return the supplementary invoice's line for ``quantity`` units added to ``line``, with
    the ``tax`` they added to the order at ``rate``."""
    return {
        "sku": line.sku,
        "description": f"{line.product_name} {line.variant_name}".strip(),
        "quantity": quantity,
        "unit_price": f"{line.unit_price:.2f}",
        "line_total": f"{money(line.unit_price * quantity):.2f}",
        "discount": "0.00",
        "tax": f"{tax:.2f}",
        "tax_rate": f"{rate:.4f}",
    }


def _run(**kwargs: Any) -> Order:
    try:
        with transaction.atomic():
            return _set_quantity(**kwargs)
    except (PaymentDeclinedError, PaymentUnavailableError) as exc:
        persist_attempts(attempts=exc.attempts)
        raise


def add_order_line(
    *, order: Order, sku: str, quantity: int, user: User, payment_token: str = ""
) -> Order:
    """Add ``quantity`` of ``sku`` to an order before fulfilment (to its line if it has one).

    A new line takes the variant's current price. Allocates the stock, charges the difference
    with ``payment_token``, issues a supplementary invoice for the units added and records a
    ``line_added``/``line_changed`` event, all or nothing.
    Raises ``OrderNotEditable`` (409), ``InsufficientStock`` (409), ``ValidationError``
    (unknown SKU, bad quantity, missing token), ``PaymentDeclinedError`` (402) or
    ``PaymentUnavailableError`` (503). Return the order.
    """
    if quantity < 1:
        raise ValidationError({"quantity": ["Add at least 1."]})
    return _run(
        order=order, sku=sku, quantity=quantity, add=True, user=user, payment_token=payment_token
    )


def change_order_line(
    *, order: Order, sku: str, quantity: int, user: User, payment_token: str = ""
) -> Order:
    """Set the quantity of an order line before fulfilment (0 removes it).

    Allocates or releases the stock difference; a higher total is charged with
    ``payment_token``, a lower one refunded across the order's charges with a credit note; an
    event records it. Raises like ``add_order_line``, and ``OrderLine.DoesNotExist`` when the
    order has no line for ``sku``. Return the order.
    """
    return _run(
        order=order, sku=sku, quantity=quantity, add=False, user=user, payment_token=payment_token
    )


def remove_order_line(*, order: Order, sku: str, user: User) -> Order:
    """Remove a line before fulfilment: release its stock, refund its value, credit note.

    The last line cannot be removed (cancel the order instead). Raises like
    ``change_order_line``. Return the order.
    """
    return _run(order=order, sku=sku, quantity=0, add=False, user=user, payment_token="")


def issue_goodwill_refund(*, order: Order, amount: Decimal, reason: str, user: User) -> Order:
    """Refund ``amount`` of an order as a goodwill gesture, with ``reason``.

    Locks the order row. Refunds across the order's charges, newest first (idempotent per
    ``<number>-G<n>``, then ``-2`` ... per further charge), issues a credit note, raises
    ``refunded_total`` and ``payment_status``, records a ``goodwill_refund`` event and sends
    ``refund_issued`` (email, webhook) inside the transaction. Raises ``ValidationError`` when
    ``amount`` is not positive or exceeds what is left to refund, ``PaymentDeclinedError``
    (402) or ``PaymentUnavailableError`` (503). Return the order.
    """
    amount = money(amount)
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": ["Say why the refund is given."]})
    try:
        with transaction.atomic():
            order = Order.objects.select_for_update().get(pk=order.pk)
            left = order.total - order.refunded_total
            if amount <= 0:
                raise ValidationError({"amount": ["Enter an amount above 0."]})
            if amount > left:
                raise ValidationError({"amount": [f"At most {left} is left to refund."]})
            reference = _next_reference(order, "G", (OrderEventType.GOODWILL_REFUND,))
            line: InvoiceLine = {
                "sku": "",
                "description": f"Goodwill refund: {reason}"[:200],
                "quantity": 1,
                "unit_price": f"{amount:.2f}",
                "line_total": f"{amount:.2f}",
            }
            refund_order(
                order=order,
                amount=amount,
                reference=reference,
                lines=[line],
                subtotal=amount,
                shipping_total=Decimal("0.00"),
                tax_total=Decimal("0.00"),
            )
            event = OrderEvent.objects.create(
                order=order,
                type=OrderEventType.GOODWILL_REFUND,
                user=user,
                note=f"Goodwill refund of {amount} {order.currency}: {reason} (ref {reference}).",
            )
            refund_issued.send(
                sender=Order,
                order_id=order.pk,
                return_id=None,
                amount=f"{amount:.2f}",
                refund_id=event.pk,
                reason=reason,
            )
    except (PaymentDeclinedError, PaymentUnavailableError) as exc:
        persist_attempts(attempts=exc.attempts)
        raise
    return order
