import pytest
from rest_framework.test import APIClient

from accounts.models import Address, User
from accounts.signals import password_reset_requested
from accounts.tests.conftest import bearer_client
from accounts.tests.factories import AddressFactory, UserFactory

pytestmark = pytest.mark.django_db

REGISTER = "/api/v1/auth/register/"
TOKEN = "/api/v1/auth/token/"
REFRESH = "/api/v1/auth/token/refresh/"
LOGOUT = "/api/v1/auth/logout/"
ME = "/api/v1/auth/me/"
CHANGE = "/api/v1/auth/password/change/"
RESET = "/api/v1/auth/password/reset/"
RESET_CONFIRM = "/api/v1/auth/password/reset/confirm/"
ADDRESSES = "/api/v1/addresses/"

ADDRESS = {
    "full_name": "Ada Lovelace",
    "line1": "12 St James's Square",
    "line2": "",
    "city": "London",
    "postal_code": "SW1Y 4JH",
    "country": "gb",
    "phone": "+44 20 7946 0000",
}


def assert_validation_error(response, *fields):
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "validation_error"
    assert body["detail"]
    for field in fields:
        assert field in body["errors"], body


# --- register -----------------------------------------------------------------------------


def test_register_creates_an_account(api_client):
    response = api_client.post(
        REGISTER,
        {"email": "New@Example.com", "password": "s3cure-Passw0rd", "first_name": "New"},
        format="json",
    )
    assert response.status_code == 201
    user = User.objects.get()
    assert response.json() == {
        "id": user.pk,
        "email": "new@example.com",
        "first_name": "New",
        "last_name": "",
    }
    assert user.check_password("s3cure-Passw0rd")


def test_register_refuses_a_duplicate_email_in_any_case(api_client):
    UserFactory(email="dup@example.com")
    response = api_client.post(
        REGISTER, {"email": "DUP@example.com", "password": "s3cure-Passw0rd"}, format="json"
    )
    assert_validation_error(response, "email")


def test_register_refuses_a_weak_password(api_client):
    response = api_client.post(
        REGISTER, {"email": "weak@example.com", "password": "password"}, format="json"
    )
    assert_validation_error(response, "password")
    assert not User.objects.exists()


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, ["email", "password"]),
        ({"email": "not-an-email", "password": "s3cure-Passw0rd"}, ["email"]),
        ({"email": ["a@b.com"], "password": "s3cure-Passw0rd"}, ["email"]),
        ({"email": "a@example.com", "password": {"x": 1}}, ["password"]),
        ({"email": "a@example.com", "password": True}, ["password"]),
        ({"email": "a" * 250 + "@example.com", "password": "s3cure-Passw0rd"}, ["email"]),
        ({"email": "a@example.com", "password": "p" * 5000}, ["password"]),
        (
            {"email": "a@example.com", "password": "s3cure-Passw0rd", "first_name": "x" * 151},
            ["first_name"],
        ),
    ],
)
def test_register_rejects_bad_input_with_the_error_shape(api_client, body, fields):
    response = api_client.post(REGISTER, body, format="json")
    assert_validation_error(response, *fields)


def test_register_rejects_a_body_that_is_not_an_object(api_client):
    response = api_client.post(REGISTER, ["email"], format="json")
    assert_validation_error(response, "non_field_errors")


