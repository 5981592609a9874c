"""Guest checkout end to end in headless Chromium (issue 13): a shopper without an account
pays as a guest, gets the confirmation through a real SMTP server (aiosmtpd), opens the order
from the email's link, and the order stays a 404 to a browser without the token; and the total
the checkout showed is the total charged, even when another tab changes the cart."""

import re
import time
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from notifications.tests import conftest as notification_fixtures
from orders.models import Order, Payment
from orders.tests import test_browser_journeys as journeys
from orders.tests.factories import fast_gateway  # noqa: F401

# Fixtures shared with other modules: the real SMTP server and the kitchen catalogue.
smtp_server = notification_fixtures.smtp_server
kitchen = journeys.kitchen
add_teapot_to_cart, badge, fill_address = (
    journeys.add_teapot_to_cart,
    journeys.badge,
    journeys.fill_address,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fast_gateway"),
]
GUEST = "grace.guest@example.com"


def wait_for_email(server, address: str, timeout: float = 15.0):
    """Return the first message the SMTP server received for ``address`` (poll, deadline)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        received = server.to(address)
        if received:
            return received[0]
        time.sleep(0.1)
    raise AssertionError(f"no email to {address} within {timeout}s")


def continue_as_guest(page, email: str = GUEST) -> None:
    page.goto("/checkout/")
    expect(page.get_by_role("button", name="Continue as a guest")).to_be_visible()
    page.locator("[data-testid=checkout-as-guest] input[name=email]").fill(email)
    page.get_by_role("button", name="Continue as a guest").click()
    page.wait_for_url("**/checkout/")
    expect(page.locator("[data-testid=guest-email]")).to_be_visible()


def test_a_guest_pays_gets_the_email_opens_the_order_from_it_and_creates_an_account(
    browser_page, chromium_browser, live_server, screenshot, smtp_server, settings, kitchen
):
    settings.SHOP_BASE_URL = live_server.url  # the email's links lead to this server
    page = browser_page

    add_teapot_to_cart(page, screenshot)
    page.goto("/checkout/")
    screenshot(page, "choice")
    continue_as_guest(page)
    expect(page.locator("input[name=email]")).to_have_value(GUEST)
    fill_address(page)
    page.get_by_label(re.compile("Visa •••• 4242")).check()
    screenshot(page, "guest-checkout")
    page.get_by_role("button", name="Place order").click()

    page.wait_for_url("**/checkout/done/**")
    expect(page.get_by_role("heading", name="Thank you for your order!")).to_be_visible()
    number = page.locator("[data-testid=order-number]").inner_text()
    expect(badge(page)).to_have_text("0")
    screenshot(page, "confirmation")
    order = Order.objects.get(number=number)
    assert (order.user, order.email, order.total) == (None, GUEST, Decimal("35.00"))

    # The confirmation came through SMTP with a link to the order that carries its token.
    email = wait_for_email(smtp_server, GUEST)
    assert number in email.subject
    link = re.search(r"https?://\S+/orders/" + re.escape(number) + r"/\?token=[\w-]+", email.text)
    assert link, email.text
    assert link.group(0) in email.html.replace("&amp;", "&")

    # Another device (a browser that never saw the checkout) opens the order from the email.
    device = chromium_browser.new_context(base_url=live_server.url)
    try:
        mail_reader = device.new_page()
        mail_reader.goto(link.group(0))
        assert mail_reader.url.endswith(f"/orders/{number}/"), "the token is dropped from the URL"
        expect(mail_reader.locator("[data-testid=order-status]")).to_have_text("Received")
        expect(mail_reader.get_by_role("button", name="Cancel order")).to_be_visible()
        screenshot(mail_reader, "order-from-email")
        invoice = mail_reader.get_by_role("link", name="Printable invoice")
        with mail_reader.expect_popup() as popup:
            invoice.click()
        expect(popup.value.locator("body")).to_contain_text(order.invoices.get().number)
    finally:
        device.close()

    # A browser without the token gets a 404 for the order, its invoice and its confirmation.
    stranger = chromium_browser.new_context(base_url=live_server.url)
    try:
        nosy = stranger.new_page()
        for path in (
            f"/orders/{number}/",
            f"/orders/{number}/invoice/",
            f"/checkout/done/{number}/",
        ):
            assert nosy.goto(path).status == 404, path
        expect(nosy.get_by_role("heading", name="We couldn't find that page")).to_be_visible()
        screenshot(nosy, "no-token-404")
    finally:
        stranger.close()

    # Back on the confirmation: one password makes an account holding the order.
    page.goto(f"/checkout/done/{number}/")
    page.get_by_label("Choose a password").fill("a-long-Secret-42")
    page.get_by_role("button", name="Create my account").click()
    page.wait_for_url(f"**/orders/{number}/")
    expect(page.get_by_text(f"order {number} is in it")).to_be_visible()
    page.goto("/orders/")
    expect(page.locator(f"tr[data-order='{number}']")).to_be_visible()
    screenshot(page, "history-after-account")
    order.refresh_from_db()
    assert order.user is not None
    assert order.user.email == GUEST


def test_a_cart_changed_in_another_tab_is_refused_with_the_new_total_and_nothing_charged(
    browser_page, screenshot, kitchen
):
    first_tab = browser_page
    add_teapot_to_cart(first_tab)
    continue_as_guest(first_tab)
    expect(first_tab.locator("[data-testid=total]")).to_have_text("$35.00")
    fill_address(first_tab)
    first_tab.get_by_label(re.compile("Visa •••• 4242")).check()
    screenshot(first_tab, "tab-1-checkout")

    # A second tab of the same browser raises the quantity to 3.
    second_tab = first_tab.context.new_page()
    second_tab.goto("/cart/")
    for expected in ("$60.00", "$90.00"):
        second_tab.get_by_role("button", name="Increase the quantity of Blue Teapot").click()
        expect(second_tab.locator("[data-testid=subtotal]")).to_have_text(expected)
    screenshot(second_tab, "tab-2-cart")
    second_tab.close()

    # "Place order" in the first tab, still showing $35.00: refused, nothing charged.
    first_tab.get_by_role("button", name="Place order").click()
    expect(first_tab.locator(".messages")).to_contain_text("the total is now $90.00")
    expect(first_tab.get_by_text("Nothing was charged")).to_be_visible()
    expect(first_tab.locator("[data-testid=total]")).to_have_text("$90.00")
    expect(first_tab.locator(".summary-lines")).to_contain_text("3 × Blue Teapot")
    screenshot(first_tab, "tab-1-cart-changed")
    assert not Order.objects.exists()
    assert not Payment.objects.exists()

    # Asked again with the updated summary, the order goes through at the new total.
    expect(first_tab.locator("#id_line1")).to_have_value("1 Analytical Way")
    first_tab.get_by_role("button", name="Place order").click()
    first_tab.wait_for_url("**/checkout/done/**")
    screenshot(first_tab, "tab-1-placed")
    order = Order.objects.get()
    assert (order.total, order.lines.get().quantity) == (Decimal("90.00"), 3)
    assert Payment.objects.get(kind="charge").amount == Decimal("90.00")
