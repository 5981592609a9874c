"""Stable error codes of the accounts app and its domain exceptions.

Field-level problems are raised as Django ``ValidationError`` with one of the codes below
(the API answers ``400 validation_error`` with ``errors.<field>``); rules that are not about
one field are :class:`DomainError` subclasses.
"""

from enum import StrEnum

from shop.errors import DomainError


class AccountErrorCode(StrEnum):
    # Carried by ValidationError(code=...), per field.
    EMAIL_TAKEN = "email_taken"
    INVALID_COUNTRY = "invalid_country"
    WRONG_PASSWORD = "wrong_password"
    INVALID_RESET_LINK = "invalid_reset_link"
    DEFAULT_ADDRESS_REQUIRED = "default_address_required"
    # The sign-in form's own errors (HTML only).
    INVALID_LOGIN = "invalid_login"
    LOCKED_OUT = "locked_out"
    # Domain exceptions (API error bodies).
    PASSWORD_CHANGE_REQUIRED = "password_change_required"
    ACCOUNT_LOCKED = "account_locked"


class PasswordChangeRequired(DomainError):
    code = AccountErrorCode.PASSWORD_CHANGE_REQUIRED
    status_code = 403
    default_detail = "You must change your password before continuing."


class AccountLocked(DomainError):
    """Too many failed sign-ins for this account or from this IP address (django-axes)."""

    code = AccountErrorCode.ACCOUNT_LOCKED
    status_code = 429
    default_detail = "Too many failed sign-in attempts. Please try again later."