def test_malformed_json_answers_400_with_the_error_shape(api_client):
    response = api_client.post(REGISTER, '{"email": ', content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


# --- tokens -------------------------------------------------------------------------------


def test_token_obtain_returns_a_pair_for_the_right_password(api_client, user):
    response = api_client.post(
        TOKEN, {"email": "SHOPPER@example.com", "password": "pass12345!"}, format="json"
    )
    assert response.status_code == 200
    assert set(response.json()) == {"access", "refresh"}
    me = APIClient()
    me.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access']}")
    assert me.get(ME).json()["email"] == "shopper@example.com"


@pytest.mark.parametrize(
    ("email", "password"),
    [("shopper@example.com", "wrong-password"), ("nobody@example.com", "pass12345!")],
)
def test_token_obtain_with_bad_credentials_answers_401(api_client, user, email, password):
    response = api_client.post(TOKEN, {"email": email, "password": password}, format="json")
    assert response.status_code == 401
    body = response.json()
    assert body["code"] == "authentication_failed"
    assert body["detail"]
    assert "Bearer" in response["WWW-Authenticate"]


def test_token_obtain_refuses_an_inactive_user(api_client):
    UserFactory(email="gone@example.com", is_active=False)
    response = api_client.post(
        TOKEN, {"email": "gone@example.com", "password": "pass12345!"}, format="json"
    )
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_token_obtain_rejects_missing_fields(api_client):
    assert_validation_error(api_client.post(TOKEN, {}, format="json"), "email", "password")


def test_token_obtain_rejects_oversized_input(api_client):
    response = api_client.post(TOKEN, {"email": "a" * 300, "password": "pass12345!"}, format="json")
    assert_validation_error(response, "email")


def test_token_obtain_works_for_users_who_must_change_their_password(api_client):
    UserFactory(email="flagged@example.com", must_change_password=True)
    response = api_client.post(
        TOKEN, {"email": "flagged@example.com", "password": "pass12345!"}, format="json"
    )
    assert response.status_code == 200


def _pair(api_client, email="shopper@example.com"):
    response = api_client.post(TOKEN, {"email": email, "password": "pass12345!"}, format="json")
    assert response.status_code == 200
    return response.json()


def test_refresh_rotates_and_a_used_refresh_token_is_refused(api_client, user):
    pair = _pair(api_client)
    first = api_client.post(REFRESH, {"refresh": pair["refresh"]}, format="json")
    assert first.status_code == 200
    assert set(first.json()) == {"access", "refresh"}
    assert first.json()["refresh"] != pair["refresh"]
    reuse = api_client.post(REFRESH, {"refresh": pair["refresh"]}, format="json")
    assert reuse.status_code == 401
    assert reuse.json()["code"] == "authentication_failed"


def test_refresh_with_garbage_answers_401_and_without_a_token_400(api_client):
    garbage = api_client.post(REFRESH, {"refresh": "not-a-token"}, format="json")
    assert garbage.status_code == 401
    assert garbage.json()["code"] == "authentication_failed"
    assert_validation_error(api_client.post(REFRESH, {}, format="json"), "refresh")


def test_logout_blacklists_the_refresh_token(api_client, user):
    pair = _pair(api_client)
    response = api_client.post(LOGOUT, {"refresh": pair["refresh"]}, format="json")
    assert response.status_code == 204
    refresh = api_client.post(REFRESH, {"refresh": pair["refresh"]}, format="json")
    assert refresh.status_code == 401
    again = api_client.post(LOGOUT, {"refresh": pair["refresh"]}, format="json")
    assert again.status_code == 401
    assert again.json()["code"] == "authentication_failed"


def test_logout_rejects_missing_or_invalid_tokens(api_client):
    assert_validation_error(api_client.post(LOGOUT, {}, format="json"), "refresh")
    bad = api_client.post(LOGOUT, {"refresh": "nope"}, format="json")
    assert bad.status_code == 401
    assert bad.json()["code"] == "authentication_failed"
    assert_validation_error(api_client.post(LOGOUT, {"refresh": "x" * 5000}, format="json"))


def test_logout_refuses_an_access_token_in_place_of_a_refresh_token(api_client, user):
    pair = _pair(api_client)
    response = api_client.post(LOGOUT, {"refresh": pair["access"]}, format="json")
    assert response.status_code == 401


# --- me -------------------------------------------------------------------------------------


def test_me_returns_the_signed_in_user(user_client, user):
    response = user_client.get(ME)
    assert response.status_code == 200
    assert response.json() == {
        "id": user.pk,
        "email": "shopper@example.com",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "is_staff": False,
        "must_change_password": False,
    }


def test_me_requires_authentication(api_client):
    response = api_client.get(ME)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_me_patch_changes_names_only(user_client, user):
    response = user_client.patch(
        ME,
        {"first_name": "Augusta", "email": "evil@example.com", "is_staff": True},
        format="json",
    )
    assert response.status_code == 200
    user.refresh_from_db()
    assert (user.first_name, user.last_name, user.email) == (
        "Augusta",
        "Lovelace",
        "shopper@example.com",
    )
    assert user.is_staff is False
    assert response.json()["first_name"] == "Augusta"


@pytest.mark.parametrize("body", [{"first_name": "x" * 151}, {"last_name": ["a"]}])
def test_me_patch_rejects_bad_input(user_client, body):
    assert_validation_error(user_client.patch(ME, body, format="json"), *body)


def test_me_accepts_the_session_of_the_html_site(client, user):
    client.force_login(user)
    response = client.get(ME)
    assert response.status_code == 200
    assert response.json()["email"] == user.email


# --- password change ------------------------------------------------------------------------


def test_password_change_sets_the_new_password(user_client, user):
    response = user_client.post(
        CHANGE, {"old_password": "pass12345!", "new_password": "An0ther-pass!"}, format="json"
    )
    assert response.status_code == 204
    user.refresh_from_db()
    assert user.check_password("An0ther-pass!")


def test_password_change_with_a_wrong_old_password_answers_400(user_client, user):
    response = user_client.post(
        CHANGE, {"old_password": "nope", "new_password": "An0ther-pass!"}, format="json"
    )
    assert_validation_error(response, "old_password")
    user.refresh_from_db()
    assert user.check_password("pass12345!")


def test_password_change_validates_the_new_password(user_client):
    response = user_client.post(
        CHANGE, {"old_password": "pass12345!", "new_password": "12345678"}, format="json"
    )
    assert_validation_error(response, "new_password")


def test_password_change_requires_authentication(api_client):
    response = api_client.post(CHANGE, {"old_password": "a", "new_password": "b"}, format="json")
    assert response.status_code == 401


def test_password_change_over_the_session_keeps_the_session_signed_in(client, user):
    client.force_login(user)
    response = client.post(
        CHANGE,
        {"old_password": "pass12345!", "new_password": "An0ther-pass!"},
        content_type="application/json",
    )
    assert response.status_code == 204
    assert client.get(ME).status_code == 200


def test_password_change_revokes_existing_refresh_tokens(api_client, user):
    pair = _pair(api_client)
    client = bearer_client(user)
    client.post(
        CHANGE, {"old_password": "pass12345!", "new_password": "An0ther-pass!"}, format="json"
    )
    assert api_client.post(REFRESH, {"refresh": pair["refresh"]}, format="json").status_code == 401


# --- password reset -------------------------------------------------------------------------


@pytest.fixture
def reset_signals():
    calls = []

    def receiver(sender, **kwargs):
        calls.append(kwargs)

    password_reset_requested.connect(receiver, weak=False)
    yield calls
    password_reset_requested.disconnect(receiver)


@pytest.mark.parametrize("email", ["shopper@example.com", "nobody@example.com"])
def test_password_reset_answers_202_whether_or_not_the_account_exists(
    api_client, user, email, reset_signals, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(RESET, {"email": email}, format="json")
    assert response.status_code == 202
    assert len(reset_signals) == (1 if email == user.email else 0)


def test_password_reset_rejects_a_malformed_email(api_client):
    assert_validation_error(api_client.post(RESET, {"email": "nope"}, format="json"), "email")


def test_password_reset_end_to_end_over_the_api(
    api_client, user, reset_signals, django_capture_on_commit_callbacks, settings
):
    settings.SHOP_BASE_URL = "https://shop.example"
    with django_capture_on_commit_callbacks(execute=True):
        api_client.post(RESET, {"email": "shopper@example.com"}, format="json")
    [signal] = reset_signals
    assert signal["reset_url"].startswith("https://shop.example/accounts/reset/")
    body = {"uid": signal["uid"], "token": signal["token"], "new_password": "Brand-new-42"}
    assert api_client.post(RESET_CONFIRM, body, format="json").status_code == 204
    user.refresh_from_db()
    assert user.check_password("Brand-new-42")
    reuse = api_client.post(RESET_CONFIRM, {**body, "new_password": "Other-new-42"}, format="json")
    assert_validation_error(reuse, "token")


@pytest.mark.parametrize(
    "body",
    [
        {"uid": "MQ", "token": "bad-token", "new_password": "Brand-new-42"},
        {"uid": "@@@", "token": "bad-token", "new_password": "Brand-new-42"},
    ],
)
def test_password_reset_confirm_with_a_bad_link_answers_400(api_client, user, body):
    assert_validation_error(api_client.post(RESET_CONFIRM, body, format="json"), "token")


def test_password_reset_confirm_rejects_missing_and_oversized_fields(api_client):
    assert_validation_error(
        api_client.post(RESET_CONFIRM, {}, format="json"), "uid", "token", "new_password"
    )
    assert_validation_error(
        api_client.post(
            RESET_CONFIRM, {"uid": "x" * 100, "token": "t", "new_password": "p"}, format="json"
        ),
        "uid",
    )


# --- must_change_password -------------------------------------------------------------------


@pytest.fixture
def flagged_client(db):
    return bearer_client(UserFactory(email="flagged@example.com", must_change_password=True))


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", ADDRESSES),
        ("post", ADDRESSES),
        ("post", REGISTER),
        ("post", RESET),
        ("post", RESET_CONFIRM),
    ],
)
def test_users_who_must_change_their_password_get_403(flagged_client, method, url):
    response = getattr(flagged_client, method)(url, {}, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "password_change_required"


def test_users_who_must_change_their_password_can_reach_me_change_refresh_and_logout(api_client):
    UserFactory(email="flagged@example.com", must_change_password=True)
    pair = _pair(api_client, email="flagged@example.com")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair['access']}")
    assert client.get(ME).json()["must_change_password"] is True
    assert client.patch(ME, {"first_name": "F"}, format="json").status_code == 200
    rotated = client.post(REFRESH, {"refresh": pair["refresh"]}, format="json")
    assert rotated.status_code == 200
    assert (
        client.post(LOGOUT, {"refresh": rotated.json()["refresh"]}, format="json").status_code
        == 204
    )
    changed = client.post(
        CHANGE, {"old_password": "pass12345!", "new_password": "An0ther-pass!"}, format="json"
    )
    assert changed.status_code == 204
    assert client.get(ADDRESSES).status_code == 200


