"""Pricing settings read at checkout and when invoicing."""

from decimal import Decimal

from django.conf import settings


def tax_rate() -> Decimal:
    """Return the tax rate on invoices (``SHOP_TAX_RATE``, e.g. ``0.20``)."""
    return Decimal(str(getattr(settings, "SHOP_TAX_RATE", 0)))
