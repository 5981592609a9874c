"""Stable error codes of the notifications app and its domain exceptions."""

from enum import StrEnum

from shop.errors import DomainError


class NotificationErrorCode(StrEnum):
    NOT_RESENDABLE = "notification_not_resendable"


class NotificationNotResendable(DomainError):
    """The notification cannot be sent again (in flight, or its one-time link was erased)."""

    code = NotificationErrorCode.NOT_RESENDABLE
    status_code = 409
    default_detail = "This notification cannot be resent."
