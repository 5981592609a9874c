"""seed_shop's demo admin: made in development or with an explicit password, never by default
in production (where the documented path is createsuperuser)."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from catalog.models import Product

pytestmark = pytest.mark.django_db

ADMIN = "admin@shop.com"


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_shop", "--products", "2", *args, stdout=out, stderr=out)
    return out.getvalue()


def admins():
    return get_user_model().objects.filter(email__iexact=ADMIN)


def test_production_seed_makes_no_public_admin_and_points_to_createsuperuser(settings):
    settings.DEBUG = False
    settings.SHOP_SEED_ADMIN_PASSWORD = ""

    output = seed()

    assert not admins().exists()
    assert not get_user_model().objects.filter(is_superuser=True).exists()
    assert "createsuperuser" in output
    # The catalog is still seeded.
    assert Product.objects.count() == 2


def test_development_seed_makes_the_demo_admin(settings):
    settings.DEBUG = True
    settings.SHOP_SEED_ADMIN_PASSWORD = ""

    output = seed()

    admin = admins().get()
    assert admin.is_superuser
    assert admin.is_staff
    assert admin.must_change_password
    assert admin.check_password("admin123")
    assert f"Created admin {ADMIN}" in output


def test_an_explicit_admin_password_makes_the_admin_in_production(settings):
    settings.DEBUG = False
    settings.SHOP_SEED_ADMIN_PASSWORD = ""

    seed("--admin-password", "Correct-Horse-Battery-9")

    admin = admins().get()
    assert admin.is_superuser
    assert admin.must_change_password
    assert admin.check_password("Correct-Horse-Battery-9")
    assert not admin.check_password("admin123")


def test_the_admin_password_can_come_from_the_environment_setting(settings):
    settings.DEBUG = False
    settings.SHOP_SEED_ADMIN_PASSWORD = "Env-Supplied-Secret-77"

    seed()

    assert admins().get().check_password("Env-Supplied-Secret-77")


def test_the_option_wins_over_the_setting(settings):
    settings.DEBUG = True
    settings.SHOP_SEED_ADMIN_PASSWORD = "Env-Supplied-Secret-77"

    seed("--admin-password", "Option-Supplied-Secret-88")

    assert admins().get().check_password("Option-Supplied-Secret-88")


def test_a_weak_explicit_password_is_refused_before_anything_is_seeded(settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="admin-password"):
        seed("--admin-password", "admin123")

    assert not admins().exists()
    assert not Product.objects.exists()


def test_an_existing_admin_is_left_alone(settings):
    settings.DEBUG = True
    seed()
    seed("--admin-password", "Another-Strong-Secret-5")

    assert admins().count() == 1
    assert admins().get().check_password("admin123")
