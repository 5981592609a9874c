"""Journey in a real headless Chromium: staff edit an order before fulfilment and refund."""

from decimal import Decimal

import pytest

from accounts.tests.factories import DEFAULT_PASSWORD
from catalog.tests.factories import make_variant
from orders.models import Order, OrderEventType
from orders.tests.factories import fast_gateway, place, staff_in  # noqa: F401

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fast_gateway"),
]


def test_staff_edit_an_order_before_fulfilment_and_issue_a_goodwill_refund(
    browser_page, screenshot
):
    page = browser_page
    lamp = make_variant(product__name="Fjell Lamp", sku="LAMP-1", on_hand=10, price=Decimal("20"))
    make_variant(product__name="Striped Mug", sku="MUG-1", on_hand=10, price=Decimal("7.50"))
    order = place(items=[(lamp, 2)])
    staff = staff_in("Finance", email="finance@example.com")

    page.goto("/admin/")
    page.fill("input[name=username]", staff.email)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")
    page.goto(f"/staff/orders/{order.number}/edit/")

    row = page.locator("tr[data-sku=LAMP-1]")
    row.locator("input[name=quantity]").fill("1")
    row.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert "Saved." in page.locator(".messagelist").inner_text()
    assert page.locator("tr[data-sku=LAMP-1] td.quantity").inner_text() == "1"

    add = page.locator("#add-line")
    add.locator("input[name=sku]").fill("MUG-1")
    add.locator("input[name=quantity]").fill("2")
    add.locator("input[name=payment_token]").fill("tok_success")
    add.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator("tr[data-sku=MUG-1] td.quantity").inner_text() == "2"

    refund = page.locator("#goodwill-refund")
    refund.locator("input[name=amount]").fill("999.00")
    refund.locator("input[name=reason]").fill("Too much")
    refund.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert "left to refund" in page.locator(".messagelist").inner_text()

    refund = page.locator("#goodwill-refund")
    refund.locator("input[name=amount]").fill("4.00")
    refund.locator("input[name=reason]").fill("Scratched box")
    refund.locator("button[type=submit]").click()
    page.wait_for_load_state()
    screenshot(page, "edited")
    assert "Saved." in page.locator(".messagelist").inner_text()
    assert "Goodwill refund" in page.locator("#content-main").inner_text()

    order = Order.objects.get(pk=order.pk)
    assert {line.sku: line.quantity for line in order.lines.all()} == {"LAMP-1": 1, "MUG-1": 2}
    assert order.refunded_total == Decimal("4.00")
    assert order.events.filter(type=OrderEventType.GOODWILL_REFUND).count() == 1
    assert not [e for e in page.console_errors if "Content Security Policy" in e]
