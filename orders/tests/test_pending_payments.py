"""Payments confirmed asynchronously (3-D Secure): the pending_payment order, the webhooks that
settle it and the timeout, against the local Stripe stand-in with signed webhooks."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.tests.factories import StaffUserFactory, UserFactory
from cart.models import Cart
from catalog.tests.factories import make_variant
from inventory.models import StockItem
from notifications.models import Notification, NotificationKind
from orders.errors import InvalidTransition
from orders.lifecycle import cancel_order, transition_order
from orders.models import (
    InvoiceKind,
    Order,
    OrderEventType,
    OrderStatus,
    Payment,
    PaymentEvent,
    PaymentKind,
    PaymentResult,
    PaymentStatus,
)
from orders.payments.confirmation import cancel_expired_payments
from orders.tests.factories import ADDRESS, fast_gateway, place  # noqa: F401
from orders.tests.stripe_server import signed_event

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_gateway", "stripe_api")]

THREE_DS = "pm_card_threeDSecure2Required"
ORDERS = "/api/v1/orders/"
WEBHOOK = "/api/v1/payments/webhooks/stripe/"


def webhook(kind: str, obj: dict, event_id: str):
    payload, signature = signed_event(kind, obj, event_id)
    return APIClient().post(
        WEBHOOK, data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature
    )


def pending_order(**kwargs) -> Order:
    order = place(token=THREE_DS, **kwargs)
    assert order.status == OrderStatus.PENDING_PAYMENT
    return order


def intent_of(stripe_api, order: Order) -> dict:
    (intent,) = [
        i for i in stripe_api.intents.values() if i["metadata"]["order_number"] == order.number
    ]
    return intent


def stock() -> StockItem:
    return StockItem.objects.get()


# -- the pending order ------------------------------------------------------------------------
def test_a_card_needing_3d_secure_leaves_the_order_pending_with_its_stock_allocated(stripe_api):
    order = pending_order()
    intent = intent_of(stripe_api, order)
    assert order.payment_status == PaymentStatus.PENDING
    assert order.payment_action == {
        "client_secret": intent["client_secret"],
        "next_action": intent["next_action"],
    }
    assert stock().allocated == 2
    assert Cart.objects.get().status == "ordered"
    assert not order.invoices.exists()
    (payment,) = order.payments.all()
    assert (payment.result, payment.gateway_transaction_id) == (PaymentResult.PENDING, intent["id"])
    (placed,) = order.events.all()
    assert (placed.type, placed.to_status) == (OrderEventType.PLACED, OrderStatus.PENDING_PAYMENT)


def test_no_confirmation_email_is_written_while_the_payment_is_pending():
    pending_order()
    assert not Notification.objects.filter(kind=NotificationKind.ORDER_CONFIRMATION).exists()


def test_the_api_answers_202_with_what_the_client_needs_and_replays_it(stripe_api):
    variant = make_variant(on_hand=5, price=Decimal("30.00"))
    user = UserFactory()
    client = APIClient()
    client.force_authenticate(user)
    assert (
        client.post("/api/v1/cart/items/", {"sku": variant.sku, "quantity": 1}).status_code == 201
    )
    body = {"shipping_address": ADDRESS, "payment_token": THREE_DS}
    first = client.post(ORDERS, body, format="json", HTTP_IDEMPOTENCY_KEY="k-3ds")
    assert first.status_code == 202, first.json()
    data = first.json()
    assert (data["status"], data["payment_status"]) == ("pending_payment", "pending")
    (intent,) = stripe_api.intents.values()
    assert data["payment"] == {
        "client_secret": intent["client_secret"],
        "next_action": intent["next_action"],
    }
    again = client.post(ORDERS, body, format="json", HTTP_IDEMPOTENCY_KEY="k-3ds")
    assert again.status_code == 202
    assert again.json() == data
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(stripe_api.intents) == 1
    listed = client.get(f"{ORDERS}?status=pending_payment").json()
    assert [o["number"] for o in listed["results"]] == [data["number"]]


def test_a_guest_gets_202_with_the_order_token_and_later_the_email_with_its_link(
    stripe_api, django_capture_on_commit_callbacks
):
    variant = make_variant(on_hand=5, price=Decimal("30.00"))
    client = APIClient()
    cart = client.post("/api/v1/cart/items/", {"sku": variant.sku, "quantity": 1}).json()
    body = {"shipping_address": ADDRESS, "payment_token": THREE_DS, "email": "g@example.com"}
    response = client.post(
        ORDERS, body, format="json", HTTP_X_CART_TOKEN=cart["token"], HTTP_IDEMPOTENCY_KEY="g"
    )
    assert response.status_code == 202, response.json()
    data = response.json()
    assert data["order_token"]
    assert data["payment"]["client_secret"]
    order = Order.objects.get(number=data["number"])
    finished = stripe_api.succeed(intent_of(stripe_api, order)["id"])
    with django_capture_on_commit_callbacks(execute=True):
        assert webhook("payment_intent.succeeded", finished, "evt_g").status_code == 200
    [message] = [m for m in mail.outbox if data["number"] in m.subject]
    assert message.to == ["g@example.com"]
    link = re.search(r"https?://[^/\s]+(/orders/[^\s\"]+)", message.body).group(1)
    assert link == f"/orders/{data['number']}/?token={data['order_token']}"
    order.refresh_from_db()
    assert (order.pending_order_token, order.payment_action) == ("", {})


def test_staff_cannot_mark_a_pending_order_received_by_hand():
    order = pending_order()
    with pytest.raises(InvalidTransition):
        transition_order(order=order, to_status=OrderStatus.RECEIVED, user=StaffUserFactory())
    with pytest.raises(InvalidTransition):
        transition_order(order=order, to_status=OrderStatus.PROCESSING, user=StaffUserFactory())


def test_the_customer_may_cancel_a_pending_order_which_cancels_the_intent(stripe_api):
    user = UserFactory()
    order = pending_order(user=user)
    order = cancel_order(order=order, user=user)
    assert (order.status, order.payment_status) == (OrderStatus.CANCELLED, PaymentStatus.UNPAID)
    assert stock().allocated == 0
    assert intent_of(stripe_api, order)["status"] == "canceled"
    assert not order.payments.filter(kind=PaymentKind.REFUND).exists()


# -- webhooks settle it -----------------------------------------------------------------------
def test_payment_succeeded_confirms_the_order_once(stripe_api, django_capture_on_commit_callbacks):
    order = pending_order()
    finished = stripe_api.succeed(intent_of(stripe_api, order)["id"])
    with django_capture_on_commit_callbacks(execute=True):
        first = webhook("payment_intent.succeeded", finished, "evt_ok")
    assert first.json() == {"received": True, "duplicate": False}
    again = webhook("payment_intent.succeeded", finished, "evt_ok")
    assert again.json() == {"received": True, "duplicate": True}
    # The same news under another event id (Stripe may send both) changes nothing either.
    assert webhook("payment_intent.succeeded", finished, "evt_ok2").status_code == 200
    order.refresh_from_db()
    assert (order.status, order.payment_status) == (OrderStatus.RECEIVED, PaymentStatus.PAID)
    assert order.invoices.filter(kind=InvoiceKind.INVOICE).count() == 1
    assert stock().allocated == 2
    confirmations = Notification.objects.filter(kind=NotificationKind.ORDER_CONFIRMATION)
    assert confirmations.count() == 1
    assert len([m for m in mail.outbox if order.number in m.subject]) == 1
    charges = order.payments.filter(kind=PaymentKind.CHARGE, result=PaymentResult.SUCCEEDED)
    assert [p.gateway_transaction_id for p in charges] == [finished["id"]]
    assert (
        order.events.filter(type=OrderEventType.STATUS_CHANGED, to_status="received").count() == 1
    )
    assert PaymentEvent.objects.get(event_id="evt_ok").outcome.startswith("payment confirmed")


def test_a_confirmed_order_can_be_cancelled_and_refunded_through_stripe(stripe_api):
    user = UserFactory()
    order = pending_order(user=user)
    finished = stripe_api.succeed(intent_of(stripe_api, order)["id"])
    webhook("payment_intent.succeeded", finished, "evt_ok")
    order = cancel_order(order=Order.objects.get(pk=order.pk), user=user)
    assert order.payment_status == PaymentStatus.REFUNDED
    (refund,) = stripe_api.refunds.values()
    assert refund["payment_intent"] == finished["id"]


def test_payment_failed_cancels_the_order_and_releases_the_stock(
    stripe_api, django_capture_on_commit_callbacks
):
    order = pending_order()
    failed = stripe_api.fail(intent_of(stripe_api, order)["id"])
    with django_capture_on_commit_callbacks(execute=True):
        assert webhook("payment_intent.payment_failed", failed, "evt_no").status_code == 200
    order.refresh_from_db()
    assert (order.status, order.payment_status) == (OrderStatus.CANCELLED, PaymentStatus.UNPAID)
    assert stock().allocated == 0
    assert order.payments.filter(result=PaymentResult.DECLINED).exists()
    # Never confirmed, so neither a confirmation nor a cancellation email.
    assert not [m for m in mail.outbox if order.number in m.subject]


def test_a_payment_succeeding_after_the_order_was_cancelled_is_refunded(stripe_api):
    order = pending_order()
    intent_id = intent_of(stripe_api, order)["id"]
    failed = stripe_api.fail(intent_id)
    webhook("payment_intent.payment_failed", failed, "evt_no")
    finished = stripe_api.succeed(intent_id)  # e.g. retried with another card in Stripe.js
    assert webhook("payment_intent.succeeded", finished, "evt_late").status_code == 200
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    (refund,) = stripe_api.refunds.values()
    assert (refund["payment_intent"], refund["amount"]) == (intent_id, 4500)
    assert order.payments.filter(kind=PaymentKind.REFUND, result=PaymentResult.SUCCEEDED).exists()
    # Another event with the same news refunds nothing more.
    assert webhook("payment_intent.succeeded", finished, "evt_late2").status_code == 200
    assert len(stripe_api.refunds) == 1
    assert order.payments.filter(kind=PaymentKind.REFUND).count() == 1


def test_a_success_webhook_arriving_before_the_order_is_written_confirms_it(
    stripe_api, monkeypatch
):
    """Stripe's event overtakes our own answer: stored without an order, applied on writing."""
    from orders.checkout import services

    real_finalize = services._finalize

    def finalize_after_the_webhook(**kwargs):
        pending = kwargs["pending"]
        finished = stripe_api.succeed(pending.intent_id)
        assert webhook("payment_intent.succeeded", finished, "evt_early").status_code == 200
        return real_finalize(**kwargs)

    monkeypatch.setattr(services, "_finalize", finalize_after_the_webhook)
    order = place(token=THREE_DS)
    assert (order.status, order.payment_status) == (OrderStatus.RECEIVED, PaymentStatus.PAID)
    assert PaymentEvent.objects.get(event_id="evt_early").order is None


