"""Pricing settings read at checkout and when invoicing (the rule lives in
``cart.pricing.totals``, where the cart can price itself too)."""

from cart.pricing.totals import tax_rate

__all__ = ["tax_rate"]
