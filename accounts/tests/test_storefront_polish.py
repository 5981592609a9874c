"""Issue 18 (storefront polish), the account pages: the password change form, the header's
account menu and "Sign in" link, the account page's links and the country names."""

import pytest
from django.urls import reverse

from accounts.tests.factories import DEFAULT_PASSWORD, AddressFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client, user):
    client.force_login(user)
    return client


def test_a_wrong_current_password_is_reported_even_when_the_new_ones_differ(signed_in, user):
    response = signed_in.post(
        reverse("accounts:password_change"),
        {"old_password": "nope", "new_password1": "An0ther-pass!", "new_password2": "Different-1!"},
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "Your current password is incorrect." in body
    assert "The two passwords do not match." in body
    assert 'aria-describedby="id_old_password_error"' in body
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


def test_the_right_current_password_with_differing_new_ones_only_reports_the_mismatch(
    signed_in, user
):
    response = signed_in.post(
        reverse("accounts:password_change"),
        {
            "old_password": DEFAULT_PASSWORD,
            "new_password1": "An0ther-pass!",
            "new_password2": "Different-1!",
        },
    )
    body = response.content.decode()
    assert "Your current password is incorrect." not in body
    assert "The two passwords do not match." in body


def test_the_header_account_menu_and_the_account_page_link_the_orders(signed_in, user):
    body = signed_in.get(reverse("accounts:account")).content.decode()
    menu = body[body.index('data-testid="account-menu"') : body.index("</details>")]
    assert f'href="{reverse("orders:list")}">Orders</a>' in menu
    assert "Sign out" in menu
    assert 'data-testid="account-orders-link"' in body


def test_sign_in_in_the_header_comes_back_to_the_page(client):
    body = client.get("/search/?q=tea").content.decode()
    assert 'href="/accounts/login/?next=/search/%3Fq%3Dtea"' in body
    # Not on the sign-in page itself.
    login = client.get(reverse("accounts:login")).content.decode()
    assert 'href="/accounts/login/?next=' not in login


def test_signing_in_from_the_header_link_returns_to_that_page(client, user):
    response = client.post(
        "/accounts/login/?next=/search/%3Fq%3Dtea",
        {"email": user.email, "password": DEFAULT_PASSWORD},
    )
    assert response.status_code == 302
    assert response["Location"] == "/search/?q=tea"


def test_the_address_book_shows_country_names(signed_in, user):
    AddressFactory(user=user, country="DE")
    body = signed_in.get(reverse("accounts:account")).content.decode()
    assert "Germany" in body
    assert '<select name="new-country"' in body