def test_a_refund_made_in_the_stripe_dashboard_is_recorded_once():
    order = place(token="pm_card_visa")
    intent_id = order.payments.get().gateway_transaction_id
    charge = {
        "id": "ch_1",
        "object": "charge",
        "amount": 4500,
        "amount_refunded": 1000,
        "currency": "usd",
        "payment_intent": intent_id,
        "metadata": {},
        "refunds": {"object": "list", "data": [{"id": "re_dash1", "amount": 1000}]},
    }
    webhook("charge.refunded", charge, "evt_r1")
    webhook("charge.refunded", charge, "evt_r1")
    order.refresh_from_db()
    assert (order.refunded_total, order.payment_status) == (
        Decimal("10.00"),
        PaymentStatus.PARTIALLY_REFUNDED,
    )
    charge["amount_refunded"] = 4500
    charge["refunds"]["data"].insert(0, {"id": "re_dash2", "amount": 3500})
    webhook("charge.refunded", charge, "evt_r2")
    order.refresh_from_db()
    assert (order.refunded_total, order.payment_status) == (
        Decimal("45.00"),
        PaymentStatus.REFUNDED,
    )
    refunds = order.payments.filter(kind=PaymentKind.REFUND).order_by("id")
    assert [(r.amount, r.gateway_transaction_id) for r in refunds] == [
        (Decimal("10.00"), "re_dash1"),
        (Decimal("35.00"), "re_dash2"),
    ]
    assert order.invoices.filter(kind=InvoiceKind.CREDIT_NOTE).count() == 2


