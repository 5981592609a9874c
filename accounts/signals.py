"""Signals the accounts app emits, always after the transaction commits.

user_registered(sender, user_id: int)
password_reset_requested(sender, user_id: int, uid: str, token: str, reset_url: str)
"""

from django.dispatch import Signal

user_registered = Signal()
password_reset_requested = Signal()
