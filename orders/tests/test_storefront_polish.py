"""Issue 18 (storefront polish), the order pages: the timeline in the shopper's words, times
in the shop's time zone, the invoice and the address with country names."""

import datetime as dt
import re
from decimal import Decimal

import pytest

from catalog.tests.factories import ProductImageFactory, make_variant
from orders.lifecycle import transition_order
from orders.models import Order, OrderEvent, OrderStatus
from orders.tests.factories import ADDRESS, fast_gateway, order_in, place  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_gateway")]


@pytest.fixture
def shopper(client):
    from accounts.tests.factories import UserFactory

    user = UserFactory()
    client.force_login(user)
    return user


def test_the_timeline_speaks_to_the_shopper_and_hides_staff_notes(client, shopper):
    order = order_in(OrderStatus.SHIPPED, user=shopper)
    staff = order.events.filter(user__is_staff=True).first().user
    order = transition_order(
        order=order, to_status=OrderStatus.DELIVERED, user=staff, note="Admin action"
    )
    body = client.get(f"/orders/{order.number}/").content.decode()
    timeline = body[body.index('data-testid="timeline"') :]
    timeline = timeline[: timeline.index("</ol>")]
    assert "Order placed" in timeline
    assert "We are preparing your order" in timeline
    assert "Your order is packed" in timeline
    assert "Your order has shipped" in timeline
    assert "Your order was delivered" in timeline
    assert "Admin action" not in body


def test_times_are_shown_in_the_shop_time_zone_with_its_name(client, shopper, settings):
    settings.TIME_ZONE = settings.SHOP_TIME_ZONE = "Europe/Berlin"
    order = place(user=shopper)
    winter_noon = dt.datetime(2026, 1, 15, 12, 0, tzinfo=dt.UTC)
    type(order).objects.filter(pk=order.pk).update(created_at=winter_noon)
    OrderEvent.objects.filter(order=order).update(created_at=winter_noon)
    body = client.get(f"/orders/{order.number}/").content.decode()
    assert "15 January 2026, 13:00 CET" in body
    assert "15 Jan 2026, 13:00 CET" in body  # the timeline
    assert "12:00" not in body


def test_after_a_declined_card_no_card_is_preselected(client, shopper):
    from orders.tests.test_views import checkout_post, form_key

    make_variant(product__name="Teapot", sku="TEA-1", price=Decimal("20.00"), on_hand=5)
    client.post("/cart/add/", {"sku": "TEA-1", "quantity": "1"})
    key = form_key(client.get("/checkout/"))
    response = checkout_post(client, key, payment_token="tok_declined")
    html = response.content.decode()
    assert response.status_code == 200
    assert "The payment was declined." in html
    assert 'value="tok_declined"' in html
    assert not re.search(r'name="payment_token" value="[^"]*" checked', html)
    # What the shopper typed is kept.
    assert f'value="{ADDRESS["line1"]}"' in html


def test_order_page_and_invoice_show_product_photos_and_the_country_name(client, shopper):
    variant = make_variant(product__name="Teapot", sku="TEA-1", price=Decimal("20.00"))
    ProductImageFactory(product=variant.product, image="products/teapot.png")
    order = place(user=shopper, items=[(variant, 1)])
    body = client.get(f"/orders/{order.number}/").content.decode()
    row = body[body.index('<tr data-sku="TEA-1">') :]
    assert re.search(r'<img class="line-thumb" src="/media/[^"]*teapot[^"]*"', row[:800])
    assert "United Kingdom" in body
    invoice = client.get(f"/orders/{order.number}/invoice/").content.decode()
    assert "United Kingdom" in invoice


def test_the_confirmation_page_shows_product_photos(client, shopper):
    variant = make_variant(product__name="Teapot", sku="TEA-1", price=Decimal("20.00"))
    ProductImageFactory(product=variant.product, image="products/teapot.png")
    order = place(user=shopper, items=[(variant, 1)])
    body = client.get(f"/checkout/done/{order.number}/").content.decode()
    assert re.search(r'<img class="line-thumb" src="/media/[^"]*teapot', body)


def test_the_order_page_links_the_carriers_tracking_page(client, shopper):
    order = order_in(OrderStatus.SHIPPED, user=shopper)
    shipment = order.shipments.get()
    body = client.get(f"/orders/{order.number}/").content.decode()
    assert (
        f'href="https://tracking.mockpost.example/track?number={shipment.tracking_number}"' in body
    )


def test_a_requested_return_shows_and_emails_what_to_send_where(
    client, shopper, settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.SHOP_RETURN_ADDRESS = "Teapot Returns, 9 Dock Road, Leeds LS1 1AA, United Kingdom"
    order = order_in(OrderStatus.DELIVERED, user=shopper)
    line = order.lines.get()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/orders/{order.number}/returns/", {f"qty-{line.pk}": "1"})
    assert response.status_code == 302
    rma = order.returns.get()
    page = client.get(response["Location"]).content.decode()
    assert "We have emailed you how to send it back" in page
    instructions = page[page.index('data-testid="return-instructions"') :]
    assert f"Return #{rma.pk}, order {order.number}" in instructions
    assert "Teapot Returns<br>9 Dock Road<br>Leeds LS1 1AA<br>United Kingdom" in instructions
    [mail] = [m for m in mailoutbox if "send back" in m.subject]
    assert mail.to == [order.email]
    assert f"return #{rma.pk}" in mail.subject
    assert "   9 Dock Road" in mail.body
    assert f"1 x {line.product_name}" in mail.body


def test_the_checkout_summary_shows_product_photos(client, shopper):
    variant = make_variant(product__name="Teapot", sku="TEA-1", price=Decimal("20.00"))
    ProductImageFactory(product=variant.product, image="products/teapot.png")
    client.post("/cart/add/", {"sku": "TEA-1", "quantity": "1"})
    body = client.get("/checkout/").content.decode()
    summary = body[body.index('class="summary-lines"') :]
    assert re.search(r'<img src="/media/thumbs/products/teapot.png[^"]*"', summary)


def test_a_guest_sees_the_cancel_confirmation_too(client):
    from orders.tests.test_guest_checkout_views import guest_form, submit

    make_variant(product__name="Teapot", sku="TEA-1", price=Decimal("20.00"), on_hand=5)
    submit(client, guest_form(client))
    order = Order.objects.get()
    confirm = client.get(f"/orders/{order.number}/cancel/")
    assert confirm.status_code == 200
    assert b"Yes, cancel the order" in confirm.content
    assert Order.objects.get().status == OrderStatus.RECEIVED
