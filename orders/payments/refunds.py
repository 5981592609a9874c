"""Refunding part or all of an order: one gateway refund per charge it is split over, plus one
credit note."""

from collections.abc import Collection
from decimal import Decimal

from cart.pricing.services import release_voucher_use
from orders.errors import PaymentDeclinedError, PaymentError
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
from orders.payments.services import refund_recording_attempts
from shop.money import money


def successful_charges(*, order: Order) -> list[Payment]:
    """Return the order's successful charges, oldest first, one row per provider payment (a
    charge recorded twice under the same transaction id counts once)."""
    charges: list[Payment] = []
    seen: set[str] = set()
    rows = Payment.objects.filter(
        order=order, kind=PaymentKind.CHARGE, result=PaymentResult.SUCCEEDED
    ).order_by("id")
    for row in rows:
        key = row.gateway_transaction_id or f"row-{row.pk}"
        if key not in seen:
            seen.add(key)
            charges.append(row)
    return charges


def charge_balances(
    *, order: Order, excluding: Collection[str] = ()
) -> list[tuple[Payment, Decimal]]:
    """Return the order's successful charges, newest first, each with what is left to refund
    on it: its amount less the succeeded refunds recorded against it.

    A refund counts once per reference (a refund retried under its reference is answered by
    the provider with the first refund); one recorded without its charge counts against the
    first charge (where every refund went before refunds named their charge). ``excluding``:
    references not counted (those of the refund being made, when a rolled-back attempt left
    its rows).
    """
    charges = successful_charges(order=order)
    if not charges:
        return []
    canonical = {c.gateway_transaction_id: c.pk for c in charges if c.gateway_transaction_id}
    rows = Payment.objects.filter(
        order=order, kind=PaymentKind.CHARGE, result=PaymentResult.SUCCEEDED
    ).values_list("pk", "gateway_transaction_id")
    charge_of = {pk: canonical.get(tx, pk) for pk, tx in rows}
    refunded = {c.pk: Decimal("0.00") for c in charges}
    counted: set[str] = set()
    refunds = (
        Payment.objects.filter(order=order, kind=PaymentKind.REFUND, result=PaymentResult.SUCCEEDED)
        .exclude(reference__in=list(excluding))
        .order_by("id")
        .values_list("reference", "amount", "refunded_charge_id")
    )
    for reference, amount, charge_pk in refunds:
        if reference in counted:
            continue
        counted.add(reference)
        key = charge_of.get(charge_pk, charges[0].pk) if charge_pk else charges[0].pk
        refunded[key] = refunded.get(key, Decimal("0.00")) + amount
    return [(c, max(c.amount - refunded[c.pk], Decimal("0.00"))) for c in reversed(charges)]


def refund_references(*, reference: str, count: int) -> list[str]:
    """Return the idempotency references of a refund split over ``count`` charges:
    ``<reference>``, ``<reference>-2``, ``<reference>-3``, ..."""
    return [reference, *(f"{reference}-{n}" for n in range(2, count + 1))]


def refund_across_charges(*, order: Order, amount: Decimal, reference: str) -> list[Payment]:
    """Refund ``amount`` of the order through the gateway, split over its successful charges.

    Newest charge first, each up to what is left on it (``charge_balances``): a later charge
    is the card the customer used most recently for this order (an edit's, taken over the
    phone), the likeliest still valid, and an edit that lowers the total most often takes back
    what the latest edit added. One gateway refund per charge, idempotent per reference
    (``<reference>`` for the first, ``<reference>-2`` ... for the next; ``refund_references``),
    each retried like a charge. A retry after a rollback excludes its own references when
    counting what is left, so it plans the same refunds under the same references and the
    provider answers those already made with their first result: nothing is refunded twice.

    Call it inside the caller's transaction with the order row locked. Raises
    ``PaymentDeclinedError`` when the charges hold less than ``amount`` (nothing is called),
    and the gateway errors of ``refund_with_retries``; the error's ``attempts`` hold every
    row written so far (refunds already made on earlier charges too), for
    ``persist_attempts``. Return the succeeded refund rows. An order without a recorded charge
    is refunded in one call, as before charges were counted.
    """
    charges = successful_charges(order=order)
    references = refund_references(reference=reference, count=max(len(charges), 1))
    plan: list[tuple[Payment | None, Decimal]] = []
    if not charges:
        plan = [(None, amount)]
    else:
        left = amount
        for held, balance in charge_balances(order=order, excluding=references):
            part = min(left, balance)
            if part > 0:
                plan.append((held, part))
                left -= part
        if left > 0:
            raise PaymentDeclinedError(
                f"The order's payments hold only {amount - left} {order.currency} left to "
                f"refund, not {amount}."
            )
    made: list[Payment] = []
    refunds: list[Payment] = []
    for (charge, part), ref in zip(plan, references, strict=False):
        try:
            _, attempts = refund_recording_attempts(
                amount=part,
                currency=order.currency,
                charge_id=charge.gateway_transaction_id if charge else "",
                reference=ref,
                order=order,
                charge=charge,
            )
        except PaymentError as exc:
            exc.attempts = made + exc.attempts
            raise
        made += attempts
        refunds.append(attempts[-1])
    return refunds


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
    """Return the tax per rate of a credit note's (or supplementary invoice's) ``lines``
    (names from the order's ``tax_lines``); the shipping refunded, and the rest of ``tax``
    (its tax), join the order's first rate line."""
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

    Refunds through the gateway across the order's charges (``refund_across_charges``:
    newest first, idempotent per ``reference``, retried like charges), issues one credit note
    for the whole amount, then raises ``refunded_total`` and sets ``payment_status`` (refunded
    or partially refunded) and saves them. Call it inside the caller's transaction with the order
    row locked. A zero amount refunds nothing. Raises the errors of
    ``refund_across_charges``. Return the amount refunded.
    """
    if amount <= 0:
        return Decimal("0.00")
    refund_across_charges(order=order, amount=amount, reference=reference)
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
    *, order: Order, refunded_total: Decimal, transaction_id: str, charge_id: str = ""
) -> Decimal:
    """Record refunds made at the provider outside the shop (e.g. in its dashboard), as its
    ``charge.refunded`` webhook reports them, and return the amount newly recorded.

    ``refunded_total`` is the provider's running total for the charge ``charge_id``; what
    exceeds the refunds recorded against that charge (``charge_balances``; for a charge the
    shop does not know, what exceeds the order's ``refunded_total``) is recorded once, never
    more than is left on the order: a succeeded refund ``Payment`` row against the charge, a
    credit note for that amount, ``refunded_total`` and ``payment_status`` (refunded or
    partially refunded) saved, and a ``refund_issued`` event. Call it inside the caller's
    transaction with the order row locked (the shop's own refunds are recorded under the same
    lock, so they are never counted twice). Returns 0 when nothing is new.
    """
    balances = {c.gateway_transaction_id: (c, left) for c, left in charge_balances(order=order)}
    charge, left_on_charge = balances.get(charge_id, (None, Decimal("0.00")))
    if charge is not None:
        already = charge.amount - left_on_charge
        new = min(refunded_total, charge.amount) - already
        amount = money(min(new, order.total - order.refunded_total))
    else:
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
        refunded_charge=charge,
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
