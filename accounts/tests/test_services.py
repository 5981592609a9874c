import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts import services
from accounts.models import Address, User
from accounts.signals import password_reset_requested, user_registered
from accounts.tests.factories import AddressFactory, UserFactory

pytestmark = pytest.mark.django_db

ADDRESS = {
    "full_name": "Ada Lovelace",
    "line1": "12 St James's Square",
    "city": "London",
    "postal_code": "SW1Y 4JH",
    "country": "gb",
}


def capture(signal):
    calls = []

    def receiver(sender, **kwargs):
        calls.append(kwargs)

    signal.connect(receiver, weak=False)
    return calls, lambda: signal.disconnect(receiver)


def test_register_user_stores_a_lowercased_email_and_a_hashed_password(
    django_capture_on_commit_callbacks,
):
    calls, disconnect = capture(user_registered)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            user = services.register_user(
                email="  New.Shopper@Example.COM ", password="s3cure-Passw0rd", first_name="New"
            )
    finally:
        disconnect()
    assert user.email == "new.shopper@example.com"
    assert user.check_password("s3cure-Passw0rd")
    assert user.password != "s3cure-Passw0rd"
    assert calls == [{"signal": user_registered, "user_id": user.pk}]


def test_a_failing_user_registered_receiver_rolls_the_sign_up_back():
    # The signal is sent inside the sign-up's transaction (the welcome email's outbox row
    # commits with the account): a receiver's error undoes the account.
    def refuse(sender, **kwargs):
        raise RuntimeError("outbox unavailable")

    user_registered.connect(refuse, weak=False, dispatch_uid="test-refuse")
    try:
        with pytest.raises(RuntimeError, match="outbox unavailable"):
            services.register_user(email="later@example.com", password="s3cure-Passw0rd")
    finally:
        user_registered.disconnect(dispatch_uid="test-refuse")
    assert not User.objects.filter(email="later@example.com").exists()


def test_register_user_refuses_an_email_that_differs_only_in_case():
    UserFactory(email="taken@example.com")
    with pytest.raises(ValidationError) as exc:
        services.register_user(email="TAKEN@example.com", password="s3cure-Passw0rd")
    assert "email" in exc.value.message_dict
    assert User.objects.count() == 1


def test_register_user_runs_the_password_validators():
    with pytest.raises(ValidationError) as exc:
        services.register_user(email="weak@example.com", password="123")
    messages = exc.value.message_dict["password"]
    assert any("too short" in m for m in messages)
    assert any("entirely numeric" in m for m in messages)
    assert not User.objects.filter(email="weak@example.com").exists()


def test_register_user_refuses_a_password_similar_to_the_email():
    with pytest.raises(ValidationError) as exc:
        services.register_user(email="marmalade@example.com", password="marmalade1")
    assert "password" in exc.value.message_dict


def test_database_refuses_two_accounts_whose_emails_differ_only_in_case():
    UserFactory(email="dup@example.com")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user(email="DUP@example.com", password="x")


def test_change_password_checks_the_old_password():
    user = UserFactory()
    with pytest.raises(ValidationError) as exc:
        services.change_password(user=user, old_password="wrong", new_password="An0ther-pass!")
    assert "old_password" in exc.value.message_dict
    user.refresh_from_db()
    assert user.check_password("pass12345!")


def test_change_password_validates_the_new_password():
    user = UserFactory()
    with pytest.raises(ValidationError) as exc:
        services.change_password(user=user, old_password="pass12345!", new_password="password")
    assert "new_password" in exc.value.message_dict


def test_change_password_clears_must_change_password():
    user = UserFactory(must_change_password=True)
    services.change_password(user=user, old_password="pass12345!", new_password="An0ther-pass!")
    user.refresh_from_db()
    assert user.check_password("An0ther-pass!")
    assert user.must_change_password is False


def test_request_password_reset_signals_a_link_to_the_html_confirm_page(
    django_capture_on_commit_callbacks,
):
    user = UserFactory(email="reset@example.com")
    calls, disconnect = capture(password_reset_requested)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            result = services.request_password_reset(
                email="RESET@example.com", base_url="https://shop.example/"
            )
    finally:
        disconnect()
    assert result == user
    [call] = calls
    assert call["user_id"] == user.pk
    assert call["reset_url"] == (
        f"https://shop.example/accounts/reset/{call['uid']}/{call['token']}/"
    )


@pytest.mark.parametrize("is_active", [True, False])
def test_request_password_reset_for_unknown_or_inactive_users_sends_nothing(
    is_active, django_capture_on_commit_callbacks
):
    UserFactory(email="inactive@example.com", is_active=False)
    email = "nobody@example.com" if is_active else "inactive@example.com"
    calls, disconnect = capture(password_reset_requested)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            result = services.request_password_reset(email=email, base_url="http://x")
    finally:
        disconnect()
    assert result is None
    assert calls == []


