"""The checkout page's form: where to ship (a saved address or a new one), notes, the card.

A new address is the one address form (``accounts.addresses.forms.AddressForm``), composed
here and checked only when the shopper chose to ship to a new address.
"""

from collections.abc import Iterable, Mapping, Sequence

from django import forms

from accounts.addresses.forms import AddressForm
from accounts.forms import AccessibleFormMixin
from accounts.models import Address

NEW_ADDRESS = "new"
# Where the service's error keys land on the form (the rest keep their names).
_CHOICE_ERRORS = ("shipping_address", "address_id")
_NEW_ADDRESS_PREFIX = "shipping_address."


class CheckoutForm(AccessibleFormMixin, forms.Form):
    """Validate the checkout form and turn it into ``place_order`` arguments.

    ``address`` is the pk of one of ``addresses`` (the shopper's saved addresses) or
    ``"new"`` (also when left out), in which case ``new_address`` must be valid (an unbound
    form shows ``new_address_initial`` in it) and ``save_address`` adds it to the book.
    """

    address = forms.ChoiceField(
        required=False, error_messages={"invalid_choice": "Unknown address."}
    )
    payment_token = forms.CharField(
        max_length=255, error_messages={"required": "A payment token is required."}
    )
    notes = forms.CharField(
        label="Delivery notes",
        max_length=2000,
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    save_address = forms.BooleanField(label="Save this address to my address book", required=False)
    # A method code of the page's list (radio buttons); checkout re-prices it and refuses a
    # method that does not serve the address. Empty: the cheapest method serving it.
    shipping_method = forms.CharField(max_length=32, required=False)
    # The total the page showed: the order is refused (cart_changed) when it differs.
    expected_total = forms.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, required=False, widget=forms.HiddenInput
    )

    def __init__(
        self,
        data: Mapping | None = None,
        *,
        addresses: Iterable[Address],
        initial: dict | None = None,
        new_address_initial: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(data, initial=initial)
        self.addresses: list[Address] = list(addresses)
        self.fields["address"].choices = [
            *((str(address.pk), str(address)) for address in self.addresses),
            (NEW_ADDRESS, "A new address"),
        ]
        # Only a chosen new address is validated; otherwise what was typed is just kept.
        if self.is_bound and self.selected_address == NEW_ADDRESS:
            self.new_address = AddressForm(data, autocomplete_section="shipping")
        else:
            typed = {key: value for key, value in (data or {}).items() if value}
            if not self.is_bound:
                typed = dict(new_address_initial or {})
            self.new_address = AddressForm(initial=typed, autocomplete_section="shipping")

    @property
    def selected_address(self) -> str:
        """Return the address choice as submitted (or as first shown): a pk or ``"new"``."""
        if self.is_bound:
            return (self.data.get(self.add_prefix("address")) or "").strip() or NEW_ADDRESS
        return str(self.get_initial_for_field(self.fields["address"], "address") or NEW_ADDRESS)

    def shipping_country(self) -> str | None:
        """Return the country of the address chosen (or first shown), or None if unknown."""
        choice = self.selected_address
        if choice != NEW_ADDRESS:
            address = next((a for a in self.addresses if str(a.pk) == choice), None)
            return address.country if address is not None else None
        if self.is_bound:
            country = self.data.get("country")
        else:
            country = self.new_address.initial.get("country")
        return country.strip().upper() if isinstance(country, str) and country.strip() else None

    @property
    def selected_shipping_method(self) -> str:
        if self.is_bound:
            return (self.data.get(self.add_prefix("shipping_method")) or "").strip()
        return str(self.initial.get("shipping_method") or "")

    def clean_address(self) -> str:
        return self.cleaned_data["address"] or NEW_ADDRESS

    def is_valid(self) -> bool:
        valid = super().is_valid()
        if self.cleaned_data.get("address") == NEW_ADDRESS:
            valid = self.new_address.is_valid() and valid
        return valid

    @property
    def has_errors(self) -> bool:
        return bool(self.errors or (self.new_address.is_bound and self.new_address.errors))

    @property
    def only_payment_errors(self) -> bool:
        """Whether the payment choice is the only thing to fix."""
        return list(self.errors) == ["payment_token"] and not (
            self.new_address.is_bound and self.new_address.errors
        )

    def forget_payment_choice(self) -> None:
        """Show the form again with no card chosen (after a decline: not the same card)."""
        data = self.data.copy()
        data[self.add_prefix("payment_token")] = ""
        self.data = data

    def order_arguments(self) -> dict:
        """Return the keyword arguments of ``place_order`` for a valid form (but the cart)."""
        choice = self.cleaned_data["address"]
        new = choice == NEW_ADDRESS
        arguments = {
            "shipping_address": self.new_address.address() if new else None,
            "address_id": None if new else int(choice),
            "payment_token": self.cleaned_data["payment_token"],
            "notes": self.cleaned_data["notes"],
        }
        if self.cleaned_data.get("shipping_method"):
            arguments["shipping_method"] = self.cleaned_data["shipping_method"]
        if self.cleaned_data.get("expected_total") is not None:
            arguments["expected_total"] = self.cleaned_data["expected_total"]
        if new and self.cleaned_data.get("save_address"):
            arguments["save_address"] = True
        return arguments

    def idempotency_payload(self) -> dict:
        """Return what identifies this submission: the same answers are the same request."""
        payload = {
            "address": self.cleaned_data["address"],
            "payment_token": self.cleaned_data["payment_token"],
            "notes": self.cleaned_data["notes"],
        }
        if self.cleaned_data.get("shipping_method"):
            payload["shipping_method"] = self.cleaned_data["shipping_method"]
        if self.cleaned_data.get("expected_total") is not None:
            payload["expected_total"] = str(self.cleaned_data["expected_total"])
        if payload["address"] == NEW_ADDRESS:
            payload.update(self.new_address.address())
            if self.cleaned_data.get("save_address"):
                payload["save_address"] = True
        return payload

    def add_checkout_errors(self, errors: Mapping[str, Sequence[str]]) -> None:
        """Show the errors of a ``validation_error`` body (``place_order``'s, by dotted path)
        next to the matching fields."""
        for key, messages in errors.items():
            name = key.removeprefix(_NEW_ADDRESS_PREFIX)
            if key.startswith(_NEW_ADDRESS_PREFIX) and name in self.new_address.fields:
                if self.new_address.is_bound:
                    self.new_address.add_error(name, list(messages))
                    continue
                name = "address"
            elif key in _CHOICE_ERRORS:
                name = "address"
            self.add_error(name if name in self.fields else None, list(messages))
        self.mark_invalid_fields()
        if self.new_address.is_bound:
            self.new_address.mark_invalid_fields()


class GuestCheckoutForm(CheckoutForm):
    """The guest's checkout: an email address, a new address (no address book), the card."""

    email = forms.EmailField(
        label="Email", max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )

    def __init__(self, data: Mapping | None = None, *, initial: dict | None = None) -> None:
        super().__init__(data, addresses=[], initial=initial)
        del self.fields["save_address"]  # no address book to save to

    def order_arguments(self) -> dict:
        """Return the keyword arguments of ``place_guest_order`` for a valid form."""
        arguments = super().order_arguments()
        arguments.pop("address_id")
        return {**arguments, "email": self.cleaned_data["email"]}

    def idempotency_payload(self) -> dict:
        return {**super().idempotency_payload(), "email": self.cleaned_data["email"]}


class GuestEmailForm(AccessibleFormMixin, forms.Form):
    """The choice page's "continue as guest" form."""

    email = forms.EmailField(
        label="Email", max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )


class GuestAccountForm(AccessibleFormMixin, forms.Form):
    """The confirmation page's "create an account" form: one password field."""

    password = forms.CharField(
        label="Choose a password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
