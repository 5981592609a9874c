"""Browser journey (issue 14): a shopper applies a voucher in the cart and checks out with
express shipping; the page shows the total before the order is placed, and it is the one
charged."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from accounts.tests.factories import DEFAULT_PASSWORD, AddressFactory, UserFactory
from cart.tests.factories import (
    ShippingMethodFactory,
    ShippingZoneFactory,
    VoucherFactory,
    default_shipping_method,
)
from catalog.tests.factories import make_variant
from orders.models import Order
from orders.tests.factories import fast_gateway  # noqa: F401

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fast_gateway"),
]


def test_shopper_chooses_express_shipping_with_a_voucher(browser_page, screenshot):
    page = browser_page
    default_shipping_method()
    uk = ShippingZoneFactory(name="UK", countries=["GB"])
    ShippingMethodFactory(zone=uk, code="standard", name="Standard", price="3.00")
    ShippingMethodFactory(
        zone=uk, code="express", name="Express", price="12.00", min_days=1, max_days=1
    )
    VoucherFactory(code="TEN", description="10% off")
    make_variant(
        product__name="Blue Teapot",
        product__slug="blue-teapot",
        sku="TEA-1",
        name="",
        price=Decimal("30.00"),
        on_hand=5,
    )
    user = UserFactory(email="ada@example.com")
    AddressFactory(user=user, country="GB", is_default=True)

    page.goto("/accounts/login/")
    page.fill("#id_email", user.email)
    page.fill("#id_password", DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    page.goto("/p/blue-teapot/")
    page.get_by_role("button", name="Add to cart").click()
    expect(page.locator("[data-testid=add-confirmation]")).to_be_visible()

    # The voucher in the cart: a discount line.
    page.goto("/cart/")
    page.get_by_label("Voucher code").fill("ten")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_text("Your voucher has been applied.")).to_be_visible()
    expect(page.locator("[data-testid=discount]")).to_have_text("−$3.00")
    screenshot(page, "cart-with-voucher")

    # Checkout: standard is preselected; choosing express shows its total at once.
    page.get_by_role("link", name="Checkout").click()
    page.wait_for_url("**/checkout/")
    expect(page.locator("[data-testid=total]")).to_have_text("$30.00")  # 30 - 3 + 3
    page.get_by_label(re.compile("Express")).check()
    expect(page.locator("[data-testid=shipping]")).to_have_text("$12.00")
    expect(page.locator("[data-testid=total]")).to_have_text("$39.00")  # 30 - 3 + 12
    page.get_by_label(re.compile("Visa •••• 4242")).check()
    screenshot(page, "checkout-express")
    page.get_by_role("button", name="Place order").click()

    page.wait_for_url("**/checkout/done/**")
    expect(page.get_by_role("heading", name="Thank you for your order!")).to_be_visible()
    order = Order.objects.get()
    assert (order.shipping_method, order.voucher_code) == ("express", "TEN")
    assert (order.discount_total, order.shipping_total, order.total) == (
        Decimal("3.00"),
        Decimal("12.00"),
        Decimal("39.00"),
    )
    screenshot(page, "confirmation")
