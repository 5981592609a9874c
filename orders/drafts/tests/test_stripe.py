"""A payment link paid through Stripe (the local stand-in, signed webhooks): 3-D Secure
settled by the webhook, a failed confirmation and a declined card that leave the link open."""

import pytest
from rest_framework.test import APIClient

from orders.drafts.services import pay_order, payment_link_path, send_payment_link
from orders.drafts.tests.factories import customer_service, ready_draft
from orders.errors import PaymentDeclinedError
from orders.models import InvoiceKind, Order, OrderStatus, PaymentResult, PaymentStatus
from orders.tests.factories import fast_gateway  # noqa: F401
from orders.tests.stripe_server import signed_event

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_gateway", "stripe_api")]

THREE_DS = "pm_card_threeDSecure2Required"


def webhook(kind: str, obj: dict, event_id: str):
    payload, signature = signed_event(kind, obj, event_id)
    return APIClient().post(
        "/api/v1/payments/webhooks/stripe/",
        data=payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=signature,
    )


def intent_for(stripe_api, reference: str) -> dict:
    (intent,) = [
        i for i in stripe_api.intents.values() if i["metadata"]["order_number"] == reference
    ]
    return intent


def test_3d_secure_leaves_the_link_order_waiting_until_the_webhook_confirms_it(stripe_api):
    sent = send_payment_link(order=ready_draft(), user=customer_service())

    waiting = pay_order(order=sent, payment_token=THREE_DS).order

    intent = intent_for(stripe_api, sent.number)
    assert waiting.status == OrderStatus.PENDING_PAYMENT
    assert waiting.payment_action["client_secret"] == intent["client_secret"]
    assert (
        webhook("payment_intent.succeeded", stripe_api.succeed(intent["id"]), "evt_1").status_code
        == 200
    )
    order = Order.objects.get(pk=sent.pk)
    assert (order.status, order.payment_status) == (OrderStatus.RECEIVED, PaymentStatus.PAID)
    assert order.invoices.filter(kind=InvoiceKind.INVOICE).count() == 1


def test_a_failed_3d_secure_keeps_the_link_open_for_another_card(stripe_api):
    sent = send_payment_link(order=ready_draft(), user=customer_service())
    pay_order(order=sent, payment_token=THREE_DS)
    intent = intent_for(stripe_api, sent.number)
    assert (
        webhook("payment_intent.payment_failed", stripe_api.fail(intent["id"]), "evt_2").status_code
        == 200
    )
    order = Order.objects.get(pk=sent.pk)
    assert (order.status, order.payment_action) == (OrderStatus.PENDING_PAYMENT, {})

    paid = pay_order(order=order, payment_token="pm_card_visa").order

    assert paid.status == OrderStatus.RECEIVED
    assert intent_for(stripe_api, f"{sent.number}-P2")["status"] == "succeeded"


def test_a_declined_card_then_a_good_one_pays_the_link_once(stripe_api):
    sent = send_payment_link(order=ready_draft(), user=customer_service())
    with pytest.raises(PaymentDeclinedError):
        pay_order(order=sent, payment_token="pm_card_chargeDeclined")
    paid = pay_order(order=sent, payment_token="pm_card_visa").order
    assert paid.status == OrderStatus.RECEIVED
    results = list(paid.payments.order_by("id").values_list("result", flat=True))
    assert results == [PaymentResult.DECLINED, PaymentResult.SUCCEEDED]


def test_the_pay_page_collects_the_card_with_stripe_js_and_runs_3d_secure(client, stripe_api):
    sent = send_payment_link(order=ready_draft(), user=customer_service())
    url = payment_link_path(order=sent)
    page = client.get(url).content.decode()
    assert "data-stripe-checkout" in page
    assert "stripe-payments.js" in page

    response = client.post(url, {"payment_token": THREE_DS})

    waiting = client.get(response.url).content.decode()
    intent = intent_for(stripe_api, sent.number)
    assert "data-stripe-next-action" in waiting
    assert f'data-client-secret="{intent["client_secret"]}"' in waiting
    assert 'data-testid="pay-button"' not in waiting
