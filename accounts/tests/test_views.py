"""The HTML pages: forms with labels and CSRF, redirects, and the flows behind them."""

import re

import pytest
from django.urls import reverse

from accounts.models import Address, User
from accounts.signals import password_reset_requested
from accounts.tests.factories import AddressFactory, UserFactory

pytestmark = pytest.mark.django_db

NEW_ADDRESS = {
    "new-full_name": "Ada Lovelace",
    "new-line1": "12 St James's Square",
    "new-line2": "",
    "new-city": "London",
    "new-postal_code": "SW1Y 4JH",
    "new-country": "gb",
    "new-phone": "",
}


def assert_accessible_form(html: str) -> None:
    """Every visible input has a <label for=...>, and every POST form carries a CSRF token."""
    forms = re.findall(r"<form\b[^>]*>.*?</form>", html, flags=re.S)
    assert forms
    for form in forms:
        if 'method="post"' in form:
            assert "csrfmiddlewaretoken" in form, form
    inputs = re.findall(r"<(?:input|select|textarea)\b[^>]*>", html)
    for tag in inputs:
        if re.search(r'type="(hidden|submit)"', tag):
            continue
        input_id = re.search(r'id="([^"]+)"', tag)
        assert input_id, tag
        assert f'for="{input_id.group(1)}"' in html, tag


@pytest.fixture
def signed_in(client, user):
    client.force_login(user)
    return client


# --- pages render ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["accounts:login", "accounts:register", "accounts:password_reset"])
def test_public_pages_render_labelled_forms_with_csrf(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 200
    html = response.content.decode()
    assert_accessible_form(html)
    assert 'class="form' in html


@pytest.mark.parametrize(
    "name", ["accounts:account", "accounts:address_add", "accounts:password_change"]
)
def test_private_pages_render_labelled_forms_with_csrf(signed_in, name):
    response = signed_in.get(reverse(name))
    assert response.status_code == 200
    assert_accessible_form(response.content.decode())


@pytest.mark.parametrize(
    "name",
    [
        "accounts:account",
        "accounts:address_add",
        "accounts:password_change",
    ],
)
def test_private_pages_send_anonymous_visitors_to_sign_in(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login") + "?next=")


def test_login_form_names_its_email_field_email(client):
    html = client.get(reverse("accounts:login")).content.decode()
    assert 'name="email"' in html
    assert 'type="email"' in html


# --- sign in and out -------------------------------------------------------------------------


def test_login_signs_in_and_follows_a_safe_next(client, user):
    response = client.post(
        reverse("accounts:login") + "?next=/accounts/",
        {"email": "SHOPPER@example.com", "password": "pass12345!"},
    )
    assert response.status_code == 302
    assert response.url == "/accounts/"
    assert client.session["_auth_user_id"] == str(user.pk)


@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/x", "javascript:x"])
def test_login_ignores_an_unsafe_next(client, user, next_url):
    response = client.post(
        reverse("accounts:login"),
        {"email": "shopper@example.com", "password": "pass12345!", "next": next_url},
    )
    assert response.status_code == 302
    assert response.url == "/"


def test_login_with_a_wrong_password_shows_an_error(client, user):
    response = client.post(
        reverse("accounts:login"), {"email": "shopper@example.com", "password": "nope"}
    )
    assert response.status_code == 200
    assert b"Enter a correct email address and password." in response.content
    assert b'class="alert alert-error"' in response.content
    assert "_auth_user_id" not in client.session


def test_login_with_missing_fields_marks_the_inputs_invalid(client):
    response = client.post(reverse("accounts:login"), {"email": "", "password": ""})
    html = response.content.decode()
    assert 'aria-describedby="id_email_error"' in html
    assert 'id="id_email_error"' in html
    assert 'class="field-error"' in html


def test_logout_requires_post(signed_in):
    assert signed_in.get(reverse("accounts:logout")).status_code == 405
    response = signed_in.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert "_auth_user_id" not in signed_in.session


# --- register --------------------------------------------------------------------------------


def test_register_creates_the_account_signs_in_and_follows_next(client):
    response = client.post(
        reverse("accounts:register"),
        {
            "email": "New@Example.com",
            "first_name": "New",
            "last_name": "Shopper",
            "new_password1": "s3cure-Passw0rd",
            "new_password2": "s3cure-Passw0rd",
            "next": "/cart/",
        },
    )
    assert response.status_code == 302
    assert response.url == "/cart/"
    user = User.objects.get(email="new@example.com")
    assert client.session["_auth_user_id"] == str(user.pk)


def test_register_without_next_goes_home(client):
    response = client.post(
        reverse("accounts:register"),
        {
            "email": "home@example.com",
            "new_password1": "s3cure-Passw0rd",
            "new_password2": "s3cure-Passw0rd",
        },
    )
    assert response.url == "/"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"new_password2": "different-Passw0rd"}, b"The two passwords do not match."),
        ({"new_password1": "12345678", "new_password2": "12345678"}, b"entirely numeric"),
        ({"email": "taken@example.com"}, b"An account with this email already exists."),
    ],
)
def test_register_shows_errors(client, data, message):
    UserFactory(email="taken@example.com")
    form = {
        "email": "fresh@example.com",
        "new_password1": "s3cure-Passw0rd",
        "new_password2": "s3cure-Passw0rd",
        **data,
    }
    response = client.post(reverse("accounts:register"), form)
    assert response.status_code == 200
    assert message in response.content
    assert not User.objects.filter(email="fresh@example.com").exists()