def test_our_own_refund_is_not_counted_again_when_its_webhook_arrives(stripe_api):
    user = UserFactory()
    order = cancel_order(order=place(user=user, token="pm_card_visa"), user=user)
    intent_id = order.payments.filter(kind=PaymentKind.CHARGE).get().gateway_transaction_id
    charge = {
        "id": "ch_1",
        "object": "charge",
        "amount": 4500,
        "amount_refunded": 4500,
        "currency": "usd",
        "payment_intent": intent_id,
        "metadata": {},
    }
    webhook("charge.refunded", charge, "evt_own")
    order.refresh_from_db()
    assert order.refunded_total == Decimal("45.00")
    assert order.payments.filter(kind=PaymentKind.REFUND).count() == 1


def test_a_dispute_adds_an_order_event_and_emails_staff(
    settings, django_capture_on_commit_callbacks
):
    settings.SHOP_STAFF_EMAILS = ["finance@example.com"]
    order = place(token="pm_card_visa")
    dispute = {
        "id": "dp_1",
        "object": "dispute",
        "amount": 4500,
        "currency": "usd",
        "charge": "ch_1",
        "payment_intent": order.payments.get().gateway_transaction_id,
        "reason": "fraudulent",
        "status": "needs_response",
    }
    with django_capture_on_commit_callbacks(execute=True):
        webhook("charge.dispute.created", dispute, "evt_d")
        webhook("charge.dispute.created", dispute, "evt_d")
    event = order.events.get(type=OrderEventType.DISPUTE_OPENED)
    assert "fraudulent" in event.note
    [message] = [m for m in mail.outbox if "disputed" in m.subject.lower()]
    assert message.to == ["finance@example.com"]
    assert order.number in message.subject
    assert "45.00" in message.body


