"""Abandoned-cart reminders: who gets one, once, opt-out, and the daily command."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.tests.factories import UserFactory
from cart import reminders
from cart.models import Cart
from cart.services import add_item, get_cart_for
from catalog.tests.factories import make_variant
from notifications.models import Notification, NotificationKind

pytestmark = pytest.mark.django_db


def _age(cart: Cart, hours: int = 25) -> None:
    Cart.objects.filter(pk=cart.pk).update(updated_at=timezone.now() - timedelta(hours=hours))


def _reminders() -> list[Notification]:
    return list(Notification.objects.filter(kind=NotificationKind.CART_REMINDER).order_by("pk"))


@pytest.fixture
def user_cart():
    user = UserFactory(email="ada@example.com")
    cart = get_cart_for(user=user, create=True)
    add_item(cart=cart, sku=make_variant(product__name="Desk lamp").sku, quantity=2)
    return cart


def test_a_cart_untouched_for_a_day_gets_one_reminder(user_cart):
    _age(user_cart, hours=23)
    assert reminders.send_cart_reminders() == 0
    _age(user_cart, hours=25)
    assert reminders.send_cart_reminders() == 1
    [email] = _reminders()
    assert email.recipient == "ada@example.com"
    assert email.context["cart"]["lines"][0] == {
        "product_name": "Desk lamp",
        "variant_name": email.context["cart"]["lines"][0]["variant_name"],
        "quantity": 2,
    }
    assert "/cart/reminders/opt-out/" in email.context["opt_out_url"]
    _age(user_cart, hours=50)
    assert reminders.send_cart_reminders() == 0  # one reminder per cart


def test_guests_get_one_only_with_an_email_and_empty_carts_none():
    guest = Cart.objects.create()
    add_item(cart=guest, sku=make_variant().sku, quantity=1)
    empty = Cart.objects.create(email="empty@example.com")
    _age(guest)
    _age(empty)
    assert reminders.send_cart_reminders() == 0
    reminders.remember_cart_email(cart=guest, email="guest@example.com")
    _age(guest)
    assert reminders.send_cart_reminders() == 1
    assert [n.recipient for n in _reminders()] == ["guest@example.com"]


def test_an_opted_out_address_gets_nothing(user_cart, client):
    token = reminders.opt_out_token(email="ADA@example.com")
    page = client.get(f"/cart/reminders/opt-out/{token}/")
    assert "No more reminders" in page.content.decode()
    done = client.post(f"/cart/reminders/opt-out/{token}/")  # one-click: no CSRF token
    assert "will not send cart reminders" in done.content.decode()
    _age(user_cart)
    assert reminders.send_cart_reminders() == 0
    assert client.get("/cart/reminders/opt-out/forged/").status_code == 404


def test_the_daily_command_sends_every_due_reminder(user_cart):
    _age(user_cart)
    call_command("send_cart_reminders")
    assert len(_reminders()) == 1
