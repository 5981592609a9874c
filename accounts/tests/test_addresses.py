"""The one address definition: fields and limits, the ISO country rule, form and serializer."""

import re

import pytest
from django.core.exceptions import ValidationError

from accounts.addresses.forms import AddressBookForm, AddressForm
from accounts.addresses.rules import (
    ADDRESS_FIELD_NAMES,
    ADDRESS_FIELDS,
    address_snapshot,
    clean_address,
    country_choices,
    is_country_code,
    normalize_country,
    shipping_countries,
)
from accounts.addresses.serializers import AddressSerializer, PostalAddressSerializer
from accounts.errors import AccountErrorCode
from accounts.models import Address
from accounts.tests.factories import AddressFactory

ADDRESS = {
    "full_name": "Ada Lovelace",
    "line1": "12 St James's Square",
    "line2": "",
    "city": "London",
    "postal_code": "SW1Y 4JH",
    "country": "GB",
    "phone": "",
}
NOT_COUNTRIES = ["ZZ", "XX", "AA", "USA", "GBR", "826", "Germany", "G", "", "1a", "U S"]


# ----------------------------------------------------------------------------- the rule


@pytest.mark.parametrize(("value", "code"), [("GB", "GB"), ("gb", "GB"), (" de ", "DE")])
def test_iso_codes_are_countries_in_any_case(value, code):
    assert normalize_country(value) == code


@pytest.mark.parametrize("value", [*NOT_COUNTRIES, None, 12])
def test_anything_but_an_iso_alpha_2_code_is_refused(value):
    with pytest.raises(ValidationError) as exc:
        normalize_country(value)
    assert exc.value.code == AccountErrorCode.INVALID_COUNTRY
    assert "ISO 3166-1" in exc.value.messages[0]


def test_every_assigned_code_is_a_country():
    codes = [code for code, _ in country_choices()]
    assert len(codes) == len(set(codes)) == 249
    assert all(is_country_code(code) for code in codes)
    assert not is_country_code("gb")  # the rule compares normalised (upper-case) codes


def test_the_field_limits_are_the_address_table_columns():
    for field in ADDRESS_FIELDS:
        column = Address._meta.get_field(field.name)
        assert column.max_length == field.max_length, field.name
        assert column.blank is not field.required, field.name


def test_clean_address_returns_every_field_stripped_with_an_upper_case_country():
    cleaned = clean_address({**ADDRESS, "city": "  London ", "country": "gb", "line2": None})
    assert list(cleaned) == list(ADDRESS_FIELD_NAMES)
    assert (cleaned["city"], cleaned["country"], cleaned["line2"]) == ("London", "GB", "")


def test_clean_address_reports_each_bad_field():
    data = {**ADDRESS, "country": "ZZ", "full_name": " ", "city": 12, "postal_code": "9" * 21}
    del data["line1"]
    with pytest.raises(ValidationError) as exc:
        clean_address(data)
    assert set(exc.value.message_dict) == {"country", "full_name", "line1", "city", "postal_code"}
    assert "ISO 3166-1" in exc.value.message_dict["country"][0]


def test_a_saved_address_snapshot_has_the_address_fields():
    address = AddressFactory.build(country="FR", city="Paris")
    snapshot = address_snapshot(address)
    assert list(snapshot) == list(ADDRESS_FIELD_NAMES)
    assert (snapshot["country"], snapshot["city"]) == ("FR", "Paris")


# ----------------------------------------------------------------------------- choices


def test_the_shipping_countries_come_first_in_their_order(settings):
    settings.SHOP_SHIPPING_COUNTRIES = ["gb", "US", "XX", "DE", "GB"]
    assert shipping_countries() == ["GB", "US", "DE"]  # normalised, unknown and repeats dropped
    choices = country_choices()
    assert choices[:3] == [
        ("GB", "United Kingdom"),
        ("US", "United States of America"),
        (
            "DE",
            "Germany",
        ),
    ]
    rest = [code for code, _ in choices[3:]]
    assert rest[:3] == ["AF", "AX", "AL"]  # Afghanistan, Åland Islands, Albania: by name
    assert len(rest) == 249 - 3
    assert not {"GB", "US", "DE"} & set(rest)


