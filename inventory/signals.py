"""Signals the inventory app emits, always after the transaction commits.

stock_low(sender, stock_item_id: int, sku: str, available: int)
    A sale or adjustment took the SKU's available quantity to or below its threshold.
    Sent at most once per SKU until it is restocked above the threshold.
"""

from django.dispatch import Signal

stock_low = Signal()
