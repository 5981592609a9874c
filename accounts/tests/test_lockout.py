"""Sign-in lockout (django-axes, accounts/lockout.py) on the API token endpoint and the HTML form.

Failures lock the (account, client IP) pair; a much higher per-IP ceiling stops password
spraying; failures during a lockout do not extend it; the owner gets back in through a reset
link.
"""

import re
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

TOKEN = "/api/v1/auth/token/"
LOGIN = "/accounts/login/"
RESET = "/accounts/password/reset/"
API_RESET = "/api/v1/auth/password/reset/"
API_RESET_CONFIRM = "/api/v1/auth/password/reset/confirm/"
RIGHT = "pass12345!"


def api_attempt(email, password, ip="10.0.0.1", **extra):
    return APIClient().post(
        TOKEN, {"email": email, "password": password}, format="json", REMOTE_ADDR=ip, **extra
    )


def html_attempt(client, email, password, ip="10.1.0.1"):
    return client.post(LOGIN, {"email": email, "password": password}, REMOTE_ADDR=ip)


def age_attempts(by: timedelta) -> None:
    """Move every recorded failure ``by`` into the past (time passing, without a clock fake)."""
    for attempt in AccessAttempt.objects.all():
        AccessAttempt.objects.filter(pk=attempt.pk).update(attempt_time=attempt.attempt_time - by)


# --- the (account, IP) pair ------------------------------------------------------------------


def test_failures_lock_the_account_from_that_address_only(settings):
    settings.AXES_FAILURE_LIMIT = 5
    UserFactory(email="victim@example.com")
    statuses = [
        api_attempt("victim@example.com", "wrong", ip="10.0.1.1").status_code for _ in "12345"
    ]
    assert statuses == [401, 401, 401, 401, 429]
    locked = api_attempt("victim@example.com", RIGHT, ip="10.0.1.1")
    assert locked.status_code == 429
    body = locked.json()
    assert body["code"] == "account_locked"
    assert body["detail"]
    assert "access" not in body
    # The owner, elsewhere, is not locked out by someone guessing from 10.0.1.1.
    assert api_attempt("victim@example.com", RIGHT, ip="10.0.2.1").status_code == 200


def test_failures_spread_over_addresses_lock_no_one(settings):
    settings.AXES_FAILURE_LIMIT = 3
    UserFactory(email="victim@example.com")
    for n in range(10):
        assert api_attempt("victim@example.com", "wrong", ip=f"10.0.3.{n}").status_code == 401
    assert api_attempt("victim@example.com", RIGHT, ip="10.0.4.1").status_code == 200


def test_email_case_does_not_dodge_the_pair_lockout(settings):
    settings.AXES_FAILURE_LIMIT = 3
    UserFactory(email="victim@example.com")
    for email in ["Victim@example.com", "VICTIM@example.com", "victim@EXAMPLE.com"]:
        api_attempt(email, "wrong", ip="10.0.3.9")
    assert api_attempt("victim@example.com", RIGHT, ip="10.0.3.9").status_code == 429


def test_the_user_agent_does_not_dodge_the_pair_lockout(settings):
    settings.AXES_FAILURE_LIMIT = 3
    UserFactory(email="victim@example.com")
    for n in range(3):
        api_attempt("victim@example.com", "wrong", ip="10.0.5.5", HTTP_USER_AGENT=f"bot/{n}")
    assert api_attempt("victim@example.com", RIGHT, ip="10.0.5.5").status_code == 429


def test_the_limit_comes_from_settings(settings):
    settings.AXES_FAILURE_LIMIT = 2
    UserFactory(email="victim@example.com")
    assert api_attempt("victim@example.com", "wrong").status_code == 401
    assert api_attempt("victim@example.com", "wrong").status_code == 429
    assert api_attempt("victim@example.com", RIGHT).status_code == 429


def test_sign_in_works_again_after_the_cool_off(settings):
    settings.AXES_FAILURE_LIMIT = 2
    UserFactory(email="victim@example.com")
    api_attempt("victim@example.com", "wrong")
    api_attempt("victim@example.com", "wrong")
    assert api_attempt("victim@example.com", RIGHT).status_code == 429
    age_attempts(settings.AXES_COOLOFF_TIME + timedelta(seconds=1))
    assert api_attempt("victim@example.com", RIGHT).status_code == 200


def test_a_successful_sign_in_resets_the_pair_counter(settings):
    settings.AXES_FAILURE_LIMIT = 3
    UserFactory(email="user@example.com")
    api_attempt("user@example.com", "wrong", ip="10.0.5.1")
    api_attempt("user@example.com", "wrong", ip="10.0.5.1")
    assert api_attempt("user@example.com", RIGHT, ip="10.0.5.1").status_code == 200
    api_attempt("user@example.com", "wrong", ip="10.0.5.1")
    api_attempt("user@example.com", "wrong", ip="10.0.5.1")
    assert api_attempt("user@example.com", RIGHT, ip="10.0.5.1").status_code == 200