# --- addresses ------------------------------------------------------------------------------


def test_create_address_uppercases_the_country_and_becomes_default(user_client, user):
    response = user_client.post(ADDRESSES, ADDRESS, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["country"] == "GB"
    assert body["is_default"] is True
    assert set(body) == {
        "id",
        "full_name",
        "line1",
        "line2",
        "city",
        "postal_code",
        "country",
        "phone",
        "is_default",
    }
    assert Address.objects.get(pk=body["id"]).user == user


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"country": "XX"}, "country"),
        ({"country": "USA"}, "country"),
        ({"country": 12}, "country"),
        ({"full_name": ""}, "full_name"),
        ({"city": "x" * 101}, "city"),
        ({"postal_code": "1" * 21}, "postal_code"),
        ({"line1": ["a"]}, "line1"),
        ({"is_default": "maybe"}, "is_default"),
    ],
)
def test_create_address_rejects_bad_input(user_client, changes, field):
    response = user_client.post(ADDRESSES, {**ADDRESS, **changes}, format="json")
    assert_validation_error(response, field)


def test_create_address_requires_the_mandatory_fields(user_client):
    response = user_client.post(ADDRESSES, {}, format="json")
    assert_validation_error(response, "full_name", "line1", "city", "postal_code", "country")


def test_addresses_require_authentication(api_client):
    assert api_client.get(ADDRESSES).status_code == 401
    assert api_client.post(ADDRESSES, ADDRESS, format="json").status_code == 401


