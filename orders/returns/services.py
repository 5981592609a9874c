"""Returns (RMA): customers request them on delivered orders; staff receive and refund."""

from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone

from accounts.models import User
from inventory import services as inventory
from inventory.services import StockLine
from orders.errors import (
    InvalidTransition,
    PaymentDeclinedError,
    PaymentUnavailableError,
    ReturnNotAllowed,
    ReturnWindowClosed,
)
from orders.models import (
    Order,
    OrderEvent,
    OrderEventType,
    OrderLine,
    OrderStatus,
    ReturnLine,
    ReturnRequest,
    ReturnStatus,
)
from orders.payments.refunds import credit_line, credit_tax_lines, refund_order
from orders.payments.services import persist_attempts
from orders.signals import refund_issued, return_rejected, return_requested
from shop.money import money

MAX_REASON_LENGTH = 2000


def returnable_quantities(*, order: Order) -> dict[int, int]:
    """Return ``{order_line_id: quantity still returnable}`` (delivered minus requested or
    received returns; rejected returns do not count)."""
    taken = dict(
        ReturnLine.objects.filter(return_request__order=order)
        .exclude(return_request__status=ReturnStatus.REJECTED)
        .values("order_line_id")
        .annotate(q=Sum("quantity"))
        .values_list("order_line_id", "q")
    )
    return {line.pk: line.quantity - taken.get(line.pk, 0) for line in order.lines.all()}


def _parse_lines(lines: object) -> dict[str, int]:
    if not isinstance(lines, list) or not lines:
        raise ValidationError({"lines": ["List at least one line to return."]})
    wanted: dict[str, int] = {}
    for index, item in enumerate(lines):
        sku = item.get("sku") if isinstance(item, dict) else None
        quantity = item.get("quantity") if isinstance(item, dict) else None
        if not isinstance(sku, str) or not sku.strip():
            raise ValidationError({f"lines.{index}.sku": ["This field is required."]})
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
            raise ValidationError({f"lines.{index}.quantity": ["Must be a positive integer."]})
        key = sku.strip().lower()
        wanted[key] = wanted.get(key, 0) + quantity
    return wanted


def return_address_lines() -> list[str]:
    """Return the lines of the address customers send returns to (``SHOP_RETURN_ADDRESS``)."""
    return [part.strip() for part in str(settings.SHOP_RETURN_ADDRESS).split(",") if part.strip()]


def delivered_at(*, order: Order) -> datetime | None:
    """Return when ``order`` was marked delivered (its last move to ``delivered``), if ever."""
    event = (
        order.events.filter(to_status=OrderStatus.DELIVERED).order_by("-created_at", "-id").first()
    )
    return event.created_at if event else None


def return_window_closes_at(*, order: Order) -> datetime | None:
    """Return when the return window of a delivered ``order`` closes (``None``: not delivered).

    The window is ``SHOP_RETURN_WINDOW_DAYS`` days from delivery."""
    delivered = delivered_at(order=order) if order.status == OrderStatus.DELIVERED else None
    if delivered is None:
        return None
    return delivered + timedelta(days=settings.SHOP_RETURN_WINDOW_DAYS)


def can_request_return(*, order: Order) -> bool:
    """Return whether the customer may open a return on ``order`` now: it has been delivered
    and its return window is still open."""
    closes_at = return_window_closes_at(order=order)
    return closes_at is not None and timezone.now() <= closes_at


@transaction.atomic
def request_return(
    *, order: Order, user: User, lines: list[dict], reason: str = ""
) -> ReturnRequest:
    """Open a return of ``lines`` (``[{sku, quantity}]``) of a delivered order.

    Atomic; locks the order row so concurrent requests cannot together exceed what was
    delivered. Raises ``ReturnNotAllowed`` (409) unless the order is ``delivered``,
    ``ReturnWindowClosed`` (400) once ``SHOP_RETURN_WINDOW_DAYS`` have passed since delivery,
    and ``ValidationError`` (400) for unknown SKUs or more than delivered minus already
    returned or requested. Sends ``return_requested`` (the customer is emailed the return
    instructions) in the transaction.
    """
    wanted = _parse_lines(lines)
    if not isinstance(reason, str) or len(reason) > MAX_REASON_LENGTH:
        raise ValidationError({"reason": [f"At most {MAX_REASON_LENGTH} characters."]})
    order = Order.objects.select_for_update().get(pk=order.pk)
    if order.status != OrderStatus.DELIVERED:
        raise ReturnNotAllowed("Only delivered orders can be returned.")
    if not can_request_return(order=order):
        days = settings.SHOP_RETURN_WINDOW_DAYS
        raise ReturnWindowClosed(f"Returns are accepted up to {days} days after delivery.")
    by_sku = {line.sku.lower(): line for line in order.lines.all()}
    left = returnable_quantities(order=order)
    errors: dict[str, list[str]] = {}
    for sku, quantity in wanted.items():
        line = by_sku.get(sku)
        if line is None:
            errors.setdefault("lines", []).append(f"{sku} is not part of this order.")
        elif quantity > left[line.pk]:
            errors.setdefault("lines", []).append(
                f"At most {left[line.pk]} of {line.sku} can still be returned."
            )
    if errors:
        raise ValidationError(errors)
    request = ReturnRequest.objects.create(order=order, reason=reason.strip())
    ReturnLine.objects.bulk_create(
        [
            ReturnLine(return_request=request, order_line=by_sku[sku], quantity=quantity)
            for sku, quantity in wanted.items()
        ]
    )
    OrderEvent.objects.create(
        order=order,
        type=OrderEventType.RETURN_REQUESTED,
        user=user,
        note=f"Return #{request.pk} requested.",
    )
    return_requested.send(sender=ReturnRequest, order_id=order.pk, return_id=request.pk)
    return request