def test_the_default_shipping_countries_are_listed_first():
    from django.conf import settings

    first = [code for code, _ in country_choices()[: len(settings.SHOP_SHIPPING_COUNTRIES)]]
    assert first == [code.upper() for code in settings.SHOP_SHIPPING_COUNTRIES]


# ----------------------------------------------------------------------------- the form


def test_the_form_shows_a_select_of_country_names_shipping_countries_first(settings):
    settings.SHOP_SHIPPING_COUNTRIES = ["DE", "FR"]
    html = str(AddressForm()["country"])
    assert html.startswith('<select name="country"')
    options = re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', html)
    assert options[0] == ("", "Choose a country")
    assert options[1:3] == [("DE", "Germany"), ("FR", "France")]
    assert ("JP", "Japan") in options
    assert len(options) == 1 + 249


def test_the_form_has_the_address_fields_with_their_limits():
    form = AddressForm()
    assert list(form.fields) == list(ADDRESS_FIELD_NAMES)
    for field in ADDRESS_FIELDS:
        assert form.fields[field.name].required is field.required
        if field.name != "country":
            assert form.fields[field.name].max_length == field.max_length


def test_the_form_accepts_a_lower_case_code_and_keeps_it_selected():
    form = AddressForm(data={**ADDRESS, "country": "gb"})
    assert form.is_valid(), form.errors
    assert form.address()["country"] == "GB"
    assert '<option value="GB" selected>' in str(form["country"])


@pytest.mark.parametrize("country", ["ZZ", "zz", "USA", "Germany"])
def test_the_form_refuses_what_is_not_an_iso_code(country):
    form = AddressForm(data={**ADDRESS, "country": country})
    assert not form.is_valid()
    assert form.errors.as_data()["country"][0].code == AccountErrorCode.INVALID_COUNTRY
    assert 'aria-invalid="true" aria-describedby="id_country_error"' in str(form["country"])


def test_the_form_requires_a_country():
    form = AddressForm(data={**ADDRESS, "country": ""})
    assert not form.is_valid()
    assert form.errors["country"] == ["This field is required."]


def test_an_autocomplete_section_prefixes_every_token():
    form = AddressForm(autocomplete_section="shipping")
    assert 'autocomplete="shipping address-level2"' in str(form["city"])
    assert 'autocomplete="shipping country"' in str(form["country"])
    assert 'autocomplete="address-level2"' in str(AddressForm()["city"])


def test_the_address_book_form_adds_the_default_flag():
    form = AddressBookForm(data={**ADDRESS, "country": "fr", "is_default": "on"})
    assert form.is_valid(), form.errors
    assert form.service_fields() == {**ADDRESS, "country": "FR", "is_default": True}


# ----------------------------------------------------------------------------- the serializer


def test_the_serializer_upper_cases_the_country():
    serializer = PostalAddressSerializer(data={**ADDRESS, "country": "fr"})
    assert serializer.is_valid(), serializer.errors
    assert serializer.validated_data["country"] == "FR"


def test_the_serializer_fills_in_the_optional_fields():
    data = {key: value for key, value in ADDRESS.items() if key not in ("line2", "phone")}
    serializer = PostalAddressSerializer(data=data)
    assert serializer.is_valid(), serializer.errors
    assert (serializer.validated_data["line2"], serializer.validated_data["phone"]) == ("", "")


@pytest.mark.parametrize("country", NOT_COUNTRIES)
def test_the_serializer_refuses_what_is_not_an_iso_code(country):
    serializer = PostalAddressSerializer(data={**ADDRESS, "country": country})
    assert not serializer.is_valid()
    assert list(serializer.errors) == ["country"]


@pytest.mark.django_db
def test_the_address_book_serializer_shows_the_id_first():
    address = AddressFactory(is_default=True)
    data = AddressSerializer(address).data
    assert list(data) == ["id", *ADDRESS_FIELD_NAMES, "is_default"]
    assert (data["id"], data["is_default"]) == (address.pk, True)
