"""The checkout form: saved address or a new one (the one address form), notes, card."""

import pytest

from accounts.tests.factories import AddressFactory, UserFactory
from orders.checkout.forms import NEW_ADDRESS, CheckoutForm
from orders.tests.factories import ADDRESS

pytestmark = pytest.mark.django_db


@pytest.fixture
def user():
    return UserFactory()


def form_for(user, **data):
    return CheckoutForm(data, addresses=user.addresses.all())


def test_a_new_address_becomes_the_shipping_address(user):
    form = form_for(user, address=NEW_ADDRESS, payment_token=" tok_success ", **ADDRESS)
    assert form.is_valid(), form.errors
    assert form.order_arguments() == {
        "shipping_address": ADDRESS,
        "address_id": None,
        "payment_token": "tok_success",
        "notes": "",
    }


def test_leaving_the_address_choice_out_means_a_new_address(user):
    form = form_for(user, payment_token="tok_success", **{**ADDRESS, "country": "gb"})
    assert form.is_valid(), form.errors
    assert form.order_arguments()["shipping_address"]["country"] == "GB"


def test_a_saved_address_is_passed_by_id_and_the_new_address_is_not_checked(user):
    saved = AddressFactory(user=user)
    form = form_for(user, address=str(saved.pk), payment_token="tok_success", country="ZZ")
    assert form.is_valid(), form.errors
    arguments = form.order_arguments()
    assert (arguments["address_id"], arguments["shipping_address"]) == (saved.pk, None)
    assert not form.new_address.is_bound
    assert form.new_address["country"].value() == "ZZ"  # what was typed is kept on screen


@pytest.mark.parametrize("choice", ["abc", "-1", "999999"])
def test_an_unknown_address_choice_is_refused(user, choice):
    form = form_for(user, address=choice, payment_token="tok_success")
    assert not form.is_valid()
    assert form.errors["address"] == ["Unknown address."]


def test_someone_elses_address_is_unknown(user):
    foreign = AddressFactory()
    form = form_for(user, address=str(foreign.pk), payment_token="tok_success")
    assert not form.is_valid()
    assert form.errors["address"] == ["Unknown address."]


def test_the_new_address_is_checked_by_the_one_address_form(user):
    form = form_for(user, payment_token="tok_success", **{**ADDRESS, "city": "", "country": "ZZ"})
    assert not form.is_valid()
    assert set(form.new_address.errors) == {"city", "country"}
    assert "ISO 3166-1" in form.new_address.errors["country"][0]
    assert form.has_errors
    assert not form.only_payment_errors


def test_a_missing_card_is_the_only_error(user):
    form = form_for(user, **ADDRESS)
    assert not form.is_valid()
    assert form.errors["payment_token"] == ["A payment token is required."]
    assert form.only_payment_errors


def test_overlong_notes_are_refused_and_notes_are_kept_as_typed(user):
    assert not form_for(user, payment_token="tok", notes="n" * 2001, **ADDRESS).is_valid()
    form = form_for(user, payment_token="tok", notes="  ring twice ", **ADDRESS)
    assert form.is_valid()
    assert form.order_arguments()["notes"] == "  ring twice "


def test_the_idempotency_payload_holds_the_address_only_when_it_is_new(user):
    saved = AddressFactory(user=user)
    new = form_for(user, payment_token="tok_success", **ADDRESS)
    chosen = form_for(user, address=str(saved.pk), payment_token="tok_success", **ADDRESS)
    assert new.is_valid()
    assert chosen.is_valid()
    base = {"payment_token": "tok_success", "notes": ""}
    assert new.idempotency_payload() == {"address": NEW_ADDRESS, **base, **ADDRESS}
    assert chosen.idempotency_payload() == {"address": str(saved.pk), **base}


def test_the_services_errors_land_next_to_their_fields(user):
    form = form_for(user, payment_token="tok_success", **ADDRESS)
    assert form.is_valid()
    form.add_checkout_errors(
        {
            "shipping_address.postal_code": ["Bad postal code."],
            "address_id": ["Unknown address."],
            "payment_token": ["Declined."],
            "something_else": ["Oops."],
        }
    )
    assert form.new_address.errors["postal_code"] == ["Bad postal code."]
    assert form.errors["address"] == ["Unknown address."]
    assert form.errors["payment_token"] == ["Declined."]
    assert form.non_field_errors() == ["Oops."]
    assert 'aria-invalid="true"' in str(form.new_address["postal_code"])


def test_the_first_rendering_offers_the_saved_address_and_the_first_card(user):
    saved = AddressFactory(user=user)
    form = CheckoutForm(
        addresses=[saved], initial={"address": str(saved.pk), "payment_token": "tok_success"}
    )
    assert form.selected_address == str(saved.pk)
    assert form["payment_token"].value() == "tok_success"
    assert not form.has_errors