def _receive(return_request: ReturnRequest, user: User) -> tuple[ReturnRequest, Decimal]:
    order = Order.objects.select_for_update().get(pk=return_request.order_id)
    request = ReturnRequest.objects.select_for_update().get(pk=return_request.pk)
    if request.status != ReturnStatus.REQUESTED:
        raise InvalidTransition(request.status, ReturnStatus.REFUNDED)
    rlines = list(request.lines.select_related("order_line"))
    inventory.receive_return(
        lines=[
            StockLine(r.order_line.variant_id, r.quantity, r.order_line.sku)
            for r in rlines
            if r.order_line.variant_id is not None
        ],
        order_number=order.number,
        user=user,
    )
    credits = [credit_line(line=r.order_line, quantity=r.quantity) for r in rlines]
    subtotal = money(sum((r.order_line.unit_price * r.quantity for r in rlines), Decimal(0)))
    # What was paid for the units back: their value less their part of the discount.
    discount = money(sum((Decimal(c.get("discount", "0")) for c in credits), Decimal(0)))
    # Their tax: each line's tax shared like its discount (rounded per line at checkout).
    tax = money(sum((Decimal(c.get("tax", "0")) for c in credits), Decimal(0)))
    for r in rlines:
        OrderLine.objects.filter(pk=r.order_line_id).update(
            returned_quantity=r.order_line.returned_quantity + r.quantity
        )
    everything_back = not OrderLine.objects.filter(
        order=order, returned_quantity__lt=F("quantity")
    ).exists()
    shipping = order.shipping_total if everything_back else Decimal("0.00")
    if everything_back:
        line_taxes = OrderLine.objects.filter(order=order).aggregate(t=Sum("tax"))["t"] or 0
        tax += order.tax_total - line_taxes  # the shipping's tax
    paid = subtotal - discount + shipping
    amount = min(
        money(paid if order.prices_include_tax else paid + tax),
        order.total - order.refunded_total,
    )
    if everything_back:
        amount = order.total - order.refunded_total
    refund_order(
        order=order,
        amount=amount,
        reference=f"{order.number}-R{request.pk}",
        lines=credits,
        subtotal=subtotal,
        discount_total=discount,
        shipping_total=shipping,
        tax_total=tax,
        tax_lines=credit_tax_lines(order=order, lines=credits, shipping=shipping, tax=tax),
    )
    request.status = ReturnStatus.REFUNDED
    request.refund_amount = amount
    request.received_at = timezone.now()
    request.received_by = user
    request.save(update_fields=["status", "refund_amount", "received_at", "received_by"])
    OrderEvent.objects.create(
        order=order,
        type=OrderEventType.REFUND_ISSUED,
        user=user,
        note=f"Return #{request.pk} received; refunded {amount} {order.currency}.",
    )
    refund_issued.send(
        sender=Order, order_id=order.pk, return_id=request.pk, amount=f"{amount:.2f}"
    )
    return request, amount


def receive_return(*, return_request: ReturnRequest, user: User) -> ReturnRequest:
    """Receive the returned items: restock them, refund their value, issue a credit note.

    Atomic; locks the order row, then the return row, then (inside inventory) the stock rows
    in variant order. The refund is the returned units' share of their lines' value, discount
    and tax (each line's own tax, as charged at checkout); the return that brings back the
    last unit refunds the whole remaining balance (shipping and its tax included). ``payment_status`` becomes ``partially_refunded`` or ``refunded``;
    ``refund_issued`` is sent inside the transaction. Raises ``InvalidTransition`` (409) if the return
    was already processed and ``PaymentUnavailableError`` (503) if the refund cannot go
    through (nothing changes; the attempts stay recorded).
    """
    try:
        with transaction.atomic():
            request, _ = _receive(return_request, user)
    except (PaymentDeclinedError, PaymentUnavailableError) as exc:
        persist_attempts(attempts=exc.attempts)
        raise
    return request


@transaction.atomic
def reject_return(*, return_request: ReturnRequest, user: User, reason: str) -> ReturnRequest:
    """Refuse a requested return with ``reason``; the customer is emailed the reason.

    Atomic; locks the order row, then the return row (the order ``receive_return`` uses).
    Nothing is restocked or refunded; the rejected lines become returnable again. Records a
    ``return_rejected`` event and sends ``return_rejected`` inside the transaction (the
    notifications outbox writes the email with it). Raises ``ValidationError`` (400) for an
    empty or overlong reason and ``InvalidTransition`` (409) unless the return is
    ``requested``.
    """
    reason = reason.strip() if isinstance(reason, str) else ""
    if not reason:
        raise ValidationError({"reason": ["Say why the return is rejected."]})
    if len(reason) > MAX_REASON_LENGTH:
        raise ValidationError({"reason": [f"At most {MAX_REASON_LENGTH} characters."]})
    order = Order.objects.select_for_update().get(pk=return_request.order_id)
    request = ReturnRequest.objects.select_for_update().get(pk=return_request.pk)
    if request.status != ReturnStatus.REQUESTED:
        raise InvalidTransition(request.status, ReturnStatus.REJECTED)
    request.status = ReturnStatus.REJECTED
    request.rejection_reason = reason
    request.rejected_at = timezone.now()
    request.rejected_by = user
    request.save(update_fields=["status", "rejection_reason", "rejected_at", "rejected_by"])
    OrderEvent.objects.create(
        order=order,
        type=OrderEventType.RETURN_REJECTED,
        user=user,
        note=f"Return #{request.pk} rejected: {reason}",
    )
    return_rejected.send(sender=Order, order_id=order.pk, return_id=request.pk, reason=reason)
    return request
