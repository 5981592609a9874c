from datetime import timedelta

from django import template

from accounts.addresses.rules import country_name as _country_name

register = template.Library()


@register.filter
def minutes(value: timedelta | None) -> int:
    """Return a duration as whole minutes, rounded up (for "try again in N minutes")."""
    if not value:
        return 0
    return max(1, int((value.total_seconds() + 59) // 60))


@register.filter
def country_name(code) -> str:
    """Return the country name of an ISO 3166-1 alpha-2 code (``{{ address.country|country_name }}``)."""
    return _country_name(code)
