"""Signals the accounts app emits, inside the transaction of the change (see below).

user_registered(sender, user_id: int)
password_reset_requested(sender, user_id: int, uid: str, token: str, reset_url: str)

Sent synchronously *inside* the transaction that makes the change, so that a receiver's rows
(the notifications outbox) commit with it or not at all. A receiver must therefore write only
to the database, queue anything that leaves it (delivery, HTTP calls) with
``transaction.on_commit``, and expect its exceptions to roll the change back.
"""

from django.dispatch import Signal

user_registered = Signal()
password_reset_requested = Signal()
