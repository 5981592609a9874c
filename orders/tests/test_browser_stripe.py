"""Checkout with Stripe.js in a real Chromium: the Stripe adapter against the local stand-in,
which also serves a Stripe.js-compatible script and delivers signed webhooks to the live
server, as Stripe does."""

import re

import pytest
from playwright.sync_api import expect

from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from notifications.models import Notification, NotificationKind
from orders.models import Order, OrderStatus, PaymentStatus
from orders.tests.factories import fast_gateway  # noqa: F401
from orders.tests.test_browser_journeys import add_teapot_to_cart, fill_address, kitchen  # noqa: F401

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fast_gateway", "kitchen"),
]


@pytest.fixture
def stripe_checkout(stripe_api, settings, live_server):
    """Stripe is the shop's gateway; pages load the stand-in's Stripe.js; its events go to
    the live server's webhook endpoint."""
    settings.STRIPE_JS_URL = f"{stripe_api.url}/v3/"
    stripe_api.webhook_url = f"{live_server.url}/api/v1/payments/webhooks/stripe/"
    return stripe_api


def sign_in(page, email: str) -> None:
    UserFactory(email=email)
    page.goto("/accounts/login/")
    page.fill("#id_email", email)
    page.fill("#id_password", DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def test_a_card_paid_with_stripe_js_places_a_paid_order(browser_page, screenshot, stripe_checkout):
    page = browser_page
    sign_in(page, "stripe.shopper@example.com")
    add_teapot_to_cart(page)
    response = page.goto("/checkout/")
    policy = response.headers["content-security-policy"]
    assert f"script-src 'self' {stripe_checkout.url}" in policy
    assert "https://hooks.stripe.com" in policy
    expect(page.locator("[data-testid=test-cards]")).to_have_count(0)
    fill_address(page)
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    screenshot(page, "stripe-checkout")
    page.get_by_role("button", name="Place order").click()

    page.wait_for_url("**/checkout/done/**")
    expect(page.get_by_role("heading", name="Thank you for your order!")).to_be_visible()
    number = page.locator("[data-testid=order-number]").inner_text()
    order = Order.objects.get(number=number)
    assert (order.status, order.payment_status) == (OrderStatus.RECEIVED, PaymentStatus.PAID)
    (intent,) = stripe_checkout.charges()
    assert (intent["payment_method"], intent["metadata"]) == (
        "pm_card_visa",
        {"order_number": number},
    )
    assert not [e for e in page.console_errors if "Content Security Policy" in e]


def test_3d_secure_in_the_page_then_the_webhook_marks_the_order_paid(
    browser_page, screenshot, stripe_checkout
):
    page = browser_page
    sign_in(page, "three.ds@example.com")
    add_teapot_to_cart(page)
    page.goto("/checkout/")
    fill_address(page)
    page.get_by_label("Card number").fill("4000 0027 6000 3184")
    page.get_by_role("button", name="Place order").click()

    # The order waits in pending_payment; Stripe.js shows the bank's challenge.
    page.wait_for_url("**/checkout/done/**")
    expect(page.locator("[data-testid=payment-pending]")).to_contain_text(
        "Waiting for payment confirmation"
    )
    number = page.locator("[data-testid=order-number]").inner_text()
    assert Order.objects.get(number=number).status == OrderStatus.PENDING_PAYMENT
    challenge = page.get_by_role("dialog", name="3-D Secure")
    expect(challenge).to_be_visible()
    screenshot(page, "3ds-challenge")
    challenge.get_by_role("button", name="Complete authentication").click()

    # Then the order page, received once Stripe's webhook has confirmed the payment.
    page.wait_for_url(re.compile(rf"/orders/{number}/$"))
    # The page updates itself (it polls while the payment is pending).
    expect(page.locator("[data-testid=order-status]")).to_have_text("Received")
    expect(page.locator("[data-testid=payment-pending]")).to_have_count(0)
    screenshot(page, "paid-by-webhook")
    order = Order.objects.get(number=number)
    assert order.payment_status == PaymentStatus.PAID
    assert ("payment_intent.succeeded", 200) in stripe_checkout.delivered
    assert Notification.objects.filter(
        kind=NotificationKind.ORDER_CONFIRMATION, recipient="three.ds@example.com"
    ).exists()


def test_the_mock_gateway_keeps_its_test_cards_and_a_same_origin_policy(browser_page):
    page = browser_page
    sign_in(page, "mock.shopper@example.com")
    add_teapot_to_cart(page)
    response = page.goto("/checkout/")
    assert "script-src 'self';" in response.headers["content-security-policy"]
    assert "stripe" not in response.headers["content-security-policy"]
    expect(page.locator("[data-testid=test-cards]")).to_be_visible()
    expect(page.locator("[data-testid=stripe-card]")).to_have_count(0)
