"""Issue 18 (storefront polish), the order emails: "Free" shipping, product photos, country
names, and the shipped email's items and tracking link, through a real SMTP server."""

from decimal import Decimal

import pytest

from catalog.tests.factories import ProductImageFactory, make_variant
from notifications.tests.factories import OrderFactory, ShipmentFactory, order_with_lines
from notifications.tests.test_emails import emit  # noqa: F401
from orders.models import Order
from orders.signals import order_placed, order_status_changed

pytestmark = pytest.mark.django_db


def test_free_shipping_reads_free_and_lines_show_the_product_photo(smtp_server, emit):  # noqa: F811
    order = order_with_lines(lines=1, shipping_total=Decimal("0.00"))
    variant = make_variant(product__name="Teapot", sku="TEA-1")
    order.lines.update(variant=variant)
    ProductImageFactory(product=variant.product, image="products/teapot.png")

    emit(order_placed, Order, order_id=order.pk)

    [mail] = smtp_server.messages
    for body in (mail.text, mail.html):
        assert "Shipping: Free" in body or ">Free</td>" in body
        assert "USD 0.00" not in body
        assert "United Kingdom" in body
    assert '<img src="https://shop.test/media/' in mail.html
    assert "teapot" in mail.html


def test_shipped_email_lists_the_items_and_links_to_the_tracking_page(smtp_server, emit):  # noqa: F811
    order = order_with_lines(lines=2, status="shipped")
    ShipmentFactory(order=order, carrier="MockPost", tracking_number="MP0000000042")
    names = [line.product_name for line in order.lines.all()]

    emit(
        order_status_changed,
        Order,
        order_id=order.pk,
        from_status="fulfilled",
        to_status="shipped",
        refund_amount=None,
    )

    [mail] = smtp_server.messages
    url = "https://tracking.mockpost.example/track?number=MP0000000042"
    assert f"Track your parcel: {url}" in mail.text
    assert f'href="{url.replace("&", "&amp;")}"' in mail.html
    for body in (mail.text, mail.html):
        for name in names:
            assert name in body


def test_a_shipment_of_another_carrier_has_no_made_up_tracking_link(smtp_server, emit):  # noqa: F811
    order = OrderFactory(status="shipped")
    ShipmentFactory(order=order, carrier="ParcelCo", tracking_number="PC1")
    emit(
        order_status_changed,
        Order,
        order_id=order.pk,
        from_status="fulfilled",
        to_status="shipped",
        refund_amount=None,
    )
    [mail] = smtp_server.messages
    assert "Track your parcel" not in mail.text
    assert "PC1" in mail.text
