"""Issue 18 (storefront polish) in a real Chromium: the phone-size checkout with the country
select, cancelling with a confirmation, the compact header with its account menu, the
account page's layout, the phone filter panel, "Sign in" coming back, long search terms.

Screenshots go to ``test-artifacts/screenshots/``.
"""

import re

import pytest
from playwright.sync_api import expect

from accounts.tests.factories import DEFAULT_PASSWORD, AddressFactory, UserFactory
from orders.models import Order, OrderStatus
from orders.tests.factories import fast_gateway  # noqa: F401
from orders.tests.test_browser_journeys import (
    add_teapot_to_cart,
    kitchen,  # noqa: F401
    no_horizontal_overflow,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fast_gateway"),
]

PHONE = {"width": 390, "height": 844}


def sign_in(page, user, *, via_header: bool = False):
    if via_header:
        page.get_by_test_id("sign-in-link").click()
    else:
        page.goto("/accounts/login/")
    page.fill("#id_email", user.email)
    page.fill("#id_password", DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def box(locator) -> dict:
    found = locator.bounding_box()
    assert found is not None, "the element is not on screen"
    return found


def test_account_page_layout(browser_page, screenshot):
    """The Phone input is as tall as its neighbours, "Add an address" lines up with the cards
    above it (with their gap), and "Your orders" is one click away."""
    page = browser_page
    shopper = UserFactory(email="layout@example.com")
    AddressFactory(user=shopper, full_name="Grace Hopper", is_default=True)
    sign_in(page, shopper)
    page.goto("/accounts/")
    screenshot(page, "account")

    phone = box(page.locator("#id_new-phone"))
    country = box(page.locator("#id_new-country"))
    city = box(page.locator("#id_new-city"))
    assert abs(phone["height"] - country["height"]) < 1
    assert abs(phone["height"] - city["height"]) < 1
    assert abs(phone["y"] - country["y"]) < 1

    details = box(page.locator("section[aria-labelledby=profile-heading]"))
    book = box(page.locator("section[aria-labelledby=addresses-heading]"))
    add = box(page.locator("section[aria-labelledby=add-address-heading]"))
    assert abs(add["x"] - details["x"]) < 1, "the Add an address box is off-centre"
    assert abs((add["x"] + add["width"]) - (book["x"] + book["width"])) < 1
    assert add["y"] - (details["y"] + details["height"]) >= 16, "no gap above Add an address"

    page.get_by_test_id("account-orders-link").click()
    page.wait_for_url("**/orders/")


def test_the_cancel_box_has_no_gap_at_its_top(browser_page, screenshot, kitchen):  # noqa: F811
    from orders.tests.factories import place

    page = browser_page
    shopper = UserFactory(email="gap@example.com")
    order = place(user=shopper, items=[(kitchen, 1)])
    sign_in(page, shopper)
    page.goto(f"/orders/{order.number}/")
    cancel_box = page.get_by_test_id("cancel-box")
    heading = cancel_box.get_by_role("heading", name="Cancel")
    top_gap = box(heading)["y"] - box(cancel_box)["y"]
    items = page.locator("section[aria-labelledby=items-heading]")
    items_gap = box(items.get_by_role("heading", name="Items"))["y"] - box(items)["y"]
    assert abs(top_gap - items_gap) < 2, "the cancel box's top padding differs from the others"
    screenshot(page, "order-detail")


def test_filters_close_after_apply_on_a_phone(browser_page, screenshot, kitchen):  # noqa: F811
    page = browser_page
    page.set_viewport_size(PHONE)
    page.goto("/c/kitchen/")
    panel = page.locator("details.filters")
    expect(panel).not_to_have_attribute("open", "")
    panel.locator("summary").click()
    expect(panel).to_have_attribute("open", "")
    page.fill("#max_price", "35")
    screenshot(page, "filters-open")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.get_by_role("link", name="Copper Kettle")).to_have_count(0)
    expect(panel).not_to_have_attribute("open", "")
    teapot = page.get_by_role("link", name="Blue Teapot")
    expect(teapot).to_be_in_viewport()
    assert "max_price=35" in page.url
    screenshot(page, "filters-applied")