# -- the timeout ------------------------------------------------------------------------------
def age(order: Order, seconds: int) -> None:
    Order.objects.filter(pk=order.pk).update(created_at=timezone.now() - timedelta(seconds=seconds))


def test_an_order_pending_past_the_timeout_is_cancelled_and_its_stock_released(
    stripe_api, settings
):
    settings.SHOP_PAYMENT_TIMEOUT = 600
    order = pending_order()
    young = pending_order(items=[(make_variant(on_hand=3, price=Decimal("5.00")), 1)])
    age(order, 601)
    age(young, 599)
    assert cancel_expired_payments() == [f"{order.number} cancelled"]
    assert cancel_expired_payments() == []
    order.refresh_from_db()
    assert (order.status, order.payment_status) == (OrderStatus.CANCELLED, PaymentStatus.UNPAID)
    assert StockItem.objects.get(variant_id=order.lines.get().variant_id).allocated == 0
    assert StockItem.objects.get(variant_id=young.lines.get().variant_id).allocated == 1
    assert intent_of(stripe_api, order)["status"] == "canceled"
    assert Order.objects.get(pk=young.pk).status == OrderStatus.PENDING_PAYMENT


def test_the_timeout_confirms_an_order_the_provider_was_paid_for_without_a_webhook(stripe_api):
    order = pending_order()
    stripe_api.succeed(intent_of(stripe_api, order)["id"])
    age(order, 3600)
    assert cancel_expired_payments() == [f"{order.number} confirmed"]
    order.refresh_from_db()
    assert (order.status, order.payment_status) == (OrderStatus.RECEIVED, PaymentStatus.PAID)


def test_the_timeout_leaves_an_order_for_later_when_stripe_is_down(stripe_api):
    order = pending_order()
    age(order, 3600)
    stripe_api.fail_next = [500]
    assert cancel_expired_payments() == []
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PENDING_PAYMENT
    assert cancel_expired_payments() == [f"{order.number} cancelled"]


def test_the_management_command_cancels_expired_orders(stripe_api):
    from io import StringIO

    from django.core.management import call_command

    order = pending_order()
    age(order, 3600)
    out = StringIO()
    call_command("cancel_expired_payments", stdout=out)
    assert f"Order {order.number} cancelled." in out.getvalue()
    assert Order.objects.get(pk=order.pk).status == OrderStatus.CANCELLED


def test_payments_of_an_order_are_one_pending_then_one_succeeded(stripe_api):
    order = pending_order()
    finished = stripe_api.succeed(intent_of(stripe_api, order)["id"])
    webhook("payment_intent.succeeded", finished, "evt_ok")
    rows = Payment.objects.filter(reference=order.number).order_by("id")
    assert [(r.result, r.attempt) for r in rows] == [
        (PaymentResult.PENDING, 1),
        (PaymentResult.SUCCEEDED, 2),
    ]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_event_delivered_four_times_at_once_confirms_the_order_once(stripe_api):
    import threading

    from django.db import connection
    from django.test import Client

    order = pending_order()
    finished = stripe_api.succeed(intent_of(stripe_api, order)["id"])
    payload, signature = signed_event("payment_intent.succeeded", finished, "evt_race")
    barrier = threading.Barrier(4)
    duplicates: list[bool] = []

    def deliver() -> None:
        try:
            barrier.wait(5)
            response = Client().post(
                WEBHOOK,
                data=payload,
                content_type="application/json",
                HTTP_STRIPE_SIGNATURE=signature,
            )
            duplicates.append(response.json()["duplicate"])
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(duplicates) == [False, True, True, True]
    order.refresh_from_db()
    assert (order.status, order.payment_status) == (OrderStatus.RECEIVED, PaymentStatus.PAID)
    assert order.invoices.filter(kind=InvoiceKind.INVOICE).count() == 1
    assert Notification.objects.filter(kind=NotificationKind.ORDER_CONFIRMATION).count() == 1
    assert PaymentEvent.objects.filter(event_id="evt_race").count() == 1
