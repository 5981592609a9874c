"""The HTML checkout with the Stripe adapter (without a browser: what the pages send); the
journeys in Chromium are in test_browser_stripe."""

from decimal import Decimal

import pytest

from accounts.tests.factories import UserFactory
from catalog.tests.factories import make_variant
from orders.models import Order, OrderStatus
from orders.tests.factories import cart_with, fast_gateway  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_gateway")]

CHECKOUT = "/checkout/"


def directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    return {d.split()[0]: d.split()[1:] for d in policy.split(";") if d.strip()}


@pytest.fixture
def shopper(client):
    user = UserFactory(email="ada@example.com")
    cart_with(user, (make_variant(sku="TEA-1", price=Decimal("20.00"), on_hand=5), 2))
    client.force_login(user)
    return user


def form_for(page) -> dict:
    html = page.content.decode()
    key = html.split('name="idempotency_key" value="')[1].split('"')[0]
    total = html.split('name="expected_total" value="')[1].split('"')[0]
    return {
        "idempotency_key": key,
        "expected_total": total,
        "address": "new",
        "full_name": "Ada Lovelace",
        "line1": "1 Analytical Way",
        "city": "London",
        "postal_code": "N1 9GU",
        "country": "GB",
    }


def test_with_stripe_the_page_loads_stripe_js_and_the_csp_allows_exactly_stripe(
    client, shopper, stripe_api, settings
):
    settings.STRIPE_JS_URL = "https://js.stripe.com/v3/"
    settings.STRIPE_API_BASE = "https://api.stripe.com"
    page = client.get(CHECKOUT)
    html = page.content.decode()
    assert '<script src="https://js.stripe.com/v3/" defer></script>' in html
    assert 'data-stripe-key="pk_test_shop"' in html
    assert 'data-testid="test-cards"' not in html
    policy = directives(page)
    assert policy["script-src"] == ["'self'", "https://js.stripe.com"]
    assert policy["connect-src"] == ["'self'", "https://api.stripe.com"]
    assert policy["frame-src"] == ["'self'", "https://js.stripe.com", "https://hooks.stripe.com"]
    assert policy["frame-ancestors"] == ["'none'"]


def test_with_the_mock_the_policy_stays_same_origin(client, shopper):
    page = client.get(CHECKOUT)
    policy = directives(page)
    assert policy["script-src"] == ["'self'"]
    assert "frame-src" not in policy
    assert "stripe" not in page["Content-Security-Policy"]
    assert "stripe-payments.js" not in page.content.decode()


def test_a_3d_secure_card_lands_on_a_pending_page_that_finishes_the_payment(
    client, shopper, stripe_api
):
    page = client.get(CHECKOUT)
    answer = client.post(
        CHECKOUT, {**form_for(page), "payment_token": "pm_card_threeDSecure2Required"}
    )
    order = Order.objects.get()
    assert order.status == OrderStatus.PENDING_PAYMENT
    assert answer.status_code == 302
    done = client.get(answer["Location"])
    html = done.content.decode()
    assert "Waiting for payment confirmation" in html
    assert f'data-client-secret="{order.payment_action["client_secret"]}"' in html
    assert f'data-next="/orders/{order.number}/"' in html
    detail = client.get(f"/orders/{order.number}/").content.decode()
    assert "Waiting for payment confirmation" in detail
    assert "Printable invoice" not in detail


def test_without_javascript_the_stripe_form_asks_for_the_card_again(client, shopper, stripe_api):
    page = client.get(CHECKOUT)
    answer = client.post(CHECKOUT, {**form_for(page), "payment_token": ""})
    assert answer.status_code == 200
    assert not Order.objects.exists()
    assert "A payment token is required." in answer.content.decode()
