"""Back-office journeys in a real headless Chromium at 1280 px: run an order from its page,
reject a return, export orders as CSV, import products from CSV with a bad row."""

import csv
import io
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import expect

from accounts.roles import CATALOG_MANAGERS, FINANCE, FULFILMENT
from accounts.tests.factories import DEFAULT_PASSWORD, StaffUserFactory
from catalog.models import Product, Variant
from catalog.tests.factories import CategoryFactory, make_variant
from inventory.models import StockItem
from notifications.models import Notification, NotificationKind
from orders.models import Order, OrderStatus, ReturnStatus
from orders.returns.services import request_return
from orders.tests.factories import fast_gateway, order_in, place  # noqa: F401
from orders.tests.test_browser_journeys import no_horizontal_overflow

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fast_gateway"),
]

HEADER = "sku,product,product_slug,category,status,variant_name,price,attributes,is_active,stock"


def sign_in(page, *roles: str) -> None:
    staff = StaffUserFactory(roles=list(roles))
    page.goto("/admin/login/")
    page.fill("input[name=username]", staff.email)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")


def test_fulfilment_moves_an_order_from_received_to_delivered_on_its_page(browser_page, screenshot):
    page = browser_page
    order = place()
    sign_in(page, FULFILMENT)
    page.goto("/admin/orders/order/")
    # The list (every column, the date included) fits 1280 px beside navigation and filters.
    assert page.evaluate(
        "() => { const r = document.querySelector('#changelist-form .results');"
        " return r.scrollWidth <= r.clientWidth; }"
    )
    page.fill("#searchbar", "Lovelace")
    page.press("#searchbar", "Enter")
    page.click(f"text={order.number}")
    expect(page.locator("[data-testid=order-status]")).to_have_text("Received")
    expect(page.locator("[data-testid=shipping-address]")).to_contain_text("N1 9GU London")
    assert no_horizontal_overflow(page)
    screenshot(page, "received")

    page.click("button[data-move=processing]")
    expect(page.locator("[data-testid=order-status]")).to_have_text("Processing")
    page.click("button[data-move=fulfilled]")
    expect(page.locator("[data-testid=order-status]")).to_have_text("Fulfilled")
    page.select_option("#id_carrier", "UPS")
    page.fill("#id_tracking_number", "1Z999AA10123456784")
    page.click("#ship-form button[data-move=shipped]")
    expect(page.locator("[data-testid=order-status]")).to_have_text("Shipped")
    tracking = page.locator("tr[data-tracking='1Z999AA10123456784'] a")
    expect(tracking).to_have_attribute(
        "href", "https://www.ups.com/track?tracknum=1Z999AA10123456784"
    )
    screenshot(page, "shipped")
    page.click("button[data-move=delivered]")
    expect(page.locator("[data-testid=order-status]")).to_have_text("Delivered")
    expect(page.locator("#ws-actions + p")).to_contain_text("Nothing left to do")
    assert no_horizontal_overflow(page)
    order.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED


def test_finance_rejects_a_return_with_a_reason(browser_page, screenshot):
    page = browser_page
    variant = make_variant(product__name="Fjell Summit Lamp", name="S", sku="LAMP-S", on_hand=5)
    order = order_in(OrderStatus.DELIVERED, items=[(variant, 2)])
    rr = request_return(order=order, user=order.user, lines=[{"sku": "LAMP-S", "quantity": 2}])
    sign_in(page, FINANCE)
    page.goto("/admin/orders/returnrequest/")
    page.click(f"text=Return #{rr.pk}")
    expect(page.locator("#content")).to_contain_text("2 × Fjell Summit Lamp (S)")
    screenshot(page, "return-page")
    page.fill("textarea[name=reason]", "The lamp was used and scratched.")
    page.click("button[name=reject]")
    expect(page.locator(".messagelist")).to_contain_text("rejected; the customer was emailed")
    expect(page.locator("#content")).to_contain_text("The lamp was used and scratched.")
    expect(page.locator("#return-decision")).to_have_count(0)
    screenshot(page, "rejected")
    rr.refresh_from_db()
    assert rr.status == ReturnStatus.REJECTED
    email = Notification.objects.get(kind=NotificationKind.RETURN_REJECTED)
    assert email.recipient == order.email


def test_finance_exports_orders_as_csv(browser_page, tmp_path: Path):
    page = browser_page
    orders = [place(), place()]
    sign_in(page, FINANCE)
    page.goto("/admin/orders/order/")
    with page.expect_download() as download_info:
        page.click("[data-testid=export-csv]")
    download = download_info.value
    assert download.suggested_filename.startswith("orders-")
    target = tmp_path / "orders.csv"
    download.save_as(target)
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    assert sorted(row["number"] for row in rows) == sorted(o.number for o in orders)
    assert {row["currency"] for row in rows} == {orders[0].currency}


def test_catalog_manager_imports_products_csv_fixing_a_bad_row(
    browser_page, screenshot, tmp_path: Path
):
    page = browser_page
    CategoryFactory(slug="lamps", name="Lamps")
    bad = tmp_path / "products.csv"
    bad.write_text(
        "\n".join(
            [
                HEADER,
                "LAMP-S,Fjell Summit Lamp,,lamps,,S,99.72,Size=S,1,12",
                "LAMP-M,Fjell Summit Lamp,,lamps,,M,zero,Size=M,1,4",
            ]
        )
        + "\n"
    )
    sign_in(page, CATALOG_MANAGERS)
    page.goto("/admin/catalog/variant/")
    page.click("a.import_link")
    page.set_input_files("input[name=import_file]", str(bad))
    page.select_option("select[name=format]", label="csv")
    page.click("input[type=submit][value=Submit]")
    expect(page.locator("#content")).to_contain_text("“zero” is not a price.")
    expect(page.locator("input[name=confirm]")).to_have_count(0)
    assert no_horizontal_overflow(page)
    screenshot(page, "preview-with-error")
    assert not Variant.objects.exists()
    assert not Product.objects.exists()

    good = tmp_path / "products-fixed.csv"
    good.write_text(bad.read_text().replace(",zero,", ",109.00,"))
    page.set_input_files("input[name=import_file]", str(good))
    page.select_option("select[name=format]", label="csv")
    page.click("input[type=submit][value=Submit]")
    expect(page.locator("input[name=confirm]")).to_be_visible()
    assert not Variant.objects.exists()  # still a preview
    screenshot(page, "preview-clean")
    page.click("input[name=confirm]")
    expect(page.locator(".messagelist")).to_contain_text("Import finished")
    product = Product.objects.get(slug="fjell-summit-lamp")
    assert product.status == "draft"
    assert StockItem.objects.get(variant__sku="LAMP-M").on_hand == 4
    assert Variant.objects.get(sku="LAMP-M").price == Decimal("109.00")
    assert Order.objects.count() == 0
