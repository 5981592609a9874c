"""Draft orders in a real headless Chromium: Customer service build a draft for a phone
customer in the admin and send the payment link; the customer opens it from the email and pays
with a test card; Finance marks another draft paid by bank transfer."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from accounts.roles import CUSTOMER_SERVICE, FINANCE
from accounts.tests.factories import DEFAULT_PASSWORD
from catalog.tests.factories import make_variant
from inventory.models import StockItem
from notifications.emails import build_message
from notifications.models import Notification, NotificationKind
from orders.drafts.tests.factories import ready_draft
from orders.models import Order, OrderStatus, Payment, PaymentStatus
from orders.tests.factories import ADDRESS, fast_gateway, staff_in  # noqa: F401
from orders.tests.test_browser_journeys import no_horizontal_overflow

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fast_gateway"),
]

CUSTOMER = "caller@example.com"


def sign_in(page, role: str) -> None:
    staff = staff_in(role)
    page.goto("/admin/login/")
    page.fill("input[name=username]", staff.email)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")


def test_staff_build_and_send_a_draft_and_the_customer_pays_it_from_the_email(
    browser_page, chromium_browser, live_server, settings, screenshot
):
    settings.SHOP_BASE_URL = live_server.url  # the email's link leads to this server
    page = browser_page
    make_variant(product__name="Fjell Summit Lamp", name="S", sku="LAMP-S", price=Decimal("15.00"))
    sign_in(page, CUSTOMER_SERVICE)

    page.goto("/admin/orders/order/")
    page.click("[data-testid=add-draft-order]")
    page.fill("input[name=email]", CUSTOMER)
    page.click("text=Start draft order")
    expect(page.locator("[data-testid=draft-status]")).to_have_text("Draft")
    page.fill("#add-line input[name=sku]", "lamp-s")
    page.fill("#add-line input[name=quantity]", "2")
    page.click("#add-line button")
    expect(page.locator("tr[data-sku=LAMP-S]")).to_contain_text("Fjell Summit Lamp (S)")
    form = page.locator("#draft-address-form")
    for name, value in ADDRESS.items():
        if name == "country":
            form.locator(f"[name=address-{name}]").select_option(value)
        elif value:
            form.locator(f"[name=address-{name}]").fill(value)
    form.locator("button").click()
    expect(page.locator(".messagelist")).to_contain_text("Address saved.")
    expect(page.locator("[data-testid=draft-total]")).to_have_text("35.00 USD")
    assert no_horizontal_overflow(page)
    screenshot(page, "draft-built")
    assert StockItem.objects.get(variant__sku="LAMP-S").allocated == 0

    page.click("[data-testid=send-payment-link]")
    expect(page.locator(".messagelist")).to_contain_text(f"Payment link emailed to {CUSTOMER}.")
    expect(page.locator("[data-testid=draft-status]")).to_have_text("Pending payment")
    order = Order.objects.get(email=CUSTOMER)
    assert StockItem.objects.get(variant__sku="LAMP-S").allocated == 2

    # The customer reads the email on another device and pays with a test card.
    email = build_message(Notification.objects.get(kind=NotificationKind.PAYMENT_LINK))
    assert email.to == [CUSTOMER]
    link = re.search(r"https?://\S+/orders/" + order.number + r"/pay/\?token=\S+", email.body)
    assert link, email.body
    device = chromium_browser.new_context(viewport={"width": 390, "height": 844})
    try:
        phone = device.new_page()
        phone.goto(link.group(0))
        expect(phone.locator("[data-testid=pay-total]")).to_have_text("$35.00")
        expect(phone.locator("[data-testid=pay-address]")).to_contain_text("1 Analytical Way")
        screenshot(phone, "pay-page")
        phone.click("label[for=card-tok_success]")
        phone.click("[data-testid=pay-button]")
        expect(phone.locator("[data-testid=pay-paid]")).to_contain_text("This order is paid")
        screenshot(phone, "paid")
        phone.click("[data-testid=pay-paid] a")
        expect(phone.locator("[data-testid=order-status]")).to_have_text("Received")
    finally:
        device.close()
    order.refresh_from_db()
    assert (order.status, order.payment_status) == (OrderStatus.RECEIVED, PaymentStatus.PAID)
    assert Notification.objects.filter(kind=NotificationKind.ORDER_CONFIRMATION).count() == 1


def test_finance_marks_a_draft_paid_by_bank_transfer(browser_page, screenshot):
    page = browser_page
    draft = ready_draft(email="transfer@example.com", staff=staff_in(CUSTOMER_SERVICE))
    sign_in(page, FINANCE)
    page.goto(f"/admin/orders/order/{draft.pk}/change/")
    page.click("[data-testid=draft-builder-link]")
    form = page.locator("#mark-paid-offline")
    form.locator("select[name=method]").select_option("bank_transfer")
    form.locator("input[name=reference]").fill("TRX-2024-118")
    screenshot(page, "mark-paid")
    page.click("[data-testid=mark-paid-offline]")
    expect(page.locator(".messagelist")).to_contain_text(f"{draft.number} is paid and received.")
    expect(page.locator("[data-testid=draft-status]")).to_have_text("Received")
    payment = Payment.objects.get(order=draft)
    assert (payment.gateway, payment.method, payment.gateway_transaction_id) == (
        "offline",
        "bank_transfer",
        "TRX-2024-118",
    )
    page.goto(f"/admin/orders/order/{draft.pk}/change/")
    expect(page.locator("[data-testid=order-status]")).to_have_text("Received")
    expect(page.locator("#ws-events")).to_be_visible()
    expect(page.locator("#order-workspace")).to_contain_text("Paid offline")
