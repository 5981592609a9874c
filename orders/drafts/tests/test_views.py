"""The draft builder in the admin (permissions per role, friendly errors, CSRF) and the
customer's pay page (who may open it, paying, expired and closed links)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.roles import CATALOG_MANAGERS, CUSTOMER_SERVICE, FINANCE, FULFILMENT
from accounts.tests.factories import AddressFactory, UserFactory
from catalog.tests.factories import make_variant
from orders.drafts.services import payment_link_path, send_payment_link
from orders.drafts.tests.factories import customer_service, ready_draft
from orders.lifecycle import cancel_order
from orders.models import Order, OrderStatus, Payment, PaymentStatus
from orders.payments.gateways import MockGateway
from orders.tests.factories import ADDRESS, fast_gateway, staff_in  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_gateway")]


def builder(order: Order) -> str:
    return reverse("orders:staff-draft", kwargs={"number": order.number})


def said(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# -- staff: who may do what ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "builds", "marks_paid"),
    [
        (CUSTOMER_SERVICE, True, False),
        (FINANCE, True, True),
        (FULFILMENT, False, False),
        (CATALOG_MANAGERS, False, False),
    ],
)
def test_each_role_builds_drafts_and_marks_them_paid_only_with_its_permission(
    client, role, builds, marks_paid
):
    draft = ready_draft()
    client.force_login(staff_in(role))

    page = client.get(builder(draft))
    new = client.get(reverse("orders:staff-draft-new"))
    assert page.status_code == new.status_code == (200 if builds else 403)
    if builds:
        assert (b'data-testid="mark-paid-offline"' in page.content) is marks_paid
        listing = client.get(reverse("admin:orders_order_changelist"))
        assert b'data-testid="add-draft-order"' in listing.content
        change = client.get(reverse("admin:orders_order_change", args=[draft.pk]))
        assert b'data-testid="draft-builder-link"' in change.content

    offline = {"action": "paid_offline", "method": "cash", "reference": "R-1"}
    response = client.post(builder(draft), offline)
    assert response.status_code == (302 if marks_paid else 403)
    draft.refresh_from_db()
    assert draft.status == (OrderStatus.RECEIVED if marks_paid else OrderStatus.DRAFT)
    add = {"action": "add", "sku": draft.lines.first().sku, "quantity": 1}
    assert client.post(builder(draft), add).status_code == (302 if builds else 403)


def test_roles_without_the_permission_see_no_add_draft_button(client):
    client.force_login(staff_in(FULFILMENT))
    listing = client.get(reverse("admin:orders_order_changelist"))
    assert listing.status_code == 200
    assert b"add-draft-order" not in listing.content


def test_staff_build_and_send_a_draft_through_the_page(client):
    variant = make_variant(on_hand=5, price=Decimal("15.00"), sku="PHONE-1")
    client.force_login(staff_in(CUSTOMER_SERVICE))

    started = client.post(reverse("orders:staff-draft-new"), {"email": "caller@example.com"})
    order = Order.objects.get(email="caller@example.com")
    assert started.url == builder(order)
    client.post(builder(order), {"action": "add", "sku": "phone-1", "quantity": 2})
    address = {f"address-{name}": value for name, value in ADDRESS.items()}
    client.post(builder(order), {"action": "address", **address})
    client.post(builder(order), {"action": "shipping", "shipping_method": "standard"})
    page = client.get(builder(order))
    assert b'data-testid="draft-total">35.00' in page.content

    sent = client.post(builder(order), {"action": "send"})

    assert said(sent) == ["Payment link emailed to caller@example.com."]
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING_PAYMENT
    assert order.lines.get().sku == variant.sku
    assert b'data-testid="pay-link"' in client.get(builder(order)).content


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"action": "add", "sku": "NOPE", "quantity": 1}, "No purchasable variant has this SKU."),
        ({"action": "add", "sku": "X", "quantity": "lots"}, "Check the form: quantity"),
        ({"action": "change", "sku": "X", "quantity": -4}, "Check the form: quantity"),
        ({"action": "customer", "email": "nope"}, "Check the form: email"),
        ({"action": "address", "address-country": "XX"}, "Check the form:"),
        ({"action": "shipping", "shipping_method": "teleport"}, "does not deliver"),
        ({"action": "paid_offline", "method": "cash"}, "Check the form: reference"),
        ({"action": "cancel"}, "Tick the box"),
        ({"action": "explode"}, "Unknown action."),
    ],
)
def test_bad_input_on_the_builder_is_a_friendly_message(client, data, message):
    draft = ready_draft()
    client.force_login(staff_in(FINANCE))
    response = client.post(builder(draft), data)
    assert response.status_code == 302
    assert any(message in text for text in said(response)), said(response)
    assert Order.objects.get(pk=draft.pk).status == OrderStatus.DRAFT


def test_staff_ship_to_an_address_from_the_customers_book_but_not_someone_elses(client):
    member = UserFactory(email="booked@example.com")
    theirs = AddressFactory(user=member, city="Leeds", country="GB")
    stranger = AddressFactory(city="Paris", country="FR")
    draft = ready_draft(email=member.email)
    client.force_login(staff_in(CUSTOMER_SERVICE))
    assert b"Use this address" in client.get(builder(draft)).content

    other = client.post(builder(draft), {"action": "saved_address", "address_id": stranger.pk})
    assert said(other) == ["Unknown address."]
    assert Order.objects.get(pk=draft.pk).shipping_address["city"] == ADDRESS["city"]
    bad = client.post(builder(draft), {"action": "saved_address", "address_id": "x"})
    assert said(bad)[-1] == "Choose one of the customer's addresses."
    client.post(builder(draft), {"action": "saved_address", "address_id": theirs.pk})
    assert Order.objects.get(pk=draft.pk).shipping_address["city"] == "Leeds"


def test_sending_a_draft_short_of_stock_says_so(client):
    variant = make_variant(on_hand=1)
    draft = ready_draft(items=[(variant, 3)])
    client.force_login(staff_in(CUSTOMER_SERVICE))
    response = client.post(builder(draft), {"action": "send"})
    assert response.status_code == 302
    assert said(response)
    assert Order.objects.get(pk=draft.pk).status == OrderStatus.DRAFT


def test_a_draft_is_deleted_only_when_confirmed(client):
    draft = ready_draft()
    client.force_login(staff_in(CUSTOMER_SERVICE))
    client.post(builder(draft), {"action": "delete"})
    assert Order.objects.filter(pk=draft.pk).exists()
    response = client.post(builder(draft), {"action": "delete", "confirm": "1"})
    assert response.url == reverse("admin:orders_order_changelist")
    assert not Order.objects.filter(pk=draft.pk).exists()


def test_builder_forms_need_the_csrf_token():
    draft = ready_draft()
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff_in(FINANCE))
    response = client.post(builder(draft), {"action": "send"})
    assert response.status_code == 403
    assert Order.objects.get(pk=draft.pk).status == OrderStatus.DRAFT


def test_a_drafts_customer_cannot_see_it_in_the_shop(client):
    member = UserFactory(email="caller@example.com")
    draft = ready_draft(email=member.email)
    client.force_login(member)
    assert client.get(reverse("orders:detail", kwargs={"number": draft.number})).status_code == 404
    assert draft.number not in client.get(reverse("orders:list")).content.decode()
    api = client.get("/api/v1/orders/")
    assert draft.number not in api.content.decode()
    pay = reverse("orders:pay", kwargs={"number": draft.number})
    assert client.get(pay).status_code == 404


# -- the customer's pay page -----------------------------------------------------------------


@pytest.fixture
def sent():
    return send_payment_link(order=ready_draft(email="payer@example.com"), user=customer_service())


def test_the_link_opens_the_pay_page_with_lines_address_and_total(client, sent):
    page = client.get(payment_link_path(order=sent))
    assert page.status_code == 200
    html = page.content.decode()
    assert sent.lines.first().sku in html
    assert ADDRESS["line1"] in html
    assert 'data-testid="test-cards"' in html
    assert 'data-testid="pay-button"' in html


def test_without_the_token_or_with_another_orders_token_the_pay_page_is_a_404(client, sent):
    other = send_payment_link(order=ready_draft(), user=customer_service())
    pay = reverse("orders:pay", kwargs={"number": sent.number})
    assert client.get(pay).status_code == 404
    other_token = payment_link_path(order=other).split("?", 1)[1]
    assert client.get(f"{pay}?{other_token}").status_code == 404
    assert client.post(f"{pay}?{other_token}", {"payment_token": "tok_success"}).status_code == 404
    client.force_login(UserFactory())
    assert client.get(pay).status_code == 404
    assert MockGateway.charge_count() == 0


def test_the_signed_in_owner_needs_no_token(client):
    member = UserFactory(email="owner@example.com")
    order = send_payment_link(order=ready_draft(email=member.email), user=customer_service())
    client.force_login(member)
    assert client.get(reverse("orders:pay", kwargs={"number": order.number})).status_code == 200


def test_paying_with_a_test_card_pays_the_order_and_the_page_then_says_so(client, sent):
    url = payment_link_path(order=sent)
    response = client.post(url, {"payment_token": "tok_success"})
    assert response.status_code == 302
    sent.refresh_from_db()
    assert (sent.status, sent.payment_status) == (OrderStatus.RECEIVED, PaymentStatus.PAID)
    page = client.get(response.url)
    assert b'data-testid="pay-paid"' in page.content
    assert b'data-testid="pay-button"' not in page.content
    # The guest's order page now opens in this browser.
    detail = client.get(reverse("orders:detail", kwargs={"number": sent.number}))
    assert detail.status_code == 200

    again = client.post(url, {"payment_token": "tok_success"})
    assert again.status_code == 409
    assert MockGateway.charge_count() == 1


def test_a_declined_card_is_a_friendly_402_and_the_link_stays_open(client, sent):
    response = client.post(payment_link_path(order=sent), {"payment_token": "tok_declined"})
    assert response.status_code == 402
    assert "Nothing was charged" in response.content.decode()
    assert b'data-testid="pay-button"' in response.content
    assert Order.objects.get(pk=sent.pk).status == OrderStatus.PENDING_PAYMENT


def test_a_missing_payment_token_is_a_friendly_400(client, sent):
    response = client.post(payment_link_path(order=sent), {"payment_token": ""})
    assert response.status_code == 400
    assert "Choose how to pay." in response.content.decode()
    assert not Payment.objects.exists()


def test_an_expired_link_says_so_and_takes_no_payment(client, sent):
    Order.objects.filter(pk=sent.pk).update(
        payment_link_expires_at=sent.payment_link_expires_at - timedelta(days=30)
    )
    expired = Order.objects.get(pk=sent.pk)
    url = payment_link_path(order=expired)
    assert expired.payment_link_expires_at < timezone.now()
    page = client.get(url)
    assert page.status_code == 410
    assert "This payment link has expired" in page.content.decode()
    assert b'data-testid="pay-button"' not in page.content
    assert client.post(url, {"payment_token": "tok_success"}).status_code == 410
    assert MockGateway.charge_count() == 0


def test_a_cancelled_orders_pay_page_says_so(client, sent):
    url = payment_link_path(order=sent)
    cancel_order(order=sent, user=staff_in(FINANCE))
    page = client.get(url)
    assert page.status_code == 409
    assert b"This order was cancelled" in page.content
