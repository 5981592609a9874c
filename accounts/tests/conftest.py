import pytest
from axes.utils import reset as reset_axes
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.tests.factories import UserFactory


@pytest.fixture(autouse=True)
def _clean_lockouts(db):
    """Start every test with no recorded sign-in failures."""
    reset_axes()
    yield
    reset_axes()


@pytest.fixture
def user(db):
    return UserFactory(email="shopper@example.com", first_name="Ada", last_name="Lovelace")


def bearer_client(user) -> APIClient:
    """Return an API client authenticated with a real JWT access token for ``user``."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


@pytest.fixture
def user_client(user) -> APIClient:
    return bearer_client(user)
