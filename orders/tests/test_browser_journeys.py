"""End-to-end journeys in a real headless Chromium against the live server.

Each journey seeds its data with the factories, drives the pages like a shopper would and
saves screenshots under ``test-artifacts/screenshots/``.
"""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from accounts.tests.factories import (
    DEFAULT_PASSWORD,
    AddressFactory,
    StaffUserFactory,
    UserFactory,
)
from catalog.tests.factories import CategoryFactory, make_variant
from orders.models import Order
from orders.tests.factories import fast_gateway  # noqa: F401
from orders.tests.test_dashboard import make_order

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fast_gateway"),
]


@pytest.fixture
def kitchen():
    """A category with an in-stock teapot, an in-stock mug and a sold-out kettle."""
    category = CategoryFactory(name="Kitchen", slug="kitchen")
    teapot = make_variant(
        product__name="Blue Teapot",
        product__slug="blue-teapot",
        product__category=category,
        sku="TEA-1",
        name="",
        price=Decimal("30.00"),
        on_hand=5,
    )
    make_variant(
        product__name="Striped Mug",
        product__category=category,
        sku="MUG-1",
        price=Decimal("8.00"),
        on_hand=10,
    )
    make_variant(
        product__name="Copper Kettle",
        product__category=category,
        sku="KET-1",
        price=Decimal("45.00"),
        on_hand=0,
    )
    return teapot


def badge(page):
    return page.locator("[data-cart-count]").first


def add_teapot_to_cart(page, screenshot=None):
    """On the teapot's product page, add one to the cart without a reload; check the badge."""
    page.goto("/p/blue-teapot/")
    page.evaluate("window.__marker = 'no-reload'")
    before = int(badge(page).inner_text())
    page.get_by_role("button", name="Add to cart").click()
    expect(page.locator("[data-testid=add-confirmation]")).to_be_visible()
    expect(badge(page)).to_have_text(str(before + 1))
    assert page.evaluate("window.__marker") == "no-reload", "the page reloaded"
    assert page.url.endswith("/p/blue-teapot/")
    if screenshot:
        screenshot(page, "added-to-cart")


def fill_address(page):
    page.fill("#id_full_name", "Ada Lovelace")
    page.fill("#id_line1", "1 Analytical Way")
    page.fill("#id_city", "London")
    page.fill("#id_postal_code", "N1 9GU")
    page.select_option("#id_country", "GB")


def test_static_assets_load_and_htmx_runs(browser_page, kitchen):
    page = browser_page
    page.goto("/cart/")
    assert page.evaluate("typeof htmx") == "object"
    assert not [e for e in page.console_errors if "Content Security Policy" in e]


def test_shopper_browses_adds_to_cart_signs_up_and_orders(browser_page, screenshot, kitchen):
    page = browser_page

    # Browse the category and filter to what is in stock (the grid swaps in place).
    page.goto("/c/kitchen/")
    expect(page.get_by_role("link", name="Copper Kettle")).to_be_visible()
    page.evaluate("window.__marker = 'listing'")
    page.get_by_label("In stock only").check()
    expect(page.get_by_role("link", name="Copper Kettle")).to_have_count(0)
    expect(page.get_by_role("link", name="Blue Teapot")).to_be_visible()
    assert page.evaluate("window.__marker") == "listing"
    assert "in_stock=on" in page.url
    screenshot(page, "filtered-category")

    # Open the product and add it to the cart without a page reload.
    page.get_by_role("link", name="Blue Teapot").click()
    page.wait_for_url("**/p/blue-teapot/")
    add_teapot_to_cart(page, screenshot)

    # The cart page: the + stepper updates the line, subtotal and badge in place.
    page.goto("/cart/")
    page.evaluate("window.__marker = 'cart'")
    page.get_by_role("button", name="Increase the quantity of Blue Teapot").click()
    expect(page.locator("[data-testid=subtotal]")).to_have_text("$60.00")
    expect(badge(page)).to_have_text("2")
    assert page.evaluate("window.__marker") == "cart"
    screenshot(page, "cart")

    # Checkout offers an anonymous shopper to continue as a guest, sign in or register
    # (issue 13); they create an account.
    page.get_by_role("link", name="Checkout").click()
    page.wait_for_url("**/checkout/")
    expect(page.get_by_role("button", name="Continue as a guest")).to_be_visible()
    page.get_by_role("link", name="Create an account").click()
    page.wait_for_url(re.compile(r"/accounts/register/\?next=/checkout/"))
    page.fill("#id_email", "new.shopper@example.com")
    page.fill("#id_first_name", "Grace")
    page.fill("#id_new_password1", "a-long-Secret-42")
    page.fill("#id_new_password2", "a-long-Secret-42")
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url("**/checkout/")

    # The guest cart came along; the stock is held while they check out.
    summary = page.locator("aside.summary")
    expect(summary).to_contain_text("2 × Blue Teapot")
    expect(page.locator("[data-testid=hold-expiry]")).to_be_visible()
    fill_address(page)
    page.get_by_label(re.compile("Visa •••• 4242")).check()
    screenshot(page, "checkout")
    page.get_by_role("button", name="Place order").click()

    page.wait_for_url("**/checkout/done/**")
    expect(page.get_by_role("heading", name="Thank you for your order!")).to_be_visible()
    number = page.locator("[data-testid=order-number]").inner_text()
    expect(badge(page)).to_have_text("0")
    screenshot(page, "confirmation")

    # The order is in the history.
    page.goto("/orders/")
    expect(page.locator(f"tr[data-order='{number}']")).to_be_visible()
    screenshot(page, "history")
    page.get_by_role("link", name=number).click()
    expect(page.locator("[data-testid=order-status]")).to_have_text("Received")
    expect(page.locator("[data-testid=timeline]")).to_contain_text("Order placed")
    expect(page.get_by_role("button", name="Cancel order")).to_be_visible()
    screenshot(page, "order-detail")
    order = Order.objects.get(number=number)
    assert order.user.email == "new.shopper@example.com"
    assert order.total == Decimal("60.00")
    assert order.lines.get().quantity == 2