def test_a_sign_in_from_another_address_leaves_an_attackers_pair_locked(settings):
    settings.AXES_FAILURE_LIMIT = 3
    UserFactory(email="victim@example.com")
    for _ in range(3):
        api_attempt("victim@example.com", "wrong", ip="10.0.6.6")
    assert api_attempt("victim@example.com", RIGHT, ip="10.0.7.7").status_code == 200
    assert api_attempt("victim@example.com", RIGHT, ip="10.0.6.6").status_code == 429


# --- failures during a lockout ---------------------------------------------------------------


@pytest.mark.parametrize("channel", ["api", "html"])
def test_failures_during_a_lockout_do_not_extend_it(client, settings, channel):
    settings.AXES_FAILURE_LIMIT = 3
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)
    UserFactory(email="victim@example.com")

    def attempt(password):
        if channel == "api":
            return api_attempt("victim@example.com", password, ip="10.0.8.8")
        return html_attempt(client, "victim@example.com", password, ip="10.0.8.8")

    for _ in range(3):
        attempt("wrong")
    assert attempt(RIGHT).status_code == 429
    # 14 minutes later the attacker is still hammering: refused, and not counted.
    age_attempts(timedelta(minutes=14))
    for _ in range(20):
        assert attempt("wrong").status_code == 429
    # 15 minutes and a bit after the failure that started the lockout, it is over.
    age_attempts(timedelta(minutes=1, seconds=1))
    assert attempt(RIGHT).status_code in (200, 302)


# --- the per-IP ceiling (password spraying) --------------------------------------------------


def test_failures_for_a_few_accounts_do_not_block_the_address(settings):
    settings.AXES_FAILURE_LIMIT = 5
    settings.LOGIN_IP_MAX_FAILURES = 50
    UserFactory(email="innocent@example.com")
    for n in range(5):
        api_attempt(f"guess{n}@example.com", "wrong", ip="10.9.9.9")
    assert api_attempt("innocent@example.com", RIGHT, ip="10.9.9.9").status_code == 200


def test_the_per_ip_ceiling_blocks_spraying_across_many_accounts(settings):
    settings.AXES_FAILURE_LIMIT = 5
    settings.LOGIN_IP_MAX_FAILURES = 12
    UserFactory(email="innocent@example.com")
    # One try per account, many accounts: no pair ever reaches 5.
    statuses = [
        api_attempt(f"guess{n}@example.com", "wrong", ip="10.9.9.9").status_code for n in range(12)
    ]
    assert statuses == [401] * 11 + [429]
    locked = api_attempt("innocent@example.com", RIGHT, ip="10.9.9.9")
    assert locked.status_code == 429
    assert locked.json()["code"] == "account_locked"
    # Only that address: the same account signs in from elsewhere.
    assert api_attempt("innocent@example.com", RIGHT, ip="10.9.9.10").status_code == 200
    # The ceiling lifts after the cool-off like any lockout.
    age_attempts(settings.AXES_COOLOFF_TIME + timedelta(seconds=1))
    assert api_attempt("innocent@example.com", RIGHT, ip="10.9.9.9").status_code == 200


def test_the_per_ip_ceiling_applies_to_the_html_form(client, settings):
    settings.AXES_FAILURE_LIMIT = 5
    settings.LOGIN_IP_MAX_FAILURES = 8
    UserFactory(email="innocent@example.com")
    for n in range(8):
        html_attempt(client, f"guess{n}@example.com", "wrong", ip="10.1.9.9")
    response = html_attempt(client, "innocent@example.com", RIGHT, ip="10.1.9.9")
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_per_ip_ceiling_uses_the_client_ip_behind_a_proxy(settings):
    settings.NUM_PROXIES = 1
    settings.AXES_FAILURE_LIMIT = 5
    settings.LOGIN_IP_MAX_FAILURES = 6
    UserFactory(email="innocent@example.com")
    proxy = {"ip": "10.0.0.2"}
    for n in range(6):
        api_attempt(f"guess{n}@example.com", "wrong", HTTP_X_FORWARDED_FOR="198.51.100.7", **proxy)
    # Another shopper behind the same proxy is not blocked; the sprayer is.
    ok = api_attempt("innocent@example.com", RIGHT, HTTP_X_FORWARDED_FOR="198.51.100.8", **proxy)
    assert ok.status_code == 200
    spoofed = api_attempt(
        "innocent@example.com", RIGHT, HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.7", **proxy
    )
    assert spoofed.status_code == 429


# --- 50 wrong passwords from one address ---------------------------------------------------


