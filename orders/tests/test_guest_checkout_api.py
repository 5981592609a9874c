"""Guest checkout through the API (API.md wave 2 "Guest checkout", "The order placed is the
order confirmed")."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone
from rest_framework.test import APIClient

from catalog.tests.factories import make_variant
from inventory.models import StockItem
from orders.guest_access import hash_order_token
from orders.models import IdempotencyKey, IdempotencyState, Order, OrderStatus
from orders.tests.factories import ADDRESS, fast_gateway  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_gateway")]
ORDERS = "/api/v1/orders/"
BODY = {"shipping_address": ADDRESS, "payment_token": "tok_success", "email": "guest@example.com"}


def guest_cart(*items) -> str:
    """Fill an anonymous cart through the API and return its token."""
    client = APIClient()
    token = None
    for variant, quantity in items:
        headers = {"HTTP_X_CART_TOKEN": token} if token else {}
        response = client.post(
            "/api/v1/cart/items/",
            {"sku": variant.sku, "quantity": quantity},
            format="json",
            **headers,
        )
        assert response.status_code == 201, response.json()
        token = response.json()["token"]
    assert token
    return token


def checkout(cart_token, body=None, key="guest-key-1"):
    return APIClient().post(
        ORDERS,
        BODY if body is None else body,
        format="json",
        HTTP_X_CART_TOKEN=cart_token,
        HTTP_IDEMPOTENCY_KEY=key,
    )


@pytest.fixture
def placed():
    variant = make_variant(on_hand=5, price=Decimal("30.00"))
    token = guest_cart((variant, 2))
    response = checkout(token)
    assert response.status_code == 201, response.json()
    return response.json()


def test_a_guest_checks_out_with_an_email_and_gets_an_order_token(placed):
    assert placed["email"] == "guest@example.com"
    assert placed["status"] == "received"
    assert placed["total"] == "60.00"
    assert len(placed["order_token"]) >= 32
    order = Order.objects.get(number=placed["number"])
    assert order.user is None
    # Only the hash is stored.
    assert order.order_token_hash == hash_order_token(token=placed["order_token"])
    assert placed["order_token"] not in order.order_token_hash


def test_the_order_token_opens_that_order_and_nothing_else(placed):
    url = f"{ORDERS}{placed['number']}/"
    ok = APIClient().get(url, HTTP_X_ORDER_TOKEN=placed["order_token"])
    assert ok.status_code == 200
    assert ok.json()["number"] == placed["number"]
    assert ok.json()["can_cancel"] is True
    assert "order_token" not in ok.json()
    assert APIClient().get(url).status_code == 404
    wrong = APIClient().get(url, HTTP_X_ORDER_TOKEN="x" * 43)
    assert (wrong.status_code, wrong.json()["code"]) == (404, "not_found")


def test_a_member_order_is_not_reachable_by_any_token(api_client):
    from orders.tests.factories import place

    order = place()
    response = APIClient().get(f"{ORDERS}{order.number}/", HTTP_X_ORDER_TOKEN="")
    assert response.status_code == 404


def test_a_guest_cancels_with_the_token_and_the_stock_comes_back(placed):
    url = f"{ORDERS}{placed['number']}/cancel/"
    assert APIClient().post(url, HTTP_X_ORDER_TOKEN="nope").status_code == 404
    response = APIClient().post(url, HTTP_X_ORDER_TOKEN=placed["order_token"])
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "cancelled"
    order = Order.objects.get(number=placed["number"])
    assert order.status == OrderStatus.CANCELLED
    assert StockItem.objects.get(variant__sku=placed["lines"][0]["sku"]).allocated == 0


def test_guests_need_a_valid_email():
    token = guest_cart((make_variant(on_hand=5), 1))
    missing = checkout(token, {**BODY, "email": ""})
    assert missing.status_code == 400
    assert "email" in missing.json()["errors"]
    response = checkout(token, {k: v for k, v in BODY.items() if k != "email"}, key="k2")
    assert response.status_code == 400
    assert "email" in response.json()["errors"]
    bad = checkout(token, {**BODY, "email": "not-an-email"}, key="k3")
    assert bad.status_code == 400
    assert "email" in bad.json()["errors"]


def test_without_auth_or_cart_token_checkout_is_401():
    response = APIClient().post(ORDERS, BODY, format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert response.status_code == 401


def test_an_unknown_cart_token_is_404():
    assert checkout("6f1c9f8e-1111-4a4a-9999-123456789abc").status_code == 404
    assert checkout("not-a-uuid").status_code == 404


def test_the_same_key_replays_the_guest_order_with_its_token(placed):
    sku = placed["lines"][0]["sku"]
    key_row = IdempotencyKey.objects.get()
    assert key_row.user is None
    assert key_row.cart_token is not None
    again = checkout(str(key_row.cart_token))
    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == placed
    assert Order.objects.count() == 1
    assert StockItem.objects.get(variant__sku=sku).allocated == 2


def test_keys_are_scoped_per_cart_token():
    variant = make_variant(on_hand=5)
    first, second = guest_cart((variant, 1)), guest_cart((variant, 1))
    assert checkout(first, key="same").status_code == 201
    response = checkout(second, key="same")
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response
    assert Order.objects.count() == 2


@pytest.fixture
def one_anonymous_write_a_minute(monkeypatch):
    from django.core.cache import cache

    from shop.api.throttling import AnonWriteThrottle

    cache.clear()
    monkeypatch.setattr(AnonWriteThrottle, "THROTTLE_RATES", {"anon_write": "1/min"})
    yield
    cache.clear()


def test_anonymous_writes_are_throttled_for_guests(one_anonymous_write_a_minute):
    token = guest_cart((make_variant(on_hand=5), 1))  # the one write allowed this minute
    response = checkout(token)
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert Order.objects.count() == 0


def test_order_token_guesses_and_cancels_share_the_anonymous_write_budget(placed, monkeypatch):
    from django.core.cache import cache

    from shop.api.throttling import AnonWriteThrottle

    cache.clear()
    monkeypatch.setattr(AnonWriteThrottle, "THROTTLE_RATES", {"anon_write": "2/min"})
    try:
        url = f"{ORDERS}{placed['number']}/cancel/"
        guesses = [APIClient().post(url, HTTP_X_ORDER_TOKEN=f"guess-{n}") for n in range(2)]
        assert [g.status_code for g in guesses] == [404, 404]
        response = APIClient().post(url, HTTP_X_ORDER_TOKEN=placed["order_token"])
        assert response.status_code == 429
        assert int(response["Retry-After"]) > 0
        assert Order.objects.get(number=placed["number"]).status == OrderStatus.RECEIVED
    finally:
        cache.clear()


def test_expected_total_that_differs_charges_nothing():
    variant = make_variant(on_hand=5, price=Decimal("30.00"))
    token = guest_cart((variant, 1))
    response = checkout(token, {**BODY, "expected_total": "29.99"})
    assert response.status_code == 409
    assert response.json()["code"] == "cart_changed"
    assert response.json()["total"] == "35.00"  # 30.00 and 5.00 shipping
    assert Order.objects.count() == 0
    assert StockItem.objects.get(variant=variant).allocated == 0
    # The key is not kept: the same key with the new total goes through.
    ok = checkout(token, {**BODY, "expected_total": "35.00"})
    assert ok.status_code == 201, ok.json()


def test_expected_total_is_checked_for_members_too(api_client):
    from accounts.tests.factories import UserFactory
    from orders.tests.factories import cart_with

    user = UserFactory()
    api_client.force_authenticate(user)
    cart_with(user, (make_variant(on_hand=5, price=Decimal("30.00")), 3))
    body = {"shipping_address": ADDRESS, "payment_token": "tok_success", "expected_total": "30.00"}
    response = api_client.post(ORDERS, body, format="json", HTTP_IDEMPOTENCY_KEY="m1")
    assert (response.status_code, response.json()["code"]) == (409, "cart_changed")
    assert response.json()["total"] == "90.00"


def test_the_confirmation_email_links_to_the_order_with_its_token(
    django_capture_on_commit_callbacks, client
):
    variant = make_variant(on_hand=5, price=Decimal("30.00"))
    token = guest_cart((variant, 1))
    with django_capture_on_commit_callbacks(execute=True):
        response = checkout(token)
    assert response.status_code == 201
    placed = response.json()
    [message] = [m for m in mail.outbox if placed["number"] in m.subject]
    assert message.to == ["guest@example.com"]
    link = re.search(r"https?://[^/\s]+(/orders/[^\s\"]+)", message.body).group(1)
    assert link == f"/orders/{placed['number']}/?token={placed['order_token']}"
    page = client.get(link, follow=True)
    assert page.status_code == 200
    assert placed["number"] in page.content.decode()
    # The link set the session: the order page keeps working without the token.
    assert client.get(f"/orders/{placed['number']}/").status_code == 200
    # Another browser without the token gets a 404.
    from django.test import Client

    assert Client().get(f"/orders/{placed['number']}/").status_code == 404


def test_a_guest_key_whose_request_died_after_placing_the_order_replays_it_with_its_token(
    placed,
):
    """The request was killed after its order committed, before its answer was stored: the
    key row is left in_progress (with the order's number and token) and its lease runs out."""
    key_row = IdempotencyKey.objects.get()
    IdempotencyKey.objects.filter(pk=key_row.pk).update(
        state=IdempotencyState.IN_PROGRESS,
        order_token=placed["order_token"],
        response_status=None,
        response_body=None,
        lease_expires_at=timezone.now() - timedelta(seconds=1),
    )
    retry = checkout(str(key_row.cart_token))
    assert (retry.status_code, retry["Idempotent-Replayed"]) == (201, "true")
    assert retry.json()["number"] == placed["number"]
    assert retry.json()["order_token"] == placed["order_token"]
    assert Order.objects.count() == 1
    key_row.refresh_from_db()
    assert (key_row.state, key_row.order_token) == (IdempotencyState.COMPLETED, "")


def test_the_order_token_opens_the_invoice_and_nothing_opens_it_without(placed):
    from accounts.tests.factories import UserFactory

    url = f"{ORDERS}{placed['number']}/invoice/"
    response = APIClient().get(url, HTTP_X_ORDER_TOKEN=placed["order_token"])
    assert response.status_code == 200, response.json()
    assert response.json()["number"] == Order.objects.get().invoices.get().number
    html = APIClient().get(f"{url}?format=html", HTTP_X_ORDER_TOKEN=placed["order_token"])
    assert (html.status_code, html["Content-Type"].split(";")[0]) == (200, "text/html")
    assert APIClient().get(url).status_code == 404
    assert APIClient().get(url, HTTP_X_ORDER_TOKEN="y" * 43).status_code == 404
    member = APIClient()
    member.force_authenticate(UserFactory())
    assert member.get(url).status_code == 404
    assert member.get(f"{ORDERS}{placed['number']}/").status_code == 404
    # A signed-in client holding the token is let in by the token.
    assert member.get(url, HTTP_X_ORDER_TOKEN=placed["order_token"]).status_code == 200


def test_a_guests_later_emails_link_to_the_order_with_a_link_token(
    placed, django_capture_on_commit_callbacks, client
):
    from django.test import Client

    from accounts.tests.factories import StaffUserFactory
    from orders.lifecycle import transition_order
    from orders.tests.factories import PATH

    order = Order.objects.get(number=placed["number"])
    staff = StaffUserFactory()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        for step in PATH[OrderStatus.SHIPPED]:
            order = transition_order(order=order, to_status=step, user=staff)
    [shipped] = [m for m in mail.outbox if "guest@example.com" in m.to]
    link = re.search(r"https?://[^/\s]+(/orders/[^\s\"]+)", shipped.body).group(1)
    path, token = link.split("?token=")
    assert path == f"/orders/{placed['number']}/"
    assert token != placed["order_token"]  # the order token itself is never stored
    page = client.get(link, follow=True)
    assert page.status_code == 200
    assert placed["number"] in page.content.decode()
    # The link token opens that order only, and not once tampered with.
    from urllib.parse import unquote

    raw = unquote(token)
    api = APIClient()
    assert api.get(f"{ORDERS}{placed['number']}/", HTTP_X_ORDER_TOKEN=raw).status_code == 200
    tampered = raw[:-1] + ("A" if raw[-1] != "A" else "B")
    assert Client().get(f"{path}?token={tampered}").status_code == 404
    other = checkout(guest_cart((make_variant(on_hand=5), 1)), key="other-guest")
    assert other.status_code == 201
    other_url = f"{ORDERS}{other.json()['number']}/"
    assert api.get(other_url, HTTP_X_ORDER_TOKEN=raw).status_code == 404


def test_a_members_emails_link_to_the_order_page_without_a_token():
    from notifications.contexts import order_summary
    from orders.tests.factories import place

    order = place()
    assert order_summary(order)["url"].endswith(f"/orders/{order.number}/")
