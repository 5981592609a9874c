"""Browser journeys of the shopper features: typo search with a facet, writing a review,
the wishlist, and a back-in-stock alert whose email arrives through SMTP after a restock.

They live beside the other journeys to use their Chromium fixtures (``orders/tests/conftest``).
"""

import time
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from catalog.models import Review, StockAlert, WishlistItem
from catalog.tests.factories import CategoryFactory, ProductFactory, VariantFactory, make_variant
from inventory import services as inventory
from notifications.tests.conftest import SMTPServer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def lamps():
    lighting = CategoryFactory(name="Lighting", slug="lighting")
    desk = ProductFactory(name="Desk lamp", slug="desk-lamp", category=lighting)
    VariantFactory(product=desk, sku="DESK-RED", name="Red", attributes={"colour": "red"})
    VariantFactory(product=desk, sku="DESK-BLUE", name="Blue", attributes={"colour": "blue"})
    floor = ProductFactory(name="Floor lamp", slug="floor-lamp", category=lighting)
    VariantFactory(product=floor, sku="FLOOR-BLUE", attributes={"colour": "blue"})
    make_variant(product__name="Coffee mug", sku="MUG-1", price=Decimal("8.00"))
    return desk


def sign_in(page, user) -> None:
    page.goto("/accounts/login/")
    page.fill("#id_email", user.email)
    page.fill("#id_password", DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


@pytest.mark.postgres
def test_a_typo_search_with_a_facet(browser_page, screenshot, lamps):
    page = browser_page
    page.goto("/")
    box = page.locator("#header-q")
    box.fill("lamb")
    suggestions = page.locator("#search-suggestions [role=option]")
    expect(suggestions.first).to_be_visible()
    expect(page.locator("#search-suggestions")).to_contain_text("Desk lamp")
    expect(box).to_have_attribute("aria-expanded", "true")
    box.press("ArrowDown")
    expect(suggestions.first).to_have_attribute("aria-selected", "true")
    box.press("Escape")
    expect(box).to_have_attribute("aria-expanded", "false")
    box.press("Enter")
    page.wait_for_url(lambda url: "/search/?q=lamb" in url)
    grid = page.locator("#results")
    expect(grid).to_contain_text("Desk lamp")
    expect(grid).to_contain_text("Floor lamp")
    expect(grid).not_to_contain_text("Coffee mug")
    page.get_by_label("red (1)").check()  # the colour facet
    expect(grid).not_to_contain_text("Floor lamp")
    expect(grid).to_contain_text("Desk lamp")
    assert "attr_colour=red" in page.url
    screenshot(page, "typo-search-with-facet")
    assert page.console_errors == []


def test_writing_a_review(browser_page, screenshot, lamps):
    page = browser_page
    shopper = UserFactory(first_name="Ada", last_name="Lovelace")
    page.goto("/p/desk-lamp/")
    expect(page.get_by_text("to write a review")).to_be_visible()
    sign_in(page, shopper)
    page.goto("/p/desk-lamp/")
    page.get_by_label("4 stars").check()
    page.fill("#review-title", "Bright and steady")
    page.fill("#review-body", "Lights the whole desk without any flicker.")
    page.get_by_role("button", name="Submit review").click()
    expect(page.get_by_text("Your review will appear once it has been checked.")).to_be_visible()
    expect(page.get_by_text("your review is waiting for moderation")).to_be_visible()
    screenshot(page, "review-submitted")
    review = Review.objects.get()
    assert (review.user, review.rating, review.status) == (shopper, 4, "pending")


def test_wishlist_add_and_remove(browser_page, screenshot, lamps):
    page = browser_page
    shopper = UserFactory()
    sign_in(page, shopper)
    page.goto("/p/desk-lamp/")
    page.evaluate("window.__marker = 'no-reload'")
    heart = page.locator(".product-info [data-wishlist=desk-lamp]")
    expect(heart).to_have_attribute("aria-pressed", "false")
    heart.click()
    expect(heart).to_have_attribute("aria-pressed", "true")
    assert page.evaluate("window.__marker") == "no-reload", "the heart reloaded the page"
    assert WishlistItem.objects.filter(user=shopper).count() == 1
    page.locator("[data-testid=account-menu] > summary").click()  # the header's account menu
    page.get_by_role("link", name="Wishlist").click()
    expect(page.locator(".product-grid")).to_contain_text("Desk lamp")
    screenshot(page, "wishlist")
    page.locator("[data-wishlist=desk-lamp]").click()
    expect(page.locator("[data-wishlist=desk-lamp]")).to_have_attribute("aria-pressed", "false")
    page.reload()
    expect(page.get_by_text("Nothing saved yet")).to_be_visible()
    assert not WishlistItem.objects.exists()


@pytest.fixture
def smtp(settings):
    server = SMTPServer()
    server.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = server.host, server.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""  # noqa: S105
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.SHOP_BASE_URL = "https://shop.test"
    yield server
    server.stop()


def test_subscribing_to_a_back_in_stock_alert_and_getting_the_email(browser_page, screenshot, smtp):
    page = browser_page
    kettle = make_variant(
        product__name="Copper kettle",
        product__slug="copper-kettle",
        sku="KET-1",
        name="",
        on_hand=0,
    )
    page.goto("/p/copper-kettle/")
    expect(page.get_by_text("This product is sold out right now.")).to_be_visible()
    page.fill("#alert-email", "waiting@example.com")
    page.get_by_role("button", name="Notify me").click()
    expect(page.locator("#alert-result")).to_contain_text(
        "We will email waiting@example.com when it is back in stock."
    )
    screenshot(page, "alert-subscribed")
    alert = StockAlert.objects.get()
    assert (alert.email, alert.status) == ("waiting@example.com", "active")

    inventory.restock(variant=kettle, quantity=5)  # commits: stock_changed sends the batch

    deadline = time.monotonic() + 10
    while not smtp.to("waiting@example.com") and time.monotonic() < deadline:
        time.sleep(0.05)
    [message] = smtp.to("waiting@example.com")
    assert message.subject == "Back in stock: Copper kettle"
    assert f"https://shop.test/alerts/unsubscribe/{alert.token}/" in message.text
    page.goto(f"/alerts/unsubscribe/{alert.token}/")
    expect(page.get_by_text("This alert is no longer active")).to_be_visible()
