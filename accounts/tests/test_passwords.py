import importlib

import pytest
from django.contrib.auth.hashers import check_password, make_password
from django.test import override_settings

from accounts.tests.factories import UserFactory

ARGON2 = "django.contrib.auth.hashers.Argon2PasswordHasher"


def test_production_settings_hash_passwords_with_argon2_first():
    base = importlib.import_module("shop.settings.base")
    assert base.PASSWORD_HASHERS[0] == ARGON2


@override_settings(PASSWORD_HASHERS=[ARGON2])
def test_argon2_hashes_verify_and_are_salted():
    encoded = make_password("pass12345!")
    assert encoded.startswith("argon2$argon2id$")
    assert check_password("pass12345!", encoded)
    assert not check_password("pass12345?", encoded)
    assert make_password("pass12345!") != encoded


@pytest.mark.django_db
@override_settings(PASSWORD_HASHERS=[ARGON2])
def test_user_passwords_are_stored_as_argon2():
    user = UserFactory()
    user.refresh_from_db()
    assert user.password.startswith("argon2")
    assert user.check_password("pass12345!")
