"""The one HTML address form, used by the address book and composed by the checkout form."""

from django import forms
from django.core.exceptions import ValidationError

from accounts.addresses.rules import (
    ADDRESS_FIELD_NAMES,
    COUNTRY_MESSAGE,
    FIELDS_BY_NAME,
    country_choices,
    is_country_code,
)
from accounts.errors import AccountErrorCode
from accounts.forms import AccessibleFormMixin

BLANK_COUNTRY = ("", "Choose a country")


def _choices_with_blank() -> list[tuple[str, str]]:
    return [BLANK_COUNTRY, *country_choices()]


class CountryChoiceField(forms.ChoiceField):
    """A ``<select>`` of country names whose values are ISO 3166-1 alpha-2 codes.

    The shop's shipping countries come first. A submitted code is accepted in any case and
    cleaned to upper case; anything that is not an ISO code is refused with the same message
    and code (``invalid_country``) as everywhere else.
    """

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("choices", _choices_with_blank)  # a callable: read at each rendering
        kwargs.setdefault("widget", forms.Select(attrs={"autocomplete": "country"}))
        super().__init__(**kwargs)

    def to_python(self, value) -> str:
        return super().to_python(value).strip().upper()

    def prepare_value(self, value):
        # Keep a code submitted in lower case selected when the form is shown again.
        return value.strip().upper() if isinstance(value, str) else value

    def validate(self, value: str) -> None:
        forms.Field.validate(self, value)  # "required"; the country rule replaces the choices
        if value and not is_country_code(value):
            raise ValidationError(COUNTRY_MESSAGE, code=AccountErrorCode.INVALID_COUNTRY)


def address_char_field(name: str, **widget_attrs) -> forms.CharField:
    """Return the form field for address field ``name`` (label, limit, autocomplete token)."""
    spec = FIELDS_BY_NAME[name]
    return forms.CharField(
        label=spec.label,
        max_length=spec.max_length,
        required=spec.required,
        widget=forms.TextInput(attrs={"autocomplete": spec.autocomplete, **widget_attrs}),
    )


class AddressForm(AccessibleFormMixin, forms.Form):
    """The fields of an address (``accounts.addresses.rules.ADDRESS_FIELDS``).

    ``autocomplete_section`` (e.g. ``"shipping"``) prefixes every ``autocomplete`` token, so
    browsers fill in the right address of the shopper's.
    """

    full_name = address_char_field("full_name")
    line1 = address_char_field("line1")
    line2 = address_char_field("line2")
    city = address_char_field("city")
    postal_code = address_char_field("postal_code")
    country = CountryChoiceField(label=FIELDS_BY_NAME["country"].label)
    phone = address_char_field("phone", type="tel")

    def __init__(self, *args, autocomplete_section: str = "", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if autocomplete_section:
            for name in ADDRESS_FIELD_NAMES:
                attrs = self.fields[name].widget.attrs
                attrs["autocomplete"] = f"{autocomplete_section} {attrs['autocomplete']}"

    def address(self) -> dict[str, str]:
        """Return the cleaned address (every field) of a valid form."""
        return {name: self.cleaned_data[name] for name in ADDRESS_FIELD_NAMES}


class AddressBookForm(AddressForm):
    """An entry of the address book: the address, and whether it is the default one."""

    is_default = forms.BooleanField(label="Use as my default address", required=False)

    def service_fields(self) -> dict:
        """Return the cleaned data as keyword arguments for the address services."""
        return {**self.address(), "is_default": self.cleaned_data["is_default"]}
