"""django-axes lockout on the API token endpoint and the HTML sign-in form."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

TOKEN = "/api/v1/auth/token/"
LOGIN = "/accounts/login/"


def api_attempt(email, password, ip="10.0.0.1"):
    return APIClient().post(
        TOKEN, {"email": email, "password": password}, format="json", REMOTE_ADDR=ip
    )


def test_the_account_is_locked_after_the_limit_even_from_new_ips(settings):
    settings.AXES_FAILURE_LIMIT = 5
    UserFactory(email="victim@example.com")
    statuses = [
        api_attempt("victim@example.com", "wrong", ip=f"10.0.1.{n}").status_code for n in range(5)
    ]
    assert statuses == [401, 401, 401, 401, 429]
    response = api_attempt("victim@example.com", "pass12345!", ip="10.0.2.1")
    assert response.status_code == 429
    body = response.json()
    assert body["code"] == "account_locked"
    assert body["detail"]
    assert "access" not in body


def test_email_case_does_not_dodge_the_account_lockout(settings):
    settings.AXES_FAILURE_LIMIT = 3
    UserFactory(email="victim@example.com")
    for n, email in enumerate(["Victim@example.com", "VICTIM@example.com", "victim@EXAMPLE.com"]):
        api_attempt(email, "wrong", ip=f"10.0.3.{n}")
    assert api_attempt("victim@example.com", "pass12345!", ip="10.0.4.1").status_code == 429


def test_an_ip_is_locked_after_the_limit_even_for_other_accounts(settings):
    settings.AXES_FAILURE_LIMIT = 5
    UserFactory(email="innocent@example.com")
    for n in range(5):
        api_attempt(f"guess{n}@example.com", "wrong", ip="10.9.9.9")
    locked = api_attempt("innocent@example.com", "pass12345!", ip="10.9.9.9")
    assert locked.status_code == 429
    assert locked.json()["code"] == "account_locked"
    assert api_attempt("innocent@example.com", "pass12345!", ip="10.9.9.10").status_code == 200


def test_the_limit_comes_from_settings(settings):
    settings.AXES_FAILURE_LIMIT = 2
    UserFactory(email="victim@example.com")
    assert api_attempt("victim@example.com", "wrong").status_code == 401
    assert api_attempt("victim@example.com", "wrong").status_code == 429
    assert api_attempt("victim@example.com", "pass12345!").status_code == 429


def test_sign_in_works_again_after_the_cool_off(settings):
    settings.AXES_FAILURE_LIMIT = 2
    UserFactory(email="victim@example.com")
    api_attempt("victim@example.com", "wrong")
    api_attempt("victim@example.com", "wrong")
    assert api_attempt("victim@example.com", "pass12345!").status_code == 429
    AccessAttempt.objects.update(
        attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1)
    )
    assert api_attempt("victim@example.com", "pass12345!").status_code == 200


def test_a_successful_sign_in_resets_the_account_counter(settings):
    settings.AXES_FAILURE_LIMIT = 3
    UserFactory(email="user@example.com")
    api_attempt("user@example.com", "wrong", ip="10.0.5.1")
    api_attempt("user@example.com", "wrong", ip="10.0.5.2")
    assert api_attempt("user@example.com", "pass12345!", ip="10.0.5.3").status_code == 200
    api_attempt("user@example.com", "wrong", ip="10.0.5.4")
    api_attempt("user@example.com", "wrong", ip="10.0.5.5")
    assert api_attempt("user@example.com", "pass12345!", ip="10.0.5.6").status_code == 200


def html_attempt(client, email, password, ip="10.1.0.1"):
    return client.post(LOGIN, {"email": email, "password": password}, REMOTE_ADDR=ip)


def test_html_sign_in_is_locked_after_the_limit_with_a_friendly_page(client, settings):
    settings.AXES_FAILURE_LIMIT = 5
    UserFactory(email="victim@example.com")
    statuses = [
        html_attempt(client, "victim@example.com", "wrong", ip=f"10.1.1.{n}").status_code
        for n in range(5)
    ]
    assert statuses == [200, 200, 200, 200, 429]
    response = html_attempt(client, "victim@example.com", "pass12345!", ip="10.1.2.1")
    assert response.status_code == 429
    assert "accounts/locked_out.html" in [t.name for t in response.templates]
    assert b"Too many sign-in attempts" in response.content
    assert "_auth_user_id" not in client.session


def test_html_sign_in_locks_an_ip_across_accounts(client, settings):
    settings.AXES_FAILURE_LIMIT = 5
    UserFactory(email="innocent@example.com")
    for n in range(5):
        html_attempt(client, f"guess{n}@example.com", "wrong", ip="10.1.9.9")
    response = html_attempt(client, "innocent@example.com", "pass12345!", ip="10.1.9.9")
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_api_failures_count_towards_the_html_lockout(client, settings):
    settings.AXES_FAILURE_LIMIT = 3
    UserFactory(email="victim@example.com")
    for n in range(3):
        api_attempt("victim@example.com", "wrong", ip=f"10.2.0.{n}")
    response = html_attempt(client, "victim@example.com", "pass12345!", ip="10.2.1.1")
    assert response.status_code == 429


def test_the_lockout_page_says_when_to_try_again(client, settings):
    settings.AXES_FAILURE_LIMIT = 1
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)
    response = html_attempt(client, "someone@example.com", "wrong")
    assert response.status_code == 429
    assert b"Please try again in 15 minutes." in response.content
    assert b"sign-in has been paused after 1 failed attempt." in response.content


def test_admin_login_failures_lock_the_account_whatever_the_email_case(client, settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.AXES_USERNAME_CALLABLE = "accounts.lockout.lockout_username"
    UserFactory(email="boss@example.com", is_staff=True, is_superuser=True)
    for n, email in enumerate(["Boss@example.com", "BOSS@example.com", "boss@Example.com"]):
        client.post(
            "/admin/login/", {"username": email, "password": "wrong"}, REMOTE_ADDR=f"10.3.0.{n}"
        )
    response = client.post(
        "/admin/login/",
        {"username": "boss@example.com", "password": "pass12345!"},
        REMOTE_ADDR="10.3.1.1",
    )
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_lockout_username_normalizes_every_credential_shape():
    from accounts.lockout import lockout_username

    assert lockout_username(None, {"email": " A@B.com "}) == "a@b.com"
    assert lockout_username(None, {"username": "X@Y.org"}) == "x@y.org"
    assert lockout_username(None, {"email": None}) is None
