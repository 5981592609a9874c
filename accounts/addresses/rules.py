"""What an address is: its fields with their limits, and the one country rule.

A country is an ISO 3166-1 alpha-2 code (the 249 assigned ones, as django-countries lists
them), accepted in any case and kept upper-case. Nothing else (no alpha-3, no names, no
user-assigned codes such as ``ZZ``) is a country.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.core.exceptions import ValidationError
from django_countries import countries, countries_context

from accounts.errors import AccountErrorCode

COUNTRY_MESSAGE = "Enter a two-letter ISO 3166-1 country code, e.g. US or DE."


@dataclass(frozen=True)
class AddressField:
    """One field of an address: its label, whether it is required, its length limit and the
    HTML ``autocomplete`` token that lets browsers fill it in."""

    name: str
    label: str
    required: bool
    max_length: int
    autocomplete: str


ADDRESS_FIELDS: tuple[AddressField, ...] = (
    AddressField("full_name", "Full name", True, 200, "name"),
    AddressField("line1", "Address line 1", True, 200, "address-line1"),
    AddressField("line2", "Address line 2", False, 200, "address-line2"),
    AddressField("city", "City", True, 100, "address-level2"),
    AddressField("postal_code", "Postal code", True, 20, "postal-code"),
    AddressField("country", "Country", True, 2, "country"),
    AddressField("phone", "Phone", False, 32, "tel"),
)
ADDRESS_FIELD_NAMES: tuple[str, ...] = tuple(field.name for field in ADDRESS_FIELDS)
FIELDS_BY_NAME: dict[str, AddressField] = {field.name: field for field in ADDRESS_FIELDS}


class HasAddress(Protocol):
    full_name: str
    line1: str
    line2: str
    city: str
    postal_code: str
    country: str
    phone: str


def is_country_code(value: object) -> bool:
    """Return whether ``value`` is an assigned ISO 3166-1 alpha-2 code (upper case)."""
    return isinstance(value, str) and len(value) == 2 and value in countries


def normalize_country(value: str | None) -> str:
    """Return ``value`` as an upper-case ISO 3166-1 alpha-2 code.

    Raises ``ValidationError`` (code ``invalid_country``) for anything else.
    """
    code = (value or "").strip().upper() if isinstance(value, str | None) else ""
    if not is_country_code(code):
        raise ValidationError(COUNTRY_MESSAGE, code=AccountErrorCode.INVALID_COUNTRY)
    return code


def country_name(code: object) -> str:
    """Return the name of the country with ISO code ``code`` ("GB" -> "United Kingdom"), or
    ``code`` itself when it is not one (an old snapshot keeps whatever it recorded)."""
    text = str(code or "").strip()
    if is_country_code(text.upper()):
        return str(countries.name(text.upper()))
    return text


def shipping_countries() -> list[str]:
    """Return the codes of ``SHOP_SHIPPING_COUNTRIES`` (upper case, unknown codes dropped)."""
    codes = [str(code).strip().upper() for code in settings.SHOP_SHIPPING_COUNTRIES]
    return [code for code in dict.fromkeys(codes) if is_country_code(code)]


def country_choices() -> list[tuple[str, str]]:
    """Return ``(code, name)`` for every country: the shipping countries first, in their
    configured order, then the others sorted by name (in the active language)."""
    with countries_context(
        first=shipping_countries(),
        first_sort=False,
        first_repeat=False,
        first_break=None,
        first_by_language={},
        first_auto_detect=False,
    ):
        return [(code, str(name)) for code, name in countries]


def clean_address(data: Mapping[str, object]) -> dict[str, str]:
    """Return the complete, cleaned address in ``data`` (every field, stripped strings).

    A missing or ``None`` optional field is ``""``; the country comes back upper-case.
    Raises ``ValidationError`` keyed by field name for a value that is not a string, a
    required field that is blank, a value over its limit or a country that is not an
    ISO 3166-1 alpha-2 code.
    """
    errors: dict[str, list] = {}
    clean: dict[str, str] = {}
    for field in ADDRESS_FIELDS:
        value = data.get(field.name)
        if value is None:
            value = ""
        if not isinstance(value, str):
            errors[field.name] = ["Must be a string."]
            continue
        value = value.strip()
        if field.required and not value:
            errors[field.name] = ["This field is required."]
            continue
        if field.name == "country":
            try:
                value = normalize_country(value)
            except ValidationError as exc:
                errors[field.name] = exc.error_list
                continue
        elif len(value) > field.max_length:
            errors[field.name] = [f"At most {field.max_length} characters."]
            continue
        clean[field.name] = value
    if errors:
        raise ValidationError(errors)
    return clean


def address_snapshot(address: HasAddress) -> dict[str, str]:
    """Return the address fields of a saved address as a plain dict (an order's snapshot)."""
    return {name: getattr(address, name) for name in ADDRESS_FIELD_NAMES}
