"""Edit an order before fulfilment and issue goodwill refunds (staff).

Every change runs in one transaction that locks the order row first, then (inside inventory)
the stock rows in variant order. The difference a line change makes to the total is charged
(with a payment token the staff member enters, e.g. a card taken over the phone) with a
supplementary invoice for the units added, or refunded across the order's charges (newest
first, ``refunds.refund_across_charges``) with a credit note, and recorded as an order event.
Gateway calls are idempotent per reference (``<number>-E<n>`` / ``<number>-G<n>``, numbered
under the order lock); when one fails the transaction rolls back and its attempts are
recorded again.

Shipping, and the tax charged on it, stay as charged at checkout. The line changed is taxed
by checkout's rule (``cart.pricing.totals.line_tax``, per line, tax included or not as the
order was priced): an existing line at the rate it was sold at, a new line at the rate for the
order's country and the product's tax class (``rates_for``); the other lines keep their tax.
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum

from accounts.models import User
from cart.pricing.totals import STANDARD, line_tax, rates_for
from catalog.models import Variant
from inventory import services as inventory
from inventory.services import StockLine
from orders.errors import OrderNotEditable, PaymentDeclinedError, PaymentUnavailableError
from orders.invoices.services import InvoiceLine, issue_credit_note, issue_supplementary_invoice
from orders.models import Order, OrderEvent, OrderEventType, OrderLine, OrderStatus
from orders.payments.refunds import (
    credit_tax_lines,
    discount_share,
    refund_across_charges,
    refund_order,
)
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


def _next_reference(order: Order, prefix: str, types: tuple[str, ...]) -> str:
    number = OrderEvent.objects.filter(order=order, type__in=types).count() + 1
    return f"{order.number}-{prefix}{number}"


EDIT_EVENTS = (OrderEventType.LINE_ADDED, OrderEventType.LINE_CHANGED, OrderEventType.LINE_REMOVED)


def _find_line(order: Order, sku: str) -> OrderLine | None:
    return order.lines.filter(sku__iexact=sku).first()


def new_order_line(*, order: Order, sku: str, quantity: int) -> OrderLine:
    """Return a new (unsaved) line of ``order`` for the purchasable variant ``sku`` (any case),
    ``quantity`` units at its current price, with the product and variant names as snapshots.
    Raises ``ValidationError`` keyed by ``sku`` when no purchasable variant has it. Staff
    order editing and draft orders add lines with it."""
    found = Variant.objects.purchasable().select_related("product").filter(sku__iexact=sku).first()
    if found is None:
        raise ValidationError({"sku": ["No purchasable variant has this SKU."]})
    return OrderLine(
        order=order,
        variant=found,
        sku=found.sku,
        product_name=found.product.name,
        variant_name=found.name,
        unit_price=found.price,
        quantity=quantity,
        line_total=money(found.price * quantity),
    )


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
        line = new_order_line(order=order, sku=sku, quantity=0)
    delta = new_quantity - old_quantity
    if line.variant_id is not None:
        stock = [StockLine(line.variant_id, abs(delta), line.sku)]
        if delta > 0:
            inventory.allocate(lines=stock, order_number=order.number)
        else:
            inventory.deallocate(lines=stock, order_number=order.number)
    change = _reprice_line(order=order, line=line, quantity=new_quantity)
    if new_quantity == 0:
        line.delete()
        event_type = OrderEventType.LINE_REMOVED
    else:
        event_type = OrderEventType.LINE_ADDED if old_quantity == 0 else OrderEventType.LINE_CHANGED
        line.save()

    old_total = order.total
    order.subtotal = money(order.lines.aggregate(s=Sum("line_total"))["s"] or 0)
    order.discount_total += change.discount
    order.tax_total += change.tax
    order.tax_lines = _shifted_tax_lines(order=order, change=change)
    paid = order.subtotal - order.discount_total + order.shipping_total
    new_total = money(paid if order.prices_include_tax else paid + order.tax_total)
    if new_total < order.refunded_total:
        raise ValidationError(
            {"quantity": [f"{order.refunded_total} was already refunded: more than the new total."]}
        )
    difference = new_total - old_total
    reference = _next_reference(order, "E", EDIT_EVENTS)
    money_note = ""
    units = changed_units_line(line=line, change=change)
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
        issue_supplementary_invoice(
            order=order,
            lines=[units],
            subtotal=money(line.unit_price * delta),
            tax_total=change.tax,
            total=difference,
            tax_rate=change.rate,
            tax_lines=credit_tax_lines(
                order=order, lines=[units], shipping=Decimal("0.00"), tax=change.tax
            ),
        )
        money_note = f"; charged {difference} {order.currency} ({charge.charge_id})"
    elif difference < 0:
        refund_across_charges(order=order, amount=-difference, reference=reference)
        issue_credit_note(
            order=order,
            lines=[units],
            subtotal=money(line.unit_price * -delta),
            discount_total=-change.discount,
            shipping_total=Decimal("0.00"),
            tax_total=-change.tax,
            total=-difference,
            tax_lines=credit_tax_lines(
                order=order, lines=[units], shipping=Decimal("0.00"), tax=-change.tax
            ),
        )
        money_note = f"; refunded {-difference} {order.currency}"
    order.total = new_total
    order.save(
        update_fields=[
            "subtotal",
            "discount_total",
            "tax_total",
            "tax_lines",
            "total",
            "updated_at",
        ]
    )
    OrderEvent.objects.create(
        order=order,
        type=event_type,
        user=user,
        note=f"{line.sku}: {old_quantity} → {new_quantity}{money_note} (ref {reference}).",
    )
    return order


@dataclass(frozen=True)
class LineChange:
    """What an edit changed on one order line: units (``quantity``, negative when taken off),
    and the changes of its ``discount``, ``paid`` (``line_total - discount``) and ``tax`` at
    ``rate`` (named ``rate_name``)."""

    quantity: int
    discount: Decimal
    paid: Decimal
    tax: Decimal
    rate: Decimal
    rate_name: str


def _reprice_line(*, order: Order, line: OrderLine, quantity: int) -> LineChange:
    """Set ``line`` (not saved) to ``quantity`` units, taxed by checkout's rule, and return
    what changed.

    The line keeps its discount when units are added (a new line has none); units taken off
    take their share of it with them (``discount_share``, as a return would). Its tax is
    ``line_tax`` of what is paid for the line, at the rate it was sold at, or, for a new line,
    at the rate for the order's country and the product's tax class (``rates_for``).
    """
    if line.pk is None:
        country = (order.shipping_address or {}).get("country")
        rates = rates_for(country=country)
        product = line.variant.product if line.variant is not None else None
        rate, rate_name = rates.get(product.tax_class if product else STANDARD) or rates[STANDARD]
    else:
        rate = line.tax_rate
        rate_name = next(
            (t["name"] for t in order.tax_lines if Decimal(t["rate"]) == rate),
            f"Tax {rate * 100:g}%",
        )
    before_discount, before_paid, before_tax = (
        line.discount,
        line.line_total - line.discount,
        line.tax,
    )
    if quantity < line.quantity:
        line.discount -= discount_share(line=line, quantity=line.quantity - quantity)
    change_quantity = quantity - line.quantity
    line.quantity = quantity
    line.line_total = money(line.unit_price * quantity)
    paid = line.line_total - line.discount
    line.tax = (
        line_tax(paid=paid, rate=rate, included=order.prices_include_tax)
        if quantity
        else Decimal("0.00")
    )
    line.tax_rate = rate
    return LineChange(
        quantity=change_quantity,
        discount=line.discount - before_discount,
        paid=paid - before_paid,
        tax=line.tax - before_tax,
        rate=rate,
        rate_name=rate_name,
    )


def _shifted_tax_lines(*, order: Order, change: LineChange) -> list[dict]:
    """Return the order's ``tax_lines`` moved by ``change`` (in checkout's shape and order:
    by rate; a rate without tax at 0 %, or left with nothing taxed, is dropped). What the
    lines do not account for (shipping's tax, at checkout's standard rate) stays."""
    key = f"{change.rate:.4f}"
    by_rate = {t["rate"]: dict(t) for t in order.tax_lines}
    entry = by_rate.setdefault(
        key, {"rate": key, "name": change.rate_name, "taxable": "0.00", "tax": "0.00"}
    )
    entry["taxable"] = f"{Decimal(entry['taxable']) + change.paid:.2f}"
    entry["tax"] = f"{Decimal(entry['tax']) + change.tax:.2f}"
    return [
        t
        for rate, t in sorted(by_rate.items(), key=lambda kv: Decimal(kv[0]))
        if (Decimal(t["tax"]) or Decimal(rate)) and (Decimal(t["taxable"]) or Decimal(t["tax"]))
    ]


def changed_units_line(*, line: OrderLine, change: LineChange) -> InvoiceLine:
    """Return the supplementary invoice's or credit note's line for the units an edit added
    to or took off ``line`` (amounts positive): their value, the discount they took off and
    the tax they added or took off."""
    units = abs(change.quantity)
    return {
        "sku": line.sku,
        "description": f"{line.product_name} {line.variant_name}".strip(),
        "quantity": units,
        "unit_price": f"{line.unit_price:.2f}",
        "line_total": f"{money(line.unit_price * units):.2f}",
        "discount": f"{abs(change.discount):.2f}",
        "tax": f"{abs(change.tax):.2f}",
        "tax_rate": f"{change.rate:.4f}",
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
