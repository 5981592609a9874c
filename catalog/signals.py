"""Signals the catalogue emits (the notifications app listens; catalog never imports it).

review_submitted(sender, review_id: int)
    A review waits for moderation (``SHOP_REVIEWS_MODERATED``). Sent inside the transaction
    that wrote it, so the staff email's outbox row commits with the review or not at all.

back_in_stock(sender, alert_ids: list[int])
    These back-in-stock alerts are due: their variant can be bought again. Sent inside the
    transaction that marks them notified (one batch, ``SHOP_STOCK_ALERT_BATCH`` at most), so
    each alert gets exactly one email row.

product_updated(sender, product_id: int)
    A product or one of its variants was changed by a catalogue service (update, archive).
    Sent synchronously *inside* the transaction of the change, so that a receiver's rows (the
    webhooks outbox) commit with it or not at all: a receiver writes only to the database,
    queues anything that leaves it with ``transaction.on_commit``, and its exceptions roll the
    change back.
"""

from django.dispatch import Signal

product_updated = Signal()
review_submitted = Signal()
back_in_stock = Signal()
