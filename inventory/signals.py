"""Signals the inventory app emits.

stock_low(sender, stock_item_id: int, sku: str, available: int)
    A sale or adjustment took the SKU's available quantity to or below its threshold.
    Sent at most once per SKU until it is restocked above the threshold, synchronously
    *inside* the stock transaction (under the stock row locks), so that a receiver's rows (the
    notifications outbox) commit with the change or not at all: a receiver writes only to the
    database, queues anything that leaves it with ``transaction.on_commit``, and its
    exceptions roll the change back.

stock_changed(sender)
    Stock or holds changed (hold, release, allocate, ship, adjust, ...), so what shoppers can
    buy may have changed (allocate and deallocate send it only when a variant's stock hint,
    sold out / low / in stock, changed: shoppers see nothing else). The writers use ``.update()``, which sends no model signals; this
    is the one notice, sent once per transaction *after it commits* (a cache must not see
    uncommitted stock). The catalogue listens to refresh its cache.
"""

from django.db import transaction
from django.dispatch import Signal

from inventory.models import StockItem

stock_low = Signal()
stock_changed = Signal()


def _send_stock_changed() -> None:
    stock_changed.send(sender=StockItem)


def stock_change_pending(using: str | None = None) -> bool:
    """Return whether this connection's open transaction has a ``stock_changed`` to send.

    Until it commits the change may still be rolled back: a cache must not store what this
    connection reads meanwhile.
    """
    connection = transaction.get_connection(using)
    return connection.in_atomic_block and any(
        func is _send_stock_changed for _, func, *_rest in connection.run_on_commit
    )


def send_stock_changed(using: str | None = None) -> None:
    """Send ``stock_changed`` once the current transaction commits (at once outside one).

    Several calls in one transaction send it once; nothing is sent if it rolls back. A failing
    receiver is logged, never raised to the writer (its transaction has committed).
    """
    if stock_change_pending(using):
        return
    transaction.on_commit(_send_stock_changed, using=using, robust=True)
