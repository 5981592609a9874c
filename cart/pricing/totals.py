"""How a cart's or an order's total is made, in one place for the cart, checkout, invoices
and refunds: ``total = subtotal - discount + shipping + tax``, where tax is ``tax_rate()`` of
what is charged before tax (``subtotal - discount + shipping``), rounded to the cent (half up).
"""

from decimal import Decimal

from django.conf import settings

from shop.money import money


def tax_rate() -> Decimal:
    """Return the tax rate (``SHOP_TAX_RATE``, e.g. ``0.20``)."""
    return Decimal(str(getattr(settings, "SHOP_TAX_RATE", 0)))


def order_totals(
    *, subtotal: Decimal, discount_total: Decimal = Decimal("0.00"), shipping: Decimal
) -> tuple[Decimal, Decimal, Decimal]:
    """Return ``(shipping_total, tax_total, total)``."""
    shipping = money(shipping)
    taxable = money(subtotal) - money(discount_total) + shipping
    tax = money(taxable * tax_rate())
    return shipping, tax, money(taxable + tax)