def _reset_token(user, django_capture_on_commit_callbacks):
    calls, disconnect = capture(password_reset_requested)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            services.request_password_reset(email=user.email, base_url="http://x")
    finally:
        disconnect()
    return calls[0]["uid"], calls[0]["token"]


def test_confirm_password_reset_sets_the_password_once(django_capture_on_commit_callbacks):
    user = UserFactory(must_change_password=True)
    uid, token = _reset_token(user, django_capture_on_commit_callbacks)
    services.confirm_password_reset(uid=uid, token=token, new_password="Fresh-start-42")
    user.refresh_from_db()
    assert user.check_password("Fresh-start-42")
    assert not user.must_change_password
    with pytest.raises(ValidationError) as exc:
        services.confirm_password_reset(uid=uid, token=token, new_password="Again-and-42")
    assert "token" in exc.value.message_dict


@pytest.mark.parametrize("uid", ["", "not-base64!", "MTIzNDU2Nzg5", "OTk5OTk5OTk5OTk5OTk5OTk5OTk5"])
def test_confirm_password_reset_refuses_bad_uids(uid):
    with pytest.raises(ValidationError) as exc:
        services.confirm_password_reset(uid=uid, token="abc-def", new_password="Fresh-start-42")
    assert "token" in exc.value.message_dict


def test_confirm_password_reset_validates_the_new_password(django_capture_on_commit_callbacks):
    user = UserFactory()
    uid, token = _reset_token(user, django_capture_on_commit_callbacks)
    with pytest.raises(ValidationError) as exc:
        services.confirm_password_reset(uid=uid, token=token, new_password="short")
    assert "new_password" in exc.value.message_dict


def test_update_profile_changes_only_the_given_names():
    user = UserFactory(first_name="Ada", last_name="Byron")
    services.update_profile(user=user, last_name=" Lovelace ")
    user.refresh_from_db()
    assert (user.first_name, user.last_name) == ("Ada", "Lovelace")


def test_first_address_becomes_the_default_and_country_is_uppercased():
    user = UserFactory()
    address = services.create_address(user=user, **ADDRESS)
    assert address.is_default
    assert address.country == "GB"


def test_new_default_address_unsets_the_previous_default():
    user = UserFactory()
    first = services.create_address(user=user, **ADDRESS)
    second = services.create_address(user=user, is_default=True, **ADDRESS)
    third = services.create_address(user=user, **ADDRESS)
    first.refresh_from_db()
    assert [first.is_default, second.is_default, third.is_default] == [False, True, False]
    assert Address.objects.filter(user=user, is_default=True).count() == 1


def test_update_address_can_move_the_default():
    user = UserFactory()
    first = services.create_address(user=user, **ADDRESS)
    second = services.create_address(user=user, **ADDRESS)
    services.update_address(address=second, is_default=True, city="Paris", country="fr")
    first.refresh_from_db()
    second.refresh_from_db()
    assert not first.is_default
    assert (second.is_default, second.city, second.country) == (True, "Paris", "FR")


def test_update_address_refuses_to_leave_the_user_without_a_default():
    user = UserFactory()
    address = services.create_address(user=user, **ADDRESS)
    with pytest.raises(ValidationError) as exc:
        services.update_address(address=address, is_default=False)
    assert "is_default" in exc.value.message_dict
    address.refresh_from_db()
    assert address.is_default


@pytest.mark.parametrize("country", ["XX", "USA", "", "1a"])
def test_addresses_refuse_unknown_country_codes(country):
    with pytest.raises(ValidationError) as exc:
        services.create_address(user=UserFactory(), **{**ADDRESS, "country": country})
    assert "country" in exc.value.message_dict


def test_deleting_the_default_address_promotes_the_newest_remaining_one():
    user = UserFactory()
    default = services.create_address(user=user, **ADDRESS)
    older = services.create_address(user=user, **ADDRESS)
    newer = services.create_address(user=user, **ADDRESS)
    services.delete_address(address=default)
    older.refresh_from_db()
    newer.refresh_from_db()
    assert (older.is_default, newer.is_default) == (False, True)


def test_deleting_a_non_default_address_keeps_the_default():
    user = UserFactory()
    default = services.create_address(user=user, **ADDRESS)
    other = AddressFactory(user=user)
    services.delete_address(address=other)
    default.refresh_from_db()
    assert default.is_default


def test_database_refuses_two_default_addresses_for_one_user():
    user = UserFactory()
    AddressFactory(user=user, is_default=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        AddressFactory(user=user, is_default=True)
