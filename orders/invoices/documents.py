"""What an invoice or credit note says, read from its stored record (the one reader).

``Invoice`` rows are immutable financial records, so a document is rendered on demand from
the row and is the same every time (no files are stored). Everything the PDF, the printable
page and the admin show comes from ``invoice_document``: it reads the stored lines and
totals generically, so fields added by pricing (a discount per line or in total, tax per
rate) are shown when the record holds them and left out when it does not.
"""

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from accounts.addresses.rules import country_name
from orders.models import Invoice, InvoiceKind, Order

TITLES = {InvoiceKind.INVOICE: "Invoice", InvoiceKind.CREDIT_NOTE: "Credit note"}
CENT = Decimal("0.01")


def _amount(value: Any) -> Decimal | None:
    """Return ``value`` as a two-place Decimal, or None when it is absent or not a number."""
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value)).quantize(CENT)
    except (InvalidOperation, ValueError):
        return None


@dataclass(frozen=True)
class DocumentLine:
    sku: str
    description: str
    quantity: int
    unit_price: Decimal
    line_total: Decimal
    discount: Decimal | None = None  # the part of the discount spread over this line


@dataclass(frozen=True)
class TaxAmount:
    rate: Decimal  # 0.2000 for 20 %
    tax: Decimal
    base: Decimal | None = None  # the taxed amount, when the record states it

    @property
    def percent(self) -> str:
        """Return the rate as a percentage without trailing zeros ("20", "5.5")."""
        text = f"{(self.rate * 100).quantize(Decimal('0.01')):f}"
        return text.rstrip("0").rstrip(".") if "." in text else text


@dataclass(frozen=True)
class Party:
    name: str
    address_lines: list[str]
    tax_id: str = ""
    email: str = ""


@dataclass(frozen=True)
class InvoiceDocument:
    kind: str
    title: str
    number: str
    issued_on: str  # the date in SHOP_TIME_ZONE, ISO format
    order_number: str
    currency: str
    seller: Party
    buyer: Party
    lines: list[DocumentLine]
    subtotal: Decimal
    discount: Decimal | None
    shipping: Decimal
    taxes: list[TaxAmount]
    tax_total: Decimal
    total: Decimal
    prices_include_tax: bool = False
    refers_to: str = ""  # a credit note's invoice number
    supplements: str = ""  # a supplementary invoice's (an edit's) first invoice number

    @property
    def filename(self) -> str:
        return f"{self.number}.pdf"


def seller() -> Party:
    """Return the seller as the law wants it on an invoice (``SHOP_LEGAL_*`` settings)."""
    address = [part.strip() for part in settings.SHOP_LEGAL_ADDRESS.split(",") if part.strip()]
    return Party(name=settings.SHOP_LEGAL_NAME, address_lines=address, tax_id=settings.SHOP_TAX_ID)


def buyer(order: Order) -> Party:
    """Return the buyer from the order's address snapshot (the bill-to on the document)."""
    address = order.shipping_address or {}
    billing = getattr(order, "billing_address", None) or address
    city = " ".join(p for p in (billing.get("postal_code"), billing.get("city")) if p)
    lines = [billing.get("line1"), billing.get("line2"), city, country_name(billing.get("country"))]
    return Party(
        name=billing.get("full_name", "") or order.email,
        address_lines=[str(line) for line in lines if line],
        tax_id=str(billing.get("tax_id", "") or ""),
        email=order.email,
    )


def _lines(invoice: Invoice) -> list[DocumentLine]:
    lines = []
    for raw in invoice.lines or []:
        lines.append(
            DocumentLine(
                sku=str(raw.get("sku", "")),
                description=str(raw.get("description", "")),
                quantity=int(raw.get("quantity", 0)),
                unit_price=_amount(raw.get("unit_price")) or Decimal("0.00"),
                line_total=_amount(raw.get("line_total")) or Decimal("0.00"),
                discount=_amount(raw.get("discount")) or None,
            )
        )
    return lines


def _discount(invoice: Invoice, lines: list[DocumentLine]) -> Decimal | None:
    """Return the discount of the document: its own total when stored, else the sum of the
    lines' shares; None when there is none."""
    stored = _amount(getattr(invoice, "discount_total", None))
    if not stored:
        shares = [line.discount for line in lines if line.discount]
        stored = sum(shares, Decimal("0.00")) if shares else None
    return stored if stored else None


