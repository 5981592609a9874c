"""Stable error codes of the accounts app.

Field-level problems are raised as Django ``ValidationError`` with one of the codes below
(the API answers ``400 validation_error`` with ``errors.<field>``); rules that are not about
one field are :class:`DomainError` subclasses.
"""

from shop.errors import DomainError

# Codes carried by ValidationError(code=...), per field.
EMAIL_TAKEN = "email_taken"
INVALID_COUNTRY = "invalid_country"
WRONG_PASSWORD = "wrong_password"
INVALID_RESET_LINK = "invalid_reset_link"
DEFAULT_ADDRESS_REQUIRED = "default_address_required"


class PasswordChangeRequired(DomainError):
    code = "password_change_required"
    status_code = 403
    default_detail = "You must change your password before continuing."


class AccountLocked(DomainError):
    """Too many failed sign-ins for this account or from this IP address (django-axes)."""

    code = "account_locked"
    status_code = 429
    default_detail = "Too many failed sign-in attempts. Please try again later."
