"""Checkout, confirmation and order pages: HTTP behaviour over the orders services."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.tests.factories import DEFAULT_PASSWORD, AddressFactory, UserFactory
from cart.models import CartLine, CartStatus
from catalog.tests.factories import make_variant
from inventory.models import StockHold
from orders.models import Order, OrderStatus, ReturnRequest
from orders.tests.factories import ADDRESS, cart_with, fast_gateway, order_in, place  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_gateway")]

CHECKOUT = "/checkout/"


@pytest.fixture
def shopper(client):
    user = UserFactory(email="ada@example.com")
    client.force_login(user)
    return user


@pytest.fixture
def teapot():
    return make_variant(product__name="Teapot", sku="TEA-1", price=Decimal("20.00"), on_hand=5)


def form_key(response) -> str:
    match = re.search(rb'name="idempotency_key" value="([0-9a-f-]{36})"', response.content)
    assert match, "checkout form has no idempotency key"
    return match.group(1).decode()


def checkout_post(client, key, follow=False, **overrides):
    data = {"idempotency_key": key, "address": "new", "payment_token": "tok_success", **ADDRESS}
    data.update(overrides)
    return client.post(CHECKOUT, data, follow=follow)


# ---------------------------------------------------------------------------- checkout


def test_anonymous_checkout_offers_guest_sign_in_or_register(client, teapot):
    client.post(reverse("cart:add"), {"sku": "TEA-1", "quantity": "1"})
    response = client.get(CHECKOUT)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="checkout-as-guest"' in html
    assert f"{reverse('accounts:login')}?next=/checkout/" in html
    assert f"{reverse('accounts:register')}?next=/checkout/" in html


def test_registering_on_the_way_to_checkout_keeps_the_guest_cart(client, teapot):
    client.post(reverse("cart:add"), {"sku": "TEA-1", "quantity": "2"})

    response = client.post(
        reverse("accounts:register"),
        {
            "email": "fresh@example.com",
            "first_name": "Fresh",
            "last_name": "Shopper",
            "new_password1": "a-long-Secret-42",
            "new_password2": "a-long-Secret-42",
            "next": CHECKOUT,
        },
    )

    assert response["Location"] == CHECKOUT
    page = client.get(CHECKOUT)
    assert page.status_code == 200
    assert [(line.sku, line.quantity) for line in page.context["cart"].lines] == [("TEA-1", 2)]


def test_signing_in_on_the_way_to_checkout_merges_the_guest_cart(client, teapot):
    user = UserFactory(email="back@example.com")
    cart_with(user, (teapot, 1))
    client.post(reverse("cart:add"), {"sku": "TEA-1", "quantity": "2"})

    client.post(
        reverse("accounts:login"),
        {"email": "back@example.com", "password": DEFAULT_PASSWORD, "next": CHECKOUT},
    )

    page = client.get(CHECKOUT)
    assert [(line.sku, line.quantity) for line in page.context["cart"].lines] == [("TEA-1", 3)]


def test_checkout_with_an_empty_cart_goes_back_to_the_cart(client, shopper):
    response = client.get(CHECKOUT, follow=True)
    assert response.redirect_chain[-1][0] == reverse("cart:detail")
    assert b"Your cart is empty." in response.content


def test_opening_checkout_holds_the_stock_and_shows_the_form(client, shopper, teapot):
    cart = cart_with(shopper, (teapot, 2))

    response = client.get(CHECKOUT)

    assert response.status_code == 200
    hold = StockHold.objects.get(cart_token=cart.token)
    assert hold.quantity == 2
    body = response.content.decode()
    assert 'data-testid="hold-expiry"' in body
    assert hold.expires_at.strftime("%H:%M") in body
    assert "csrfmiddlewaretoken" in body
    form_key(response)
    for token in ("tok_success", "tok_declined", "tok_transient", "tok_unavailable"):
        assert f'value="{token}"' in body
    assert 'data-testid="subtotal">$40.00' in body
    assert 'data-testid="shipping">$5.00' in body
    assert 'data-testid="total">$45.00' in body
    for name in ("full_name", "line1", "city", "postal_code", "country"):
        assert f'<label for="id_{name}">' in body


def test_shipping_is_free_from_the_threshold(client, shopper, teapot):
    cart_with(shopper, (teapot, 3))
    body = client.get(CHECKOUT).content.decode()
    assert 'data-testid="shipping">Free' in body
    assert 'data-testid="total">$60.00' in body


def test_each_rendering_carries_a_new_idempotency_key(client, shopper, teapot):
    cart_with(shopper, (teapot, 1))
    assert form_key(client.get(CHECKOUT)) != form_key(client.get(CHECKOUT))


def test_checkout_when_stock_ran_out_sends_back_to_the_cart(client, shopper, teapot):
    cart_with(shopper, (teapot, 2))
    teapot.stock.allocated = 4
    teapot.stock.save()
    response = client.get(CHECKOUT, follow=True)
    assert response.redirect_chain[-1][0] == reverse("cart:detail")
    assert b"Sorry, only 1 can be supplied." in response.content


def test_saved_addresses_are_offered_default_first(client, shopper, teapot):
    AddressFactory(user=shopper, full_name="Home Address", is_default=True)
    AddressFactory(user=shopper, full_name="Work Address")
    cart_with(shopper, (teapot, 1))
    body = client.get(CHECKOUT).content.decode()
    assert body.index("Home Address") < body.index("Work Address")
    assert "Ship to a new address" in body


def test_placing_an_order_with_a_new_address_redirects_to_the_confirmation(client, shopper, teapot):
    cart = cart_with(shopper, (teapot, 2))
    key = form_key(client.get(CHECKOUT))

    response = checkout_post(client, key)

    order = Order.objects.get(user=shopper)
    assert response.status_code == 302
    assert response["Location"] == reverse("orders:confirmation", args=[order.number])
    assert order.shipping_address["city"] == "London"
    assert order.total == Decimal("45.00")
    cart.refresh_from_db()
    assert cart.status == CartStatus.ORDERED
    page = client.get(response["Location"])
    assert b"Thank you" in page.content
    assert order.number.encode() in page.content


def test_placing_an_order_with_a_saved_address(client, shopper, teapot):
    address = AddressFactory(user=shopper, city="Paris", country="FR")
    cart_with(shopper, (teapot, 1))
    key = form_key(client.get(CHECKOUT))
    response = client.post(
        CHECKOUT,
        {"idempotency_key": key, "address": str(address.pk), "payment_token": "tok_success"},
    )
    assert response.status_code == 302
    assert Order.objects.get().shipping_address["city"] == "Paris"


def test_submitting_the_same_form_twice_places_one_order(client, shopper, teapot):
    cart_with(shopper, (teapot, 1))
    key = form_key(client.get(CHECKOUT))

    first = checkout_post(client, key)
    second = checkout_post(client, key)

    assert Order.objects.count() == 1
    assert first["Location"] == second["Location"]


def test_declined_card_shows_the_error_and_keeps_the_cart(client, shopper, teapot):
    cart = cart_with(shopper, (teapot, 2))
    key = form_key(client.get(CHECKOUT))

    response = checkout_post(client, key, payment_token="tok_declined")

    assert response.status_code == 200
    assert b"The payment was declined." in response.content
    assert not Order.objects.exists()
    cart.refresh_from_db()
    assert cart.status == CartStatus.OPEN
    assert CartLine.objects.get(cart=cart).quantity == 2
    assert form_key(response) != key
    # The declined card is no longer chosen (issue 18): the shopper picks another one.
    assert b'value="tok_declined" checked' not in response.content
    teapot.stock.refresh_from_db()
    assert teapot.stock.allocated == 0


def test_gateway_unavailable_shows_a_try_again_message(client, shopper, teapot):
    cart_with(shopper, (teapot, 1))
    key = form_key(client.get(CHECKOUT))
    response = checkout_post(client, key, payment_token="tok_unavailable")
    assert response.status_code == 200
    assert b"payment service is unavailable" in response.content
    assert not Order.objects.exists()


def test_transient_failure_is_retried_and_the_order_placed(client, shopper, teapot):
    cart_with(shopper, (teapot, 1))
    key = form_key(client.get(CHECKOUT))
    response = checkout_post(client, key, payment_token="tok_transient")
    assert response.status_code == 302
    assert Order.objects.count() == 1


def test_missing_address_fields_are_shown_next_to_the_fields(client, shopper, teapot):
    cart_with(shopper, (teapot, 1))
    key = form_key(client.get(CHECKOUT))

    response = checkout_post(client, key, city="", country="Narnia")

    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="id_city_error">This field is required.' in body
    assert 'id="id_country_error">' in body
    assert 'aria-invalid="true" aria-describedby="id_city_error"' in body
    assert 'value="Ada Lovelace"' in body  # what was typed is kept
    assert not Order.objects.exists()


def test_the_new_address_country_is_a_select_of_names(client, shopper, teapot):
    cart_with(shopper, (teapot, 1))
    body = client.get(CHECKOUT).content.decode()
    select = re.search(r'<select name="country"[^>]*>(.*?)</select>', body, flags=re.S)
    assert select, "the country is not a select"
    assert 'autocomplete="shipping country"' in body
    assert '<option value="US">United States of America</option>' in select.group(1)
    assert '<option value="DE">Germany</option>' in select.group(1)


def test_a_country_that_is_not_iso_is_refused_next_to_the_field(client, shopper, teapot):
    cart_with(shopper, (teapot, 1))
    key = form_key(client.get(CHECKOUT))

    response = checkout_post(client, key, country="ZZ")

    assert response.status_code == 200
    body = response.content.decode()
    assert re.search(r'id="id_country_error">[^<]*ISO 3166-1', body)
    assert not Order.objects.exists()


def test_someone_elses_address_cannot_be_used(client, shopper, teapot):
    foreign = AddressFactory()
    cart_with(shopper, (teapot, 1))
    key = form_key(client.get(CHECKOUT))
    response = client.post(
        CHECKOUT,
        {"idempotency_key": key, "address": str(foreign.pk), "payment_token": "tok_success"},
    )
    assert response.status_code == 200
    assert b"Unknown address." in response.content
    assert not Order.objects.exists()


def test_price_change_is_explained_and_the_retry_succeeds(client, shopper, teapot):
    cart_with(shopper, (teapot, 1))
    key = form_key(client.get(CHECKOUT))
    teapot.price = Decimal("22.00")
    teapot.save()

    response = checkout_post(client, key)

    assert response.status_code == 200
    assert b"Some prices changed" in response.content
    assert b'data-testid="total">$27.00' in response.content
    retry = checkout_post(client, form_key(response))
    assert retry.status_code == 302
    assert Order.objects.get().total == Decimal("27.00")


def test_posting_without_a_key_asks_to_review(client, shopper, teapot):
    cart_with(shopper, (teapot, 1))
    response = client.post(CHECKOUT, {"address": "new", **ADDRESS}, follow=True)
    assert b"This checkout form expired" in response.content
    assert not Order.objects.exists()


def test_replaying_a_completed_checkout_after_the_cart_is_gone_still_confirms(
    client, shopper, teapot
):
    cart_with(shopper, (teapot, 1))
    key = form_key(client.get(CHECKOUT))
    first = checkout_post(client, key)
    assert client.get("/cart/").context["cart"].is_empty
    assert checkout_post(client, key)["Location"] == first["Location"]


def test_confirmation_of_someone_elses_order_is_404(client, shopper):
    order = place()
    assert client.get(reverse("orders:confirmation", args=[order.number])).status_code == 404


# ---------------------------------------------------------------------------- orders


def test_order_history_lists_only_my_orders(client, shopper):
    mine = place(user=shopper)
    theirs = place()
    response = client.get("/orders/")
    assert response.status_code == 200
    assert mine.number.encode() in response.content
    assert theirs.number.encode() not in response.content


def test_order_history_requires_sign_in(client):
    response = client.get("/orders/")
    assert response.status_code == 302
    assert "next=/orders/" in response["Location"]


def test_order_history_is_paginated(client, shopper):
    variant = make_variant(on_hand=50, price=Decimal("20.00"))
    for _ in range(12):
        place(user=shopper, items=[(variant, 1)])
    first = client.get("/orders/")
    second = client.get("/orders/?page=2")
    assert len(first.context["orders"]) == 10
    assert len(second.context["orders"]) == 2
    assert b"Page 2 of 2" in second.content
    assert client.get("/orders/?page=junk").status_code == 200


@pytest.mark.parametrize("count", [1, 9])
def test_order_history_query_count_is_constant(
    client, shopper, django_assert_max_num_queries, count
):
    variant = make_variant(on_hand=50, price=Decimal("20.00"))
    for _ in range(count):
        place(user=shopper, items=[(variant, 1)])
    # Session, user, count, page, badge, category menu.
    with django_assert_max_num_queries(6):
        response = client.get("/orders/")
    assert len(response.context["orders"]) == count


def test_order_detail_of_someone_else_is_404(client, shopper):
    order = place()
    assert client.get(f"/orders/{order.number}/").status_code == 404
    assert client.post(f"/orders/{order.number}/cancel/").status_code == 404
    assert client.post(f"/orders/{order.number}/returns/").status_code == 404


def test_order_detail_shows_lines_timeline_invoice_and_cancel(client, shopper):
    order = place(user=shopper)
    response = client.get(f"/orders/{order.number}/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "Order placed" in body
    assert 'data-testid="timeline"' in body
    assert f"/api/v1/orders/{order.number}/invoice/?format=html" in body
    assert "Cancel order" in body
    assert "Return items" not in body
    assert "csrfmiddlewaretoken" in body


@pytest.mark.parametrize("lines", [1, 6])
def test_order_detail_query_count_is_constant(
    client, shopper, django_assert_max_num_queries, lines
):
    items = [(make_variant(price=Decimal("5.00")), 1) for _ in range(lines)]
    order = order_in(OrderStatus.DELIVERED, user=shopper, items=items)
    with django_assert_max_num_queries(14):
        response = client.get(f"/orders/{order.number}/")
    assert response.status_code == 200


def test_invoice_link_opens_the_printable_invoice(client, shopper):
    order = place(user=shopper)
    page = client.get(f"/orders/{order.number}/")
    link = re.search(r'href="([^"]+)"[^>]*>Printable invoice', page.content.decode()).group(1)
    response = client.get(link.replace("&amp;", "&"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert order.number.encode() in response.content


def test_cancelling_my_order_refunds_it(client, shopper):
    order = place(user=shopper)
    response = client.post(f"/orders/{order.number}/cancel/", {"confirm": "yes"}, follow=True)
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert b"is cancelled" in response.content
    assert b"Cancel order" not in response.content


def test_shipped_order_has_no_cancel_button_and_cannot_be_cancelled(client, shopper):
    order = order_in(OrderStatus.SHIPPED, user=shopper)
    page = client.get(f"/orders/{order.number}/")
    assert b"Cancel order" not in page.content
    assert b'data-testid="shipment"' in page.content
    response = client.post(f"/orders/{order.number}/cancel/", {"confirm": "yes"}, follow=True)
    assert b"cannot move from shipped to cancelled" in response.content
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED


def test_cancel_asks_for_confirmation_first(client, shopper):
    order = place(user=shopper)
    page = client.get(f"/orders/{order.number}/")
    # The order page's button only opens the confirmation (a GET form).
    assert re.search(
        rf'<form method="get" action="/orders/{order.number}/cancel/">', page.content.decode()
    )
    confirm = client.get(f"/orders/{order.number}/cancel/")
    assert confirm.status_code == 200
    body = confirm.content.decode()
    assert f"Cancel order {order.number}?" in body
    assert 'name="confirm" value="yes"' in body
    assert "csrfmiddlewaretoken" in body
    assert "Keep my order" in body
    # A POST without the confirmation shows the question again and changes nothing.
    unconfirmed = client.post(f"/orders/{order.number}/cancel/")
    assert unconfirmed.status_code == 200
    assert b"Yes, cancel the order" in unconfirmed.content
    order.refresh_from_db()
    assert order.status == OrderStatus.RECEIVED


def test_cancel_confirmation_of_an_order_past_cancelling_goes_back_to_the_order(client, shopper):
    order = order_in(OrderStatus.SHIPPED, user=shopper)
    response = client.get(f"/orders/{order.number}/cancel/", follow=True)
    assert response.redirect_chain[-1][0] == f"/orders/{order.number}/"
    assert b"can no longer be cancelled" in response.content


def test_cancel_is_refused_for_other_methods(client, shopper):
    order = place(user=shopper)
    assert client.put(f"/orders/{order.number}/cancel/").status_code == 405


def test_delivered_order_offers_a_return_form(client, shopper):
    order = order_in(OrderStatus.DELIVERED, user=shopper)
    line = order.lines.get()
    body = client.get(f"/orders/{order.number}/").content.decode()
    assert "Return items" in body
    assert f'<label for="return-qty-{line.pk}">' in body
    assert f'max="{line.quantity}"' in body


def test_requesting_a_return(client, shopper):
    order = order_in(OrderStatus.DELIVERED, user=shopper)
    line = order.lines.get()
    response = client.post(
        f"/orders/{order.number}/returns/", {f"qty-{line.pk}": "1", "reason": "Too big"}
    )
    assert response.status_code == 302
    rma = ReturnRequest.objects.get(order=order)
    assert rma.reason == "Too big"
    assert rma.lines.get().quantity == 1
    page = client.get(response["Location"])
    assert f"Return #{rma.pk}".encode() in page.content


@pytest.mark.parametrize(
    ("quantity", "message"),
    [
        ("5", "You can send back at most 2 of these."),
        ("abc", "Enter a whole number, e.g. 1."),
        ("-1", "Enter 0 or more."),
    ],
)
def test_bad_return_quantities_are_explained_next_to_the_field(client, shopper, quantity, message):
    order = order_in(OrderStatus.DELIVERED, user=shopper)
    line = order.lines.get()
    response = client.post(f"/orders/{order.number}/returns/", {f"qty-{line.pk}": quantity})
    assert response.status_code == 400
    html = response.content.decode()
    assert f'<p class="field-error" id="return-qty-{line.pk}-error">{message}</p>' in html
    assert f'aria-describedby="return-qty-{line.pk}-error"' in html
    assert line.sku not in html.split('data-testid="return-form-error"')[-1].split("</p>")[0]
    assert not ReturnRequest.objects.exists()


def test_a_return_of_nothing_asks_to_choose_an_item(client, shopper):
    order = order_in(OrderStatus.DELIVERED, user=shopper)
    line = order.lines.get()
    response = client.post(f"/orders/{order.number}/returns/", {f"qty-{line.pk}": "0"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Choose how many of at least one item you are sending back." in html
    assert "List at least one line" not in html
    assert not ReturnRequest.objects.exists()


def test_return_of_an_undelivered_order_is_refused(client, shopper):
    order = place(user=shopper)
    line = order.lines.get()
    response = client.post(f"/orders/{order.number}/returns/", {f"qty-{line.pk}": "1"})
    assert response.status_code == 400
    assert b"Only delivered orders can be returned." in response.content


# ---------------------------------------------------------------------------- double submit


def _in_progress_key(user, key, data):
    from orders.checkout.idempotency import payload_hash
    from orders.checkout.views import CHECKOUT_SCOPE
    from orders.models import IdempotencyKey, IdempotencyState

    return IdempotencyKey.objects.create(
        user=user,
        key=key,
        scope=CHECKOUT_SCOPE,
        request_hash=payload_hash(payload=data),
        state=IdempotencyState.IN_PROGRESS,
    )


def _form_data(**extra):
    return {"address": "new", "payment_token": "tok_success", "notes": "", **ADDRESS, **extra}


def test_second_submission_waits_for_the_first_and_gets_its_confirmation(
    client, shopper, teapot, monkeypatch
):
    from orders.checkout import views
    from orders.models import IdempotencyState

    order = place(user=shopper)
    key = "a0c5c8a4-7a8e-4c53-9b53-2f8d1f1f1f1f"
    record = _in_progress_key(shopper, key, _form_data())

    def first_request_finishes(seconds):
        record.state = IdempotencyState.COMPLETED
        record.response_status = 201
        record.response_body = {"number": order.number}
        record.save()

    monkeypatch.setattr(views.time, "sleep", first_request_finishes)
    response = checkout_post(client, key)

    assert response["Location"] == reverse("orders:confirmation", args=[order.number])
    assert Order.objects.count() == 1


def test_submission_still_running_after_the_wait_points_to_the_order_history(
    client, shopper, teapot, monkeypatch
):
    from orders.checkout import views

    monkeypatch.setattr(views, "IN_USE_WAIT_SECONDS", 0)
    monkeypatch.setattr(views.time, "sleep", lambda seconds: None)
    key = "b0c5c8a4-7a8e-4c53-9b53-2f8d1f1f1f1f"
    _in_progress_key(shopper, key, _form_data())

    response = checkout_post(client, key, follow=True)

    assert response.redirect_chain[-1][0] == reverse("orders:list")
    assert b"still being placed" in response.content
    assert not Order.objects.exists()


def test_a_declined_form_sent_again_with_another_card_places_the_order(client, shopper, teapot):
    # A decline leaves nothing behind, so it is not kept against the form's key (API.md).
    cart_with(shopper, (teapot, 1))
    key = form_key(client.get(CHECKOUT))
    checkout_post(client, key, payment_token="tok_declined")
    assert not Order.objects.exists()
    response = checkout_post(client, key, payment_token="tok_success")
    order = Order.objects.get()
    assert (response.status_code, response["Location"]) == (302, f"/checkout/done/{order.number}/")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_double_click_places_exactly_one_order(client, teapot):
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection
    from django.test import Client

    user = UserFactory()
    cart_with(user, (teapot, 1))
    client.force_login(user)
    key = form_key(client.get(CHECKOUT))
    cookies = client.cookies

    def submit(_):
        c = Client()
        c.cookies = cookies
        try:
            return c.post(
                CHECKOUT,
                {
                    "idempotency_key": key,
                    "address": "new",
                    "payment_token": "tok_success",
                    **ADDRESS,
                },
            )["Location"]
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=4) as pool:
        locations = list(pool.map(submit, range(4)))

    order = Order.objects.get()
    assert set(locations) == {reverse("orders:confirmation", args=[order.number])}
