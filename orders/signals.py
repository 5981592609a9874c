"""Signals the orders app emits, inside the transaction of the change (see below).

order_placed(sender, order_id: int, order_token: str | None)
    ``order_token`` is the guest's secret (None for a member's order): the confirmation
    email links to the order page with it. Only its hash is stored on the order.
order_status_changed(sender, order_id: int, from_status: str, to_status: str, refund_amount: str | None)
    For a cancellation, ``refund_amount`` is the amount refunded (decimal string).
refund_issued(sender, order_id: int, return_id: int, amount: str)
return_requested(sender, order_id: int, return_id: int)
    The customer asked to send lines back: they are emailed the return instructions.
payment_disputed(sender, order_id: int, amount: str, currency: str, reason: str, dispute_id: str)
    The customer disputed the order's payment with their bank (staff must respond).
return_rejected(sender, order_id: int, return_id: int, reason: str)
    The return was refused: the customer is emailed the reason.
payment_link_sent(sender, order_id: int, pay_url: str)
    Staff sent a draft order to its customer: they are emailed the link to pay it
    (``pay_url``, absolute, with its signed token).

Sent synchronously *inside* the transaction that makes the change, so that a receiver's rows
(the notifications outbox) commit with it or not at all. A receiver must therefore write only
to the database, queue anything that leaves it (delivery, HTTP calls) with
``transaction.on_commit``, and expect its exceptions to roll the change back.
"""

from django.dispatch import Signal

order_placed = Signal()
order_status_changed = Signal()
refund_issued = Signal()
return_requested = Signal()
payment_disputed = Signal()
return_rejected = Signal()
payment_link_sent = Signal()
