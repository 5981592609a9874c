"""The one API shape of an address: the address book's entries and the checkout's
``shipping_address`` (API.md "Accounts" and "Orders and checkout")."""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from accounts.addresses.rules import FIELDS_BY_NAME, normalize_country


class CountryField(serializers.CharField):
    """An ISO 3166-1 alpha-2 code, accepted in any case and returned upper-case."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("min_length", 2)
        kwargs.setdefault("max_length", 2)
        kwargs.setdefault("help_text", "ISO 3166-1 alpha-2 country code, e.g. US")
        super().__init__(**kwargs)

    def to_internal_value(self, data) -> str:
        value = super().to_internal_value(data)
        try:
            return normalize_country(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from exc


def address_char_field(name: str) -> serializers.CharField:
    """Return the serializer field for address field ``name`` (its limit; optional ones
    default to ``""``)."""
    spec = FIELDS_BY_NAME[name]
    if spec.required:
        return serializers.CharField(max_length=spec.max_length)
    return serializers.CharField(
        max_length=spec.max_length, required=False, allow_blank=True, default=""
    )


class PostalAddressSerializer(serializers.Serializer):
    """The fields of an address (``accounts.addresses.rules.ADDRESS_FIELDS``)."""

    full_name = address_char_field("full_name")
    line1 = address_char_field("line1")
    line2 = address_char_field("line2")
    city = address_char_field("city")
    postal_code = address_char_field("postal_code")
    country = CountryField()
    phone = address_char_field("phone")


class AddressSerializer(PostalAddressSerializer):
    """An entry of the signed-in user's address book."""

    id = serializers.IntegerField(read_only=True)
    is_default = serializers.BooleanField(required=False)

    def get_fields(self) -> dict:
        fields = super().get_fields()
        return {"id": fields.pop("id"), **fields}  # ``id`` first, as the API has always shown