# --- account page and address book -----------------------------------------------------------


def test_account_page_lists_my_addresses_only(signed_in, user):
    AddressFactory(user=user, full_name="My Home", is_default=True)
    AddressFactory(full_name="Not Mine")
    html = signed_in.get(reverse("accounts:account")).content.decode()
    assert "My Home" in html
    assert "Not Mine" not in html
    assert "Default" in html


@pytest.mark.parametrize("count", [2, 20])
def test_account_page_query_count_does_not_grow_with_addresses(
    signed_in, user, count, django_assert_max_num_queries
):
    AddressFactory.create_batch(count, user=user)
    with django_assert_max_num_queries(6):
        response = signed_in.get(reverse("accounts:account"))
    assert response.status_code == 200


def test_profile_form_updates_names(signed_in, user):
    response = signed_in.post(
        reverse("accounts:account"), {"first_name": "Augusta", "last_name": "King"}
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.first_name, user.last_name) == ("Augusta", "King")


def test_profile_form_rejects_oversized_names(signed_in):
    response = signed_in.post(reverse("accounts:account"), {"first_name": "x" * 151})
    assert response.status_code == 200
    assert b"field-error" in response.content


def test_add_address(signed_in, user):
    response = signed_in.post(reverse("accounts:address_add"), NEW_ADDRESS)
    assert response.status_code == 302
    address = Address.objects.get(user=user)
    assert (address.country, address.is_default) == ("GB", True)


def test_add_address_with_an_unknown_country_shows_the_error(signed_in, user):
    response = signed_in.post(reverse("accounts:address_add"), {**NEW_ADDRESS, "new-country": "XX"})
    assert response.status_code == 200
    assert b"ISO 3166-1" in response.content
    assert not Address.objects.exists()


def test_edit_address(signed_in, user):
    address = AddressFactory(user=user, is_default=True)
    other = AddressFactory(user=user)
    data = {key.removeprefix("new-"): value for key, value in NEW_ADDRESS.items()}
    response = signed_in.post(
        reverse("accounts:address_edit", args=[other.pk]), {**data, "is_default": "on"}
    )
    assert response.status_code == 302
    other.refresh_from_db()
    address.refresh_from_db()
    assert (other.city, other.is_default, address.is_default) == ("London", True, False)


def test_unticking_default_on_the_default_address_keeps_it_default(signed_in, user):
    address = AddressFactory(user=user, is_default=True)
    data = {key.removeprefix("new-"): value for key, value in NEW_ADDRESS.items()}
    response = signed_in.post(reverse("accounts:address_edit", args=[address.pk]), data)
    assert response.status_code == 302
    address.refresh_from_db()
    assert address.is_default


def test_delete_address_asks_then_deletes(signed_in, user):
    address = AddressFactory(user=user)
    confirm = signed_in.get(reverse("accounts:address_delete", args=[address.pk]))
    assert confirm.status_code == 200
    assert_accessible_form(confirm.content.decode())
    response = signed_in.post(reverse("accounts:address_delete", args=[address.pk]))
    assert response.status_code == 302
    assert not Address.objects.filter(pk=address.pk).exists()


