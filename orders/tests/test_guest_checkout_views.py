"""The HTML guest checkout: choice page, guest form, confirmation, account creation, and the
total shown being the total charged."""

import re
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from catalog.tests.factories import make_variant
from orders.models import Order, OrderStatus
from orders.tests.factories import ADDRESS, fast_gateway  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_gateway")]
CHECKOUT = "/checkout/"


@pytest.fixture
def teapot():
    return make_variant(product__name="Teapot", sku="TEA-1", price=Decimal("20.00"), on_hand=5)


def hidden(response, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"'.encode(), response.content)
    assert match, f"no hidden {name}"
    return match.group(1).decode()


def guest_form(client) -> object:
    client.post(reverse("cart:add"), {"sku": "TEA-1", "quantity": "2"})
    choice = client.post(reverse("orders:checkout-guest"), {"email": "guest@example.com"})
    assert choice["Location"] == CHECKOUT
    page = client.get(CHECKOUT)
    assert page.status_code == 200
    return page


def submit(client, page, **overrides):
    data = {
        "idempotency_key": hidden(page, "idempotency_key"),
        "expected_total": hidden(page, "expected_total"),
        "email": "guest@example.com",
        "address": "new",
        "payment_token": "tok_success",
        **ADDRESS,
    }
    data.update(overrides)
    return client.post(CHECKOUT, data)


def test_the_guest_choice_needs_a_valid_email(client, teapot):
    client.post(reverse("cart:add"), {"sku": "TEA-1", "quantity": "1"})
    response = client.post(reverse("orders:checkout-guest"), {"email": "nope"})
    assert response.status_code == 200
    assert b'data-testid="checkout-as-guest"' in response.content
    assert b"field-error" in response.content


def test_a_guest_checks_out_and_sees_the_order(client, teapot):
    page = guest_form(client)
    assert b'data-testid="guest-email"' in page.content
    assert b'value="guest@example.com"' in page.content
    assert hidden(page, "expected_total") == "45.00"  # 40.00 and 5.00 shipping
    response = submit(client, page)
    assert response.status_code == 302, response.content[:2000]
    order = Order.objects.get()
    assert (order.user, order.email) == (None, "guest@example.com")
    assert response["Location"] == reverse("orders:confirmation", args=[order.number])
    confirmation = client.get(response["Location"])
    assert confirmation.status_code == 200
    assert b'data-testid="create-account"' in confirmation.content
    detail = client.get(reverse("orders:detail", args=[order.number]))
    assert detail.status_code == 200
    assert b'data-testid="order-status"' in detail.content
    invoice = client.get(reverse("orders:invoice", args=[order.number]))
    assert invoice.status_code == 200
    # Another browser without the token: 404 everywhere.
    other = Client()
    assert other.get(reverse("orders:detail", args=[order.number])).status_code == 404
    assert other.get(reverse("orders:confirmation", args=[order.number])).status_code == 404
    assert other.get(reverse("orders:invoice", args=[order.number])).status_code == 404
    assert other.post(reverse("orders:cancel", args=[order.number])).status_code == 404


def test_a_guest_cancels_through_the_order_page(client, teapot):
    submit(client, guest_form(client))
    order = Order.objects.get()
    response = client.post(reverse("orders:cancel", args=[order.number]), {"confirm": "yes"})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED


def test_creating_an_account_on_the_confirmation_attaches_the_order(client, teapot):
    submit(client, guest_form(client))
    order = Order.objects.get()
    url = reverse("orders:confirmation-account", args=[order.number])
    response = client.post(url, {"password": "a-long-Secret-42"})
    assert response.status_code == 302
    user = User.objects.get(email="guest@example.com")
    order.refresh_from_db()
    assert order.user == user
    assert client.get(reverse("orders:list")).status_code == 200
    assert order.number in client.get(reverse("orders:list")).content.decode()


def test_a_weak_password_is_refused_and_the_order_stays_a_guest_order(client, teapot):
    submit(client, guest_form(client))
    order = Order.objects.get()
    url = reverse("orders:confirmation-account", args=[order.number])
    response = client.post(url, {"password": "123"})
    assert response.status_code == 400
    order.refresh_from_db()
    assert order.user is None


def test_nobody_else_can_create_an_account_for_a_guest_order(client, teapot):
    submit(client, guest_form(client))
    order = Order.objects.get()
    url = reverse("orders:confirmation-account", args=[order.number])
    assert Client().post(url, {"password": "a-long-Secret-42"}).status_code == 404


def test_a_cart_changed_in_another_tab_is_not_charged_and_the_new_total_is_shown(client, teapot):
    page = guest_form(client)  # shows 2 x 20.00 = 40.00
    line = client.get("/api/v1/cart/").json()["items"][0]
    client.post(reverse("cart:add"), {"sku": "TEA-1", "quantity": "1"})  # the other tab
    assert line["quantity"] == 2
    response = submit(client, page)
    assert response.status_code == 200
    assert Order.objects.count() == 0
    html = response.content.decode()
    assert "Nothing was charged" in html
    assert "the total is now $60.00" in html
    assert hidden(response, "expected_total") == "60.00"
    # Asked again with the updated summary, the order goes through.
    again = submit(client, response)
    assert again.status_code == 302
    assert Order.objects.get().total == Decimal("60.00")


def test_the_token_link_opens_the_invoice_in_a_fresh_browser(client, teapot):
    from orders.guest_access import hash_order_token, new_order_token

    submit(client, guest_form(client))
    order = Order.objects.get()
    token = new_order_token()  # a token whose hash is the order's, as the email carries it
    Order.objects.filter(pk=order.pk).update(order_token_hash=hash_order_token(token=token))
    invoice = reverse("orders:invoice", args=[order.number])
    browser = Client()
    assert browser.get(f"{invoice}?token={'x' * 43}").status_code == 404
    response = browser.get(f"{invoice}?token={token}")
    assert (response.status_code, response["Location"]) == (302, invoice)
    page = browser.get(invoice)
    assert page.status_code == 200
    assert order.invoices.get().number in page.content.decode()
    # The same session now opens the order page too.
    assert browser.get(reverse("orders:detail", args=[order.number])).status_code == 200


def test_a_guest_order_is_a_404_for_another_signed_in_shopper(client, teapot):
    from accounts.tests.factories import UserFactory

    submit(client, guest_form(client))
    order = Order.objects.get()
    other = Client()
    other.force_login(UserFactory())
    for name in ("orders:detail", "orders:invoice", "orders:confirmation"):
        assert other.get(reverse(name, args=[order.number])).status_code == 404, name
    assert other.post(reverse("orders:cancel", args=[order.number])).status_code == 404
    url = reverse("orders:confirmation-account", args=[order.number])
    assert other.post(url, {"password": "a-long-Secret-42"}).status_code == 404
    order.refresh_from_db()
    assert (order.status, order.user) == (OrderStatus.RECEIVED, None)


def test_creating_an_account_counts_against_the_registration_limit(client, teapot, settings):
    from django.core.cache import cache

    submit(client, guest_form(client))
    order = Order.objects.get()
    cache.clear()
    settings.RATELIMIT_REGISTER = "1/h"
    try:
        register = client.post(reverse("accounts:register"), {"email": "bad"})
        assert register.status_code == 200  # the one registration this hour (refused)
        url = reverse("orders:confirmation-account", args=[order.number])
        limited = client.post(url, {"password": "a-long-Secret-42"})
        assert limited.status_code == 429
        assert int(limited["Retry-After"]) > 0
        assert not User.objects.exists()
    finally:
        cache.clear()


def test_a_guest_sees_tracking_and_can_no_longer_cancel_once_shipped(client, teapot):
    from accounts.tests.factories import StaffUserFactory
    from orders.lifecycle import transition_order
    from orders.tests.factories import PATH

    submit(client, guest_form(client))
    order = Order.objects.get()
    staff = StaffUserFactory()
    for step in PATH[OrderStatus.SHIPPED]:
        order = transition_order(order=order, to_status=step, user=staff)
    shipment = order.shipments.get()
    page = client.get(reverse("orders:detail", args=[order.number]))
    html = page.content.decode()
    assert 'data-testid="shipment"' in html
    assert shipment.tracking_number in html
    assert "Shipped" in html
    assert "Cancel order" not in html
    assert "Return items" not in html  # returns need an account
    response = client.post(reverse("orders:cancel", args=[order.number]), follow=True)
    assert response.status_code == 200
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED


def test_a_signed_in_shopper_is_not_charged_a_total_changed_in_another_tab(client, teapot):
    from accounts.tests.factories import UserFactory
    from orders.models import Payment

    client.force_login(UserFactory())
    client.post(reverse("cart:add"), {"sku": "TEA-1", "quantity": "1"})
    page = client.get(CHECKOUT)
    assert hidden(page, "expected_total") == "25.00"
    client.post(reverse("cart:add"), {"sku": "TEA-1", "quantity": "2"})  # the other tab
    data = {
        "idempotency_key": hidden(page, "idempotency_key"),
        "expected_total": hidden(page, "expected_total"),
        "address": "new",
        "payment_token": "tok_success",
        **ADDRESS,
    }
    response = client.post(CHECKOUT, data)
    assert response.status_code == 200
    assert "the total is now $60.00" in response.content.decode()
    assert hidden(response, "expected_total") == "60.00"
    assert not Order.objects.exists()
    assert not Payment.objects.exists()


def test_a_guest_whose_email_has_an_account_is_offered_to_sign_in(client, teapot):
    from accounts.tests.factories import UserFactory

    UserFactory(email="guest@example.com")
    submit(client, guest_form(client))
    order = Order.objects.get()
    url = reverse("orders:confirmation-account", args=[order.number])
    response = client.post(url, {"password": "a-long-Secret-42"})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'data-testid="account-exists"' in html
    assert f"{reverse('accounts:login')}?next=/orders/{order.number}/" in html
    order.refresh_from_db()
    assert order.user is None


def test_the_guest_email_is_kept_on_the_cart_for_the_abandoned_cart_reminder(client, teapot):
    from cart.models import Cart

    guest_form(client)
    assert Cart.objects.get(status="open").email == "guest@example.com"
