"""Invoices (issued at placement, and a supplementary one with each edit that raises the
total) and credit notes (issued with each refund).

Numbers are sequential and gap-free per kind: the ``InvoiceCounter`` row of the kind is
locked (``select_for_update``) in the caller's transaction, so a rolled-back order gives its
number back and concurrent checkouts are numbered one after another.
"""

from decimal import Decimal
from typing import NotRequired, TypedDict

from django.db import IntegrityError, transaction
from django.db.models import Max

from orders.models import Invoice, InvoiceCounter, InvoiceKind, Order

PREFIX = {InvoiceKind.INVOICE: "INV", InvoiceKind.CREDIT_NOTE: "CN"}


class InvoiceLine(TypedDict):
    """One line of an invoice or credit note, as stored in ``Invoice.lines`` (JSON)."""

    sku: str
    description: str
    quantity: int
    unit_price: str  # "12.50"
    line_total: str  # before the discount
    discount: NotRequired[str]  # this line's share of the discount ("0.00" for none)
    tax: NotRequired[str]  # the line's tax, rounded per line
    tax_rate: NotRequired[str]  # "0.2000"


def _next_sequence(kind: InvoiceKind) -> int:
    counter = InvoiceCounter.objects.select_for_update().filter(kind=kind).first()
    if counter is None:
        start = Invoice.objects.filter(kind=kind).aggregate(m=Max("sequence"))["m"] or 0
        try:
            with transaction.atomic():
                InvoiceCounter.objects.create(kind=kind, value=start)
        except IntegrityError:
            pass  # another transaction created it first; lock theirs below
        counter = InvoiceCounter.objects.select_for_update().get(kind=kind)
    counter.value += 1
    InvoiceCounter.objects.filter(pk=counter.pk).update(value=counter.value)
    return counter.value


def _issue(
    *,
    order: Order,
    kind: InvoiceKind,
    lines: list[InvoiceLine],
    subtotal: Decimal,
    shipping_total: Decimal,
    tax_total: Decimal,
    total: Decimal,
    tax_rate: Decimal,
    discount_total: Decimal = Decimal("0.00"),
    tax_lines: list[dict] | None = None,
) -> Invoice:
    sequence = _next_sequence(kind)
    return Invoice.objects.create(
        order=order,
        kind=kind,
        number=f"{PREFIX[kind]}-{sequence:06d}",
        sequence=sequence,
        lines=lines,
        subtotal=subtotal,
        discount_total=discount_total,
        shipping_total=shipping_total,
        tax_rate=tax_rate,
        tax_total=tax_total,
        tax_lines=tax_lines or [],
        total=total,
        currency=order.currency,
    )


@transaction.atomic
def issue_invoice(*, order: Order, tax_rate: Decimal) -> Invoice:
    """Issue the order's invoice (lines and totals copied from the order).

    Atomic; locks the invoice counter row. Call it in the transaction that creates the order.
    """
    lines: list[InvoiceLine] = [
        {
            "sku": line.sku,
            "description": f"{line.product_name} {line.variant_name}".strip(),
            "quantity": line.quantity,
            "unit_price": f"{line.unit_price:.2f}",
            "line_total": f"{line.line_total:.2f}",
            "discount": f"{line.discount:.2f}",
            "tax": f"{line.tax:.2f}",
            "tax_rate": f"{line.tax_rate:.4f}",
        }
        for line in order.lines.all()
    ]
    return _issue(
        order=order,
        kind=InvoiceKind.INVOICE,
        lines=lines,
        subtotal=order.subtotal,
        discount_total=order.discount_total,
        shipping_total=order.shipping_total,
        tax_total=order.tax_total,
        total=order.total,
        tax_rate=tax_rate,
        tax_lines=order.tax_lines,
    )


@transaction.atomic
def issue_supplementary_invoice(
    *,
    order: Order,
    lines: list[InvoiceLine],
    subtotal: Decimal,
    tax_total: Decimal,
    total: Decimal,
    tax_rate: Decimal,
    tax_lines: list[dict],
) -> Invoice:
    """Issue an invoice for what an edit added to a placed order (``lines``: the units added;
    ``subtotal``: their value; ``total``: what was charged for them, tax included;
    ``tax_rate`` and ``tax_lines``: the rate they were taxed at and the tax per rate, as
    ``Order.tax_lines``), numbered in the invoices' sequence.

    Atomic; locks the invoice counter row.
    """
    return _issue(
        order=order,
        kind=InvoiceKind.INVOICE,
        lines=lines,
        subtotal=subtotal,
        shipping_total=Decimal("0.00"),
        tax_total=tax_total,
        total=total,
        tax_rate=tax_rate,
        tax_lines=tax_lines,
    )


@transaction.atomic
def issue_credit_note(
    *,
    order: Order,
    lines: list[InvoiceLine],
    subtotal: Decimal,
    shipping_total: Decimal,
    tax_total: Decimal,
    total: Decimal,
    discount_total: Decimal = Decimal("0.00"),
    tax_lines: list[dict] | None = None,
) -> Invoice:
    """Issue a credit note for a refund of ``total`` (amounts are positive; ``subtotal`` is
    before ``discount_total``).

    Atomic; locks the credit-note counter row.
    """
    invoice = order.invoices.filter(kind=InvoiceKind.INVOICE).first()
    return _issue(
        order=order,
        kind=InvoiceKind.CREDIT_NOTE,
        lines=lines,
        subtotal=subtotal,
        shipping_total=shipping_total,
        tax_total=tax_total,
        total=total,
        tax_rate=invoice.tax_rate if invoice else Decimal("0"),
        discount_total=discount_total,
        tax_lines=tax_lines,
    )
