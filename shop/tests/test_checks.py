"""The fail-closed production checks (shop/checks.py), in process with the settings changed."""

import secrets

import pytest
from django.core.checks import Error, run_checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings

from orders.payments.gateways import MockGateway, PaymentGateway
from shop.checks import KNOWN_PUBLIC_SECRET_KEYS, PRODUCTION_TAG, production_errors

# Only the checks read the overridden DATABASES: no test here touches a connection.
pytestmark = pytest.mark.filterwarnings("ignore:Overriding setting DATABASES")

SQLITE = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
POSTGRES = {"default": {"ENGINE": "django.db.backends.postgresql", "NAME": "shop"}}
MOCK = "orders.payments.gateways.MockGateway"


class RealGateway(PaymentGateway):
    """A provider adapter (the check only looks at what class it is)."""


class RenamedMock(MockGateway):
    """The mock gateway under another path is still the mock gateway."""


def production(**overrides):
    """Settings of a correct production deployment, but for ``overrides``."""
    values = {
        "DEBUG": False,
        "SECRET_KEY": secrets.token_urlsafe(50),
        "SECRET_KEY_FALLBACKS": [],
        "DATABASES": POSTGRES,
        "SHOP_PAYMENT_GATEWAY": f"{__name__}.RealGateway",
        "SHOP_ALLOW_TEST_PAYMENTS": False,
        "SHOP_ALLOW_SQLITE": False,
    }
    values.update(overrides)
    return override_settings(**values)


def ids() -> list[str]:
    return sorted(message.id for message in run_checks(tags=[PRODUCTION_TAG]))


def test_a_correct_production_configuration_passes():
    with production():
        assert ids() == []
        assert production_errors() == []


@pytest.mark.parametrize("gateway", [MOCK, f"{__name__}.RenamedMock"])
def test_the_mock_gateway_is_refused_in_production(gateway):
    with production(SHOP_PAYMENT_GATEWAY=gateway):
        [error] = production_errors()
    assert isinstance(error, Error)
    assert error.id == "shop.E001"
    assert "SHOP_PAYMENT_GATEWAY" in error.msg
    assert "SHOP_ALLOW_TEST_PAYMENTS=true" in error.hint


def test_the_mock_gateway_is_allowed_explicitly_or_in_development():
    with production(SHOP_PAYMENT_GATEWAY=MOCK, SHOP_ALLOW_TEST_PAYMENTS=True):
        assert ids() == []
    with production(SHOP_PAYMENT_GATEWAY=MOCK, DEBUG=True):
        assert ids() == []


def test_a_gateway_that_cannot_be_imported_is_refused():
    with production(SHOP_PAYMENT_GATEWAY="orders.payments.gateways.NoSuchGateway"):
        assert ids() == ["shop.E002"]


@pytest.mark.parametrize(
    "key",
    [
        *sorted(KNOWN_PUBLIC_SECRET_KEYS),
        "django-insecure-" + "x1y2z3" * 10,  # startproject's development keys
        "short-secret",
        "a" * 80,  # long but hardly random
    ],
)
def test_a_public_or_weak_secret_key_is_refused(key):
    with production(SECRET_KEY=key):
        [error] = production_errors()
    assert error.id == "shop.E003"
    assert "SECRET_KEY" in error.msg
    assert "secrets.token_urlsafe(50)" in error.hint


def test_the_former_compose_and_development_keys_are_on_the_list():
    assert "django-insecure-dev-only-key-change-me" in KNOWN_PUBLIC_SECRET_KEYS
    assert (
        "compose-local-only-secret-key-override-me-in-dot-env-0123456789abcdef"
        in KNOWN_PUBLIC_SECRET_KEYS
    )


def test_a_public_key_among_the_fallbacks_is_refused():
    public = "compose-local-only-secret-key-override-me-in-dot-env-0123456789abcdef"
    with production(SECRET_KEY_FALLBACKS=[secrets.token_urlsafe(50), public]):
        assert ids() == ["shop.E004"]


def test_sqlite_is_refused_in_production_unless_allowed():
    with production(DATABASES=SQLITE):
        [error] = production_errors()
    assert error.id == "shop.E005"
    assert "DATABASE_URL=postgres://" in error.hint
    assert "SHOP_ALLOW_SQLITE=true" in error.hint
    with production(DATABASES=SQLITE, SHOP_ALLOW_SQLITE=True):
        assert ids() == []


def test_development_reports_nothing():
    with production(
        DEBUG=True,
        SECRET_KEY="django-insecure-dev-only-key-change-me",
        DATABASES=SQLITE,
        SHOP_PAYMENT_GATEWAY=MOCK,
    ):
        assert ids() == []


def test_the_checks_are_not_deploy_only():
    """So every start-up that runs checks (runserver, migrate, db_worker) refuses too."""
    with production(SHOP_PAYMENT_GATEWAY=MOCK):
        assert "shop.E001" in [m.id for m in run_checks(include_deployment_checks=False)]
        with pytest.raises(SystemCheckError, match="shop.E001"):
            call_command("check")


def test_check_deploy_fails_with_the_default_gateway_and_says_what_to_set():
    with production(SHOP_PAYMENT_GATEWAY=MOCK), pytest.raises(SystemCheckError) as caught:
        call_command("check", deploy=True)
    message = str(caught.value)
    assert "(shop.E001)" in message
    assert "SHOP_PAYMENT_GATEWAY" in message
    assert "SHOP_ALLOW_TEST_PAYMENTS=true" in message


def test_the_test_settings_opt_in_explicitly(settings):
    """pytest-django runs with DEBUG False; the suite allows its mock gateway and SQLite."""
    assert settings.DEBUG is False
    assert settings.SHOP_ALLOW_TEST_PAYMENTS is True
    assert settings.SHOP_ALLOW_SQLITE is True
    assert production_errors() == []


STRIPE = "orders.payments.stripe.StripeGateway"
STRIPE_KEYS = {
    "STRIPE_SECRET_KEY": "sk_live_x",
    "STRIPE_PUBLISHABLE_KEY": "pk_live_x",
    "STRIPE_WEBHOOK_SECRET": "whsec_x",
}


def test_stripe_with_its_keys_passes_in_production():
    with production(SHOP_PAYMENT_GATEWAY=STRIPE, **STRIPE_KEYS):
        assert ids() == []


@pytest.mark.parametrize("missing", sorted(STRIPE_KEYS))
def test_stripe_without_a_key_or_the_webhook_secret_is_refused_in_production(missing):
    with production(SHOP_PAYMENT_GATEWAY=STRIPE, **{**STRIPE_KEYS, missing: ""}):
        [error] = production_errors()
    assert error.id == "orders.E001"
    assert missing in error.msg


def test_stripe_settings_are_not_checked_in_development():
    with override_settings(DEBUG=True, SHOP_PAYMENT_GATEWAY=STRIPE, STRIPE_SECRET_KEY=""):
        assert "orders.E001" not in ids()
