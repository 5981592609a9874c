"""Signals the orders app emits, always after the transaction commits.

order_placed(sender, order_id: int)
order_status_changed(sender, order_id: int, from_status: str, to_status: str, refund_amount: str | None)
    For a cancellation, ``refund_amount`` is the amount refunded (decimal string).
refund_issued(sender, order_id: int, return_id: int, amount: str)
"""

from django.dispatch import Signal

order_placed = Signal()
order_status_changed = Signal()
refund_issued = Signal()