def _reset_link_path(mailoutbox) -> str:
    [message] = [m for m in mailoutbox if "/accounts/reset/" in m.body]
    url = re.search(r"https?://\S+/accounts/reset/\S+/", message.body).group(0)
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def test_fifty_wrong_passwords_neither_block_the_address_nor_keep_the_owner_out(
    client, settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.AXES_FAILURE_LIMIT = 5
    settings.LOGIN_IP_MAX_FAILURES = 50
    office = "203.0.113.50"
    UserFactory(email="victim@example.com")
    UserFactory(email="colleague@example.com")
    for _ in range(50):
        html_attempt(client, "victim@example.com", "wrong", ip=office)
    for _ in range(50):
        api_attempt("victim@example.com", "wrong", ip=office)
    assert html_attempt(client, "victim@example.com", RIGHT, ip=office).status_code == 429
    assert api_attempt("victim@example.com", RIGHT, ip=office).status_code == 429

    # (a) Another user signing in from the same address is not blocked.
    assert api_attempt("colleague@example.com", RIGHT, ip=office).status_code == 200
    colleague = html_attempt(client, "colleague@example.com", RIGHT, ip=office)
    assert colleague.status_code == 302
    client.post("/accounts/logout/", REMOTE_ADDR=office)

    # (b) The owner recovers through the emailed reset link, from that same address.
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(RESET, {"email": "victim@example.com"}, REMOTE_ADDR=office)
    assert response.status_code == 302
    landing = client.get(_reset_link_path(mailoutbox), REMOTE_ADDR=office)
    assert landing.status_code == 302
    done = client.post(
        landing.url,
        {"new_password1": "Brand-new-42", "new_password2": "Brand-new-42"},
        REMOTE_ADDR=office,
    )
    assert done.status_code == 302
    signed_in = html_attempt(client, "victim@example.com", "Brand-new-42", ip=office)
    assert signed_in.status_code == 302
    assert client.session["_auth_user_id"]
    assert api_attempt("victim@example.com", "Brand-new-42", ip=office).status_code == 200


def test_a_password_reset_over_the_api_clears_the_accounts_lockouts(
    settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.AXES_FAILURE_LIMIT = 5
    UserFactory(email="victim@example.com")
    for ip in ("10.4.0.1", "10.4.0.2"):
        for _ in range(8):
            api_attempt("victim@example.com", "wrong", ip=ip)
    assert api_attempt("victim@example.com", RIGHT, ip="10.4.0.1").status_code == 429

    api = APIClient()
    with django_capture_on_commit_callbacks(execute=True):
        api.post(API_RESET, {"email": "victim@example.com"}, format="json", REMOTE_ADDR="10.4.0.1")
    uid, token = _reset_link_path(mailoutbox).strip("/").split("/")[-2:]
    body = {"uid": uid, "token": token, "new_password": "Brand-new-42"}
    assert api.post(API_RESET_CONFIRM, body, format="json").status_code == 204
    for ip in ("10.4.0.1", "10.4.0.2"):
        assert api_attempt("victim@example.com", "Brand-new-42", ip=ip).status_code == 200


# --- the HTML form and the admin ------------------------------------------------------------


def test_html_sign_in_is_locked_after_the_limit_with_a_friendly_page(client, settings):
    settings.AXES_FAILURE_LIMIT = 5
    UserFactory(email="victim@example.com")
    statuses = [
        html_attempt(client, "victim@example.com", "wrong", ip="10.1.1.1").status_code
        for _ in range(5)
    ]
    assert statuses == [200, 200, 200, 200, 429]
    response = html_attempt(client, "victim@example.com", RIGHT, ip="10.1.1.1")
    assert response.status_code == 429
    assert "accounts/locked_out.html" in [t.name for t in response.templates]
    assert b"Too many sign-in attempts" in response.content
    assert b"reset it by email" in response.content
    assert "_auth_user_id" not in client.session


def test_api_failures_count_towards_the_html_lockout(client, settings):
    settings.AXES_FAILURE_LIMIT = 3
    UserFactory(email="victim@example.com")
    for _ in range(3):
        api_attempt("victim@example.com", "wrong", ip="10.2.0.1")
    response = html_attempt(client, "victim@example.com", RIGHT, ip="10.2.0.1")
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
    UserFactory(email="boss@example.com", is_staff=True, is_superuser=True)
    for email in ["Boss@example.com", "BOSS@example.com", "boss@Example.com"]:
        client.post(
            "/admin/login/", {"username": email, "password": "wrong"}, REMOTE_ADDR="10.3.0.1"
        )
    response = client.post(
        "/admin/login/", {"username": "boss@example.com", "password": RIGHT}, REMOTE_ADDR="10.3.0.1"
    )
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_lockout_username_normalizes_every_credential_shape():
    from accounts.lockout import lockout_username

    assert lockout_username(None, {"email": " A@B.com "}) == "a@b.com"
    assert lockout_username(None, {"username": "X@Y.org"}) == "x@y.org"
    assert lockout_username(None, {"email": None}) is None


def test_the_lockout_is_configured_by_pair_with_our_client_ip():
    from shop.settings import base

    assert base.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]
    assert base.AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT is False
    assert base.AXES_CLIENT_IP_CALLABLE == "shop.client_ip.client_ip"
    assert base.LOGIN_IP_MAX_FAILURES == 50
