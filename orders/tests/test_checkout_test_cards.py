"""The checkout page offers the mock gateway's test cards only while that gateway is active."""

import uuid
from decimal import Decimal

import pytest

from accounts.tests.factories import UserFactory
from catalog.tests.factories import make_variant
from orders.models import Order
from orders.payments.gateways import ChargeResult, MockGateway, PaymentGateway
from orders.tests.factories import ADDRESS, cart_with, fast_gateway  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_gateway")]

CHECKOUT = "/checkout/"
TEST_TOKENS = ("tok_success", "tok_declined", "tok_transient", "tok_unavailable")


class ProviderGateway(PaymentGateway):
    """A stand-in for a real provider: charges whatever token its card widget issued."""

    name = "provider"
    tokens: list[str] = []

    def charge(self, *, amount: Decimal, currency: str, token: str, reference: str) -> ChargeResult:
        self.tokens.append(token)
        return ChargeResult(f"ch_{uuid.uuid4().hex[:24]}", amount, currency)


class BrandedMockGateway(MockGateway):
    """Still the mock gateway, under another name."""


@pytest.fixture
def shopper_with_cart(client):
    user = UserFactory(email="ada@example.com")
    variant = make_variant(sku="TEA-1", price=Decimal("20.00"), on_hand=5)
    cart_with(user, (variant, 1))
    client.force_login(user)
    return user


@pytest.mark.parametrize(
    "gateway", ["orders.payments.gateways.MockGateway", f"{__name__}.BrandedMockGateway"]
)
def test_the_mock_gateway_lists_its_test_cards(client, settings, shopper_with_cart, gateway):
    settings.SHOP_PAYMENT_GATEWAY = gateway

    page = client.get(CHECKOUT)

    assert page.status_code == 200
    html = page.content.decode()
    assert "test payment gateway" in html
    assert 'data-testid="test-cards"' in html
    for token in TEST_TOKENS:
        assert f'value="{token}"' in html
    assert [card.token for card in page.context["cards"]] == list(TEST_TOKENS)


def test_a_real_gateway_shows_no_test_cards(client, settings, shopper_with_cart):
    settings.SHOP_PAYMENT_GATEWAY = f"{__name__}.ProviderGateway"

    page = client.get(CHECKOUT)

    assert page.status_code == 200
    html = page.content.decode()
    assert page.context["cards"] == []
    assert "test payment gateway" not in html
    assert 'data-testid="test-cards"' not in html
    for token in TEST_TOKENS:
        assert token not in html
    # The payment token field is there, empty, for the provider's card widget to fill.
    assert 'data-testid="payment-token"' in html
    assert 'name="payment_token"' in html


def test_a_real_gateway_charges_the_token_the_form_carries(client, settings, shopper_with_cart):
    settings.SHOP_PAYMENT_GATEWAY = f"{__name__}.ProviderGateway"
    ProviderGateway.tokens.clear()
    page = client.get(CHECKOUT)
    key = page.context["idempotency_key"]

    response = client.post(
        CHECKOUT,
        {
            "idempotency_key": key,
            "address": "new",
            "payment_token": "pm_card_from_widget",
            **ADDRESS,
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    assert ProviderGateway.tokens == ["pm_card_from_widget"]
    assert Order.objects.filter(user=shopper_with_cart).count() == 1