def test_htmx_delete_returns_only_the_address_list(signed_in, user):
    keep = AddressFactory(user=user, full_name="Keeper", is_default=True)
    gone = AddressFactory(user=user, full_name="Goner")
    response = signed_in.post(
        reverse("accounts:address_delete", args=[gone.pk]), HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.strip().startswith('<div id="address-list"')
    assert keep.full_name in html
    assert "Goner" not in html
    assert "<html" not in html


@pytest.mark.parametrize("name", ["accounts:address_edit", "accounts:address_delete"])
@pytest.mark.parametrize("method", ["get", "post"])
def test_other_users_addresses_are_404_on_the_html_site(signed_in, name, method):
    foreign = AddressFactory()
    response = getattr(signed_in, method)(reverse(name, args=[foreign.pk]))
    assert response.status_code == 404
    assert Address.objects.filter(pk=foreign.pk).exists()


# --- password change and must_change_password ------------------------------------------------


def test_password_change_keeps_the_session(signed_in, user):
    response = signed_in.post(
        reverse("accounts:password_change"),
        {
            "old_password": "pass12345!",
            "new_password1": "An0ther-pass!",
            "new_password2": "An0ther-pass!",
        },
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("An0ther-pass!")
    assert signed_in.get(reverse("accounts:account")).status_code == 200


def test_password_change_with_a_wrong_old_password_shows_the_error(signed_in, user):
    response = signed_in.post(
        reverse("accounts:password_change"),
        {
            "old_password": "nope",
            "new_password1": "An0ther-pass!",
            "new_password2": "An0ther-pass!",
        },
    )
    assert response.status_code == 200
    assert b"Your current password is incorrect." in response.content
    assert b'aria-describedby="id_old_password_error"' in response.content


def test_flagged_user_is_sent_to_change_password_after_sign_in(client):
    UserFactory(email="flagged@example.com", must_change_password=True)
    response = client.post(
        reverse("accounts:login") + "?next=/accounts/",
        {"email": "flagged@example.com", "password": "pass12345!"},
        follow=True,
    )
    assert response.redirect_chain[-1][0].startswith(reverse("accounts:password_change"))
    assert b"Please choose a new password before continuing." in response.content
    assert "accounts/password_change.html" in [t.name for t in response.templates]


def test_flagged_user_is_held_on_the_change_page_until_they_change_it(client):
    user = UserFactory(email="flagged@example.com", must_change_password=True)
    client.force_login(user)
    blocked = client.get(reverse("accounts:account"))
    assert blocked.status_code == 302
    assert blocked.url.startswith(reverse("accounts:password_change"))
    changed = client.post(
        blocked.url,
        {
            "old_password": "pass12345!",
            "new_password1": "An0ther-pass!",
            "new_password2": "An0ther-pass!",
        },
    )
    assert changed.status_code == 302
    assert changed.url == reverse("accounts:account")
    assert client.get(reverse("accounts:account")).status_code == 200


# --- password reset --------------------------------------------------------------------------


@pytest.fixture
def reset_signals():
    calls = []

    def receiver(sender, **kwargs):
        calls.append(kwargs)

    password_reset_requested.connect(receiver, weak=False)
    yield calls
    password_reset_requested.disconnect(receiver)


def test_password_reset_end_to_end(
    client, user, reset_signals, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("accounts:password_reset"), {"email": user.email})
    assert response.url == reverse("accounts:password_reset_done")
    [signal] = reset_signals
    path = signal["reset_url"].split("://", 1)[1].split("/", 1)[1]

    landing = client.get("/" + path)
    assert landing.status_code == 302
    assert signal["token"] not in landing.url
    form_page = client.get(landing.url)
    assert form_page.status_code == 200
    assert_accessible_form(form_page.content.decode())

    done = client.post(
        landing.url, {"new_password1": "Brand-new-42", "new_password2": "Brand-new-42"}
    )
    assert done.url == reverse("accounts:password_reset_complete")
    user.refresh_from_db()
    assert user.check_password("Brand-new-42")
    assert client.get(done.url).status_code == 200

    reused = client.get("/" + path)
    assert reused.status_code == 200
    assert b"invalid or has expired" in reused.content


def test_password_reset_for_an_unknown_email_looks_the_same(
    client, reset_signals, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("accounts:password_reset"), {"email": "ghost@example.com"})
    assert response.url == reverse("accounts:password_reset_done")
    assert reset_signals == []
    assert client.get(response.url).status_code == 200


def test_password_reset_confirm_with_a_bad_link_says_so(client):
    response = client.get(
        reverse("accounts:password_reset_confirm", kwargs={"uidb64": "MQ", "token": "bad-token"})
    )
    assert response.status_code == 200
    assert b"invalid or has expired" in response.content


def test_password_reset_placeholder_without_a_session_token_is_invalid(client, user):
    from accounts.views import RESET_URL_TOKEN

    response = client.get(
        reverse(
            "accounts:password_reset_confirm", kwargs={"uidb64": "MQ", "token": RESET_URL_TOKEN}
        )
    )
    assert b"invalid or has expired" in response.content