def test_declined_card_shows_the_error_and_keeps_the_cart(browser_page, screenshot, kitchen):
    page = browser_page
    shopper = UserFactory(email="decline@example.com")

    page.goto("/accounts/login/")
    page.fill("#id_email", shopper.email)
    page.fill("#id_password", DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)

    add_teapot_to_cart(page)
    page.goto("/checkout/")
    fill_address(page)
    page.get_by_label(re.compile("Visa •••• 0002")).check()
    page.get_by_role("button", name="Place order").click()

    expect(page.get_by_text("The payment was declined.")).to_be_visible()
    screenshot(page, "declined")
    assert "/checkout/" in page.url
    assert not Order.objects.exists()
    page.goto("/cart/")
    expect(page.locator("li.line-item[data-sku=TEA-1]")).to_be_visible()
    expect(badge(page)).to_have_text("1")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "cart-on-a-phone")
    page.goto("/checkout/")
    screenshot(page, "checkout-on-a-phone")


def test_staff_signs_into_the_admin_and_sees_the_dashboard(browser_page, screenshot):
    page = browser_page
    staff = StaffUserFactory(email="boss@example.com")
    variant = make_variant(product__name="Teapot", sku="TEA-1", on_hand=1, price=Decimal("20.00"))
    make_order(status="processing", lines=[(variant, 2)])

    page.goto("/admin/")
    page.fill("input[name=username]", staff.email)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")
    page.click("text=Open the shop dashboard")
    page.wait_for_url("**/staff/dashboard/")
    screenshot(page, "dashboard")

    assert page.locator("h2#sales-heading").inner_text() == "Sales, last 30 days"
    assert page.locator("#revenue-chart rect.bar").count() == 30
    assert page.locator("[data-testid=orders-total]").inner_text() == "1"
    assert page.locator("tr[data-sku=TEA-1]").is_visible()
    assert "2 × TEA-1" in page.locator("#content-main").inner_text()


def no_horizontal_overflow(page) -> bool:
    return page.evaluate(
        "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


def test_checkout_on_a_phone_with_a_saved_address(browser_page, screenshot, kitchen):
    """Phone width: no sideways scrolling, the new-address inputs stay out of the way until
    chosen, the summary keeps each price beside its item, and the order goes through."""
    page = browser_page
    page.set_viewport_size({"width": 390, "height": 844})
    shopper = UserFactory(email="phone@example.com")
    AddressFactory(user=shopper, full_name="Grace Hopper", is_default=True)

    page.goto("/accounts/login/")
    page.fill("#id_email", shopper.email)
    page.fill("#id_password", DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    add_teapot_to_cart(page)

    page.goto("/checkout/")
    expect(page.get_by_label(re.compile("Grace Hopper"))).to_be_checked()
    expect(page.locator("#id_full_name")).to_be_hidden()
    assert no_horizontal_overflow(page)
    line = page.locator(".summary-lines li[data-sku=TEA-1]")
    name_box = line.locator("span").first.bounding_box()
    price_box = line.locator(".num").bounding_box()
    assert abs(name_box["y"] - price_box["y"]) < 8, "the price wrapped below the item"
    screenshot(page, "checkout-saved-address")

    page.get_by_label("Ship to a new address").check()
    expect(page.locator("#id_full_name")).to_be_visible()
    # The new address starts with the account's name; the rest is the shopper's to fill in.
    expect(page.locator("#id_full_name")).to_have_value(shopper.get_full_name())
    page.get_by_role("button", name="Place order").click()
    expect(page.locator("[data-testid=checkout-errors]")).to_be_visible()
    expect(page.locator("#id_line1")).to_have_attribute("aria-invalid", "true")
    assert no_horizontal_overflow(page)
    screenshot(page, "checkout-new-address-errors")

    page.get_by_label(re.compile("Grace Hopper")).check()
    expect(page.locator("#id_full_name")).to_be_hidden()
    page.get_by_role("button", name="Place order").click()
    page.wait_for_url("**/checkout/done/**")
    expect(page.get_by_role("heading", name="Thank you for your order!")).to_be_visible()
    assert no_horizontal_overflow(page)
    screenshot(page, "confirmation")
    assert Order.objects.get().shipping_address["full_name"] == "Grace Hopper"
