"""Signals the catalogue emits.

product_updated(sender, product_id: int)
    A product or one of its variants was changed by a catalogue service (update, archive).
    Sent synchronously *inside* the transaction of the change, so that a receiver's rows (the
    webhooks outbox) commit with it or not at all: a receiver writes only to the database,
    queues anything that leaves it with ``transaction.on_commit``, and its exceptions roll the
    change back.
"""

from django.dispatch import Signal

product_updated = Signal()
