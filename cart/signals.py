"""Signals the cart app emits.

cart_abandoned(sender, reminders: list[dict])
    Abandoned-cart reminders are due: ``[{cart_id, email, opt_out_token}]``. Sent inside the
    transaction that marks the carts reminded (``cart.reminders``), so each email's outbox
    row commits with the mark or not at all.

Merges and holds send nothing: they are part of the core flow.
"""

from django.dispatch import Signal

cart_abandoned = Signal()
