"""Template filters every app's pages and emails share: times in the shop's time zone."""

import re
from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.dateformat import format as date_format

register = template.Library()

_NUMERIC_ABBREVIATION = re.compile(r"^[+-]\d+$")


def zone_label(value: datetime) -> str:
    """Return the name shoppers read for the shop's time zone at ``value``: its abbreviation
    ("CET", "EST", "UTC"), or the IANA name where the zone has none ("+03")."""
    abbreviation = value.tzname() or ""
    if not abbreviation or _NUMERIC_ABBREVIATION.match(abbreviation):
        return str(timezone.get_current_timezone_name())
    return abbreviation


@register.filter
def shop_datetime(value: datetime | None, fmt: str = "j M Y, H:i") -> str:
    """Return ``value`` in the shop's time zone (``SHOP_TIME_ZONE``) followed by the zone's
    name: ``1 Dec 2026, 13:05 CET``. ``fmt`` is a ``date`` filter format."""
    if not isinstance(value, datetime):
        return ""
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    return f"{date_format(local, fmt)} {zone_label(local)}"