def test_list_shows_only_my_addresses_default_first(user_client, user):
    AddressFactory(user=user, full_name="Second")
    default = AddressFactory(user=user, full_name="Default", is_default=True)
    AddressFactory(full_name="Someone else's")
    response = user_client.get(ADDRESSES)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert body["results"][0]["id"] == default.pk
    assert {a["full_name"] for a in body["results"]} == {"Second", "Default"}


@pytest.mark.parametrize("count", [3, 30])
def test_address_list_query_count_does_not_grow_with_the_page(
    user_client, user, count, django_assert_max_num_queries
):
    AddressFactory.create_batch(count, user=user)
    with django_assert_max_num_queries(3):
        response = user_client.get(ADDRESSES, {"page_size": 50})
    assert len(response.json()["results"]) == count


def test_patch_address_moves_the_default(user_client, user):
    first = AddressFactory(user=user, is_default=True)
    second = AddressFactory(user=user)
    response = user_client.patch(
        f"{ADDRESSES}{second.pk}/", {"is_default": True, "city": "Paris"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["is_default"] is True
    first.refresh_from_db()
    assert first.is_default is False


def test_patch_address_cannot_unset_the_only_default(user_client, user):
    address = AddressFactory(user=user, is_default=True)
    response = user_client.patch(f"{ADDRESSES}{address.pk}/", {"is_default": False}, format="json")
    assert_validation_error(response, "is_default")


def test_put_is_not_allowed(user_client, user):
    address = AddressFactory(user=user)
    response = user_client.put(f"{ADDRESSES}{address.pk}/", ADDRESS, format="json")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


def test_delete_address_promotes_another_default(user_client, user):
    default = AddressFactory(user=user, is_default=True)
    other = AddressFactory(user=user)
    response = user_client.delete(f"{ADDRESSES}{default.pk}/")
    assert response.status_code == 204
    other.refresh_from_db()
    assert other.is_default


@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_other_users_addresses_answer_404(user_client, method):
    foreign = AddressFactory(city="Elsewhere")
    response = getattr(user_client, method)(
        f"{ADDRESSES}{foreign.pk}/", {"city": "Mine now"}, format="json"
    )
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    foreign.refresh_from_db()
    assert foreign.city == "Elsewhere"


@pytest.mark.parametrize("pk", ["abc", "99999999999999999999999", "0"])
def test_odd_address_ids_answer_404(user_client, pk):
    response = user_client.get(f"{ADDRESSES}{pk}/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