def _rate(value: Any) -> Decimal:
    """Return a tax rate as a fraction (0.2); a stored percentage (20) is divided by 100."""
    try:
        rate = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return Decimal("0")
    return rate / 100 if rate > 1 else rate


def _taxes(invoice: Invoice) -> list[TaxAmount]:
    """Return the tax per rate: the stored breakdown when the record has one (a list of
    ``{rate, tax|amount, taxable|base|net}``: ``tax_lines`` as checkout stores them), else the
    single rate and total of the record."""
    breakdown = getattr(invoice, "tax_lines", None) or getattr(invoice, "tax_breakdown", None)
    if isinstance(breakdown, dict):
        breakdown = [{"rate": rate, "tax": tax} for rate, tax in breakdown.items()]
    if isinstance(breakdown, list) and breakdown:
        taxes = []
        for raw in breakdown:
            tax = _amount(raw.get("tax", raw.get("amount")))
            if tax is None:
                continue
            rate = _rate(raw.get("rate"))
            base = _amount(raw.get("taxable", raw.get("base", raw.get("net"))))
            taxes.append(TaxAmount(rate=rate, tax=tax, base=base))
        return taxes
    if invoice.tax_total or invoice.tax_rate:
        return [TaxAmount(rate=Decimal(invoice.tax_rate), tax=Decimal(invoice.tax_total))]
    return []


def _issued_on(invoice: Invoice) -> str:
    zone = ZoneInfo(getattr(settings, "SHOP_TIME_ZONE", "") or settings.TIME_ZONE)
    return timezone.localtime(invoice.issued_at, zone).date().isoformat()


def invoice_document(
    *, invoice: Invoice, refers_to: str = "", supplements: str = ""
) -> InvoiceDocument:
    """Return what ``invoice`` (an invoice or a credit note) says, from its stored record.

    Reads ``invoice.order`` (select it with the invoice); no other query. Deterministic: the
    same record gives the same document (dates in ``SHOP_TIME_ZONE``).
    """
    lines = _lines(invoice)
    return InvoiceDocument(
        kind=invoice.kind,
        title="Supplementary invoice"
        if supplements
        else TITLES.get(InvoiceKind(invoice.kind), "Invoice"),
        number=invoice.number,
        issued_on=_issued_on(invoice),
        order_number=invoice.order.number,
        currency=invoice.currency,
        seller=seller(),
        buyer=buyer(invoice.order),
        lines=lines,
        subtotal=Decimal(invoice.subtotal),
        discount=_discount(invoice, lines),
        shipping=Decimal(invoice.shipping_total),
        taxes=_taxes(invoice),
        tax_total=Decimal(invoice.tax_total),
        total=Decimal(invoice.total),
        prices_include_tax=bool(getattr(invoice, "prices_include_tax", False)),
        refers_to=refers_to,
        supplements=supplements,
    )


def order_documents(*, order: Order) -> QuerySet[Invoice]:
    """Return the order's invoice and credit notes, oldest first, with their order."""
    # Not ``order.invoices``: on an order fetched with a narrowed prefetch of its invoices the
    # related manager would hand back that (deferred-field) queryset.
    return Invoice.objects.filter(order=order).select_related("order").order_by("issued_at", "id")


def order_invoice(*, order: Order) -> Invoice | None:
    """Return the order's invoice (None before one is issued)."""
    return order_documents(order=order).filter(kind=InvoiceKind.INVOICE).first()


def order_supplementary_invoices(*, order: Order) -> QuerySet[Invoice]:
    """Return the invoices of the order's edits that raised its total, oldest first (every
    invoice after its first)."""
    first = order_invoice(order=order)
    invoices = order_documents(order=order).filter(kind=InvoiceKind.INVOICE)
    return invoices.exclude(pk=first.pk) if first else invoices.none()


def order_credit_notes(*, order: Order) -> QuerySet[Invoice]:
    """Return the order's credit notes, oldest first."""
    return order_documents(order=order).filter(kind=InvoiceKind.CREDIT_NOTE)


def document_for(*, invoice: Invoice) -> InvoiceDocument:
    """Return the document of ``invoice``; a credit note names the invoice it corrects, a
    supplementary invoice the one it adds to."""
    original = order_invoice(order=invoice.order)
    if invoice.kind == InvoiceKind.CREDIT_NOTE:
        return invoice_document(invoice=invoice, refers_to=original.number if original else "")
    if original is not None and original.pk != invoice.pk:
        return invoice_document(invoice=invoice, supplements=original.number)
    return invoice_document(invoice=invoice)