def test_sign_in_returns_to_the_page_the_shopper_was_on(browser_page, kitchen):  # noqa: F811
    page = browser_page
    shopper = UserFactory(email="back@example.com")
    page.goto("/p/blue-teapot/")
    sign_in(page, shopper, via_header=True)
    page.wait_for_url("**/p/blue-teapot/")
    expect(page.get_by_test_id("account-menu")).to_be_visible()


@pytest.mark.parametrize("viewport", [PHONE, {"width": 1280, "height": 900}])
def test_a_long_unbroken_search_term_stays_on_the_page(browser_page, screenshot, viewport):
    page = browser_page
    page.set_viewport_size(viewport)
    page.goto("/search/?q=" + "w" * 100)
    expect(page.locator("h1")).to_be_visible()
    assert no_horizontal_overflow(page)
    screenshot(page, f"search-{viewport['width']}")


def test_phone_checkout_with_the_country_select_and_a_cancel_with_confirmation(
    browser_page,
    screenshot,
    kitchen,  # noqa: F811
):
    page = browser_page
    page.set_viewport_size(PHONE)
    shopper = UserFactory(email="phone.cancel@example.com")
    sign_in(page, shopper)

    # The signed-in header is one compact row (an account menu), not two rows of links.
    page.goto("/")
    header = page.locator(".site-header")
    summary = page.locator("[data-testid=account-menu] > summary")
    assert abs(box(summary)["y"] - box(page.locator(".cart-link"))["y"]) < 12
    assert box(header)["height"] <= 165
    screenshot(page, "header-signed-in")
    page.evaluate("window.scrollTo(0, 600)")
    assert header.evaluate("el => el.getBoundingClientRect().bottom") <= 0, "header is sticky"

    add_teapot_to_cart(page)
    page.goto("/checkout/")
    country = page.locator("#id_country")
    expect(country).to_have_js_property("tagName", "SELECT")
    options = country.locator("option").all_inner_texts()
    assert options[1:6] == [
        "United States of America",
        "United Kingdom",
        "Germany",
        "France",
        "Canada",
    ]
    page.fill("#id_full_name", "Ada Lovelace")
    page.fill("#id_line1", "1 Analytical Way")
    page.fill("#id_city", "Boston")
    page.fill("#id_postal_code", "02108")
    country.select_option(label="United States of America")
    assert no_horizontal_overflow(page)
    screenshot(page, "checkout-country-select")
    page.get_by_role("button", name="Place order").click()
    page.wait_for_url("**/checkout/done/**")
    number = page.locator("[data-testid=order-number]").inner_text()
    order = Order.objects.get(number=number)
    assert order.shipping_address["country"] == "US"

    # The order page names the country; "Cancel order" asks first.
    page.goto(f"/orders/{number}/")
    expect(page.locator("address")).to_contain_text("United States")
    page.get_by_role("button", name="Cancel order").click()
    page.wait_for_url(re.compile(rf"/orders/{number}/cancel/\??$"))
    expect(page.get_by_role("heading", name=f"Cancel order {number}?")).to_be_visible()
    assert no_horizontal_overflow(page)
    screenshot(page, "cancel-confirmation")
    order.refresh_from_db()
    assert order.status == OrderStatus.RECEIVED, "one click must not cancel"

    page.get_by_role("link", name="Keep my order").click()
    page.wait_for_url(f"**/orders/{number}/")
    page.get_by_role("button", name="Cancel order").click()
    page.get_by_role("button", name="Yes, cancel the order").click()
    page.wait_for_url(f"**/orders/{number}/")
    expect(page.locator("[data-testid=order-status]")).to_have_text("Cancelled")
    expect(page.locator("[data-testid=timeline]")).to_contain_text("Your order was cancelled")
    expect(page.get_by_role("button", name="Cancel order")).to_have_count(0)
    screenshot(page, "cancelled")
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED

    # "Orders" is in the account menu; the history fits a phone with its totals in view.
    menu = page.get_by_test_id("account-menu")
    expect(menu.get_by_role("link", name="Orders")).to_be_hidden()
    menu.locator("summary").click()
    menu.get_by_role("link", name="Orders").click()
    page.wait_for_url("**/orders/")
    total = page.locator(f"tr[data-order='{number}'] [data-testid=order-total]")
    expect(total).to_be_visible()
    assert box(total)["x"] + box(total)["width"] <= PHONE["width"]
    assert no_horizontal_overflow(page)
    screenshot(page, "order-history")
