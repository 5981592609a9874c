"""The Stripe webhook endpoint: signatures checked with the library's scheme, events once."""

import json
import time
from decimal import Decimal

import pytest
import stripe

from orders.models import PaymentEvent
from orders.payments.gateways import PaymentRequiresAction
from orders.payments.stripe import StripeGateway
from orders.tests.factories import fast_gateway, place  # noqa: F401
from orders.tests.stripe_server import StripeStandIn

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_gateway")]

URL = "/api/v1/payments/webhooks/stripe/"
SECRET = "whsec_test_secret"


@pytest.fixture(autouse=True)
def webhook_secret(settings):
    settings.STRIPE_WEBHOOK_SECRET = SECRET
    settings.STRIPE_SECRET_KEY = "sk_test_shop"


def event(kind: str, obj: dict, event_id: str = "evt_1") -> str:
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "api_version": "2024-06-20",
            "created": int(time.time()),
            "livemode": False,
            "type": kind,
            "data": {"object": obj},
        }
    )


def intent(intent_id: str, number: str, status: str = "succeeded") -> dict:
    return {
        "id": intent_id,
        "object": "payment_intent",
        "amount": 4500,
        "currency": "gbp",
        "status": status,
        "metadata": {"order_number": number},
    }


def post(client, payload: str, secret: str = SECRET, signature: str | None = None):
    header = signature or stripe.WebhookSignature.generate_signature_header(payload, secret)
    return client.post(
        URL, data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
    )


def test_a_signed_event_is_handled_once(api_client):
    order = place()
    payment = order.payments.get()
    payload = event(
        "payment_intent.succeeded", intent(payment.gateway_transaction_id, order.number)
    )
    first = post(api_client, payload)
    assert (first.status_code, first.json()) == (200, {"received": True, "duplicate": False})
    again = post(api_client, payload)
    assert (again.status_code, again.json()) == (200, {"received": True, "duplicate": True})
    row = PaymentEvent.objects.get()
    assert (row.provider, row.event_id, row.type, row.order) == (
        "stripe",
        "evt_1",
        "payment_intent.succeeded",
        order,
    )
    assert (str(row.amount), row.currency) == ("45.00", "GBP")
    assert row.outcome == f"payment succeeded: order {order.number} (paid)"


def test_a_failed_payment_without_an_order_is_recorded(api_client):
    payload = event(
        "payment_intent.payment_failed", intent("pi_x", "SHOP-9", "requires_payment_method")
    )
    assert post(api_client, payload).status_code == 200
    row = PaymentEvent.objects.get()
    assert (row.order, row.reference, row.outcome) == (None, "SHOP-9", "payment failed: no order")


def test_charge_events_find_the_order_by_its_payment(api_client):
    order = place()
    charge_id = order.payments.get().gateway_transaction_id
    charge = {
        "id": "ch_1",
        "object": "charge",
        "amount": 4500,
        "amount_refunded": 1000,
        "currency": "gbp",
        "payment_intent": charge_id,
        "metadata": {},
    }
    dispute = {
        "id": "dp_1",
        "object": "dispute",
        "amount": 4500,
        "currency": "gbp",
        "charge": "ch_1",
        "payment_intent": charge_id,
        "reason": "fraudulent",
        "status": "needs_response",
    }
    assert post(api_client, event("charge.refunded", charge, "evt_r")).status_code == 200
    assert post(api_client, event("charge.dispute.created", dispute, "evt_d")).status_code == 200
    refunded, disputed = PaymentEvent.objects.order_by("id")
    assert (refunded.order, str(refunded.amount)) == (order, "10.00")
    assert (disputed.order, disputed.outcome) == (order, f"dispute opened: order {order.number}")


def test_other_events_are_stored_and_ignored(api_client):
    payload = event("customer.created", {"id": "cus_1", "object": "customer"})
    assert post(api_client, payload).status_code == 200
    assert PaymentEvent.objects.get().outcome == "ignored"


@pytest.mark.parametrize(
    "signature",
    ["", "t=1,v1=deadbeef", "garbage", None],
    ids=["missing", "wrong", "malformed", "other-secret"],
)
def test_a_bad_signature_is_refused(api_client, signature):
    payload = event("payment_intent.succeeded", intent("pi_1", "SHOP-1"))
    if signature is None:
        response = post(api_client, payload, secret="whsec_other")
    elif signature == "":
        response = api_client.post(URL, data=payload, content_type="application/json")
    else:
        response = post(api_client, payload, signature=signature)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_signature"
    assert not PaymentEvent.objects.exists()


def test_a_stale_signature_is_refused(api_client):
    payload = event("payment_intent.succeeded", intent("pi_1", "SHOP-1"))
    old = stripe.WebhookSignature.generate_signature_header(
        payload, SECRET, timestamp=int(time.time()) - 3600
    )
    response = post(api_client, payload, signature=old)
    assert (response.status_code, response.json()["code"]) == (400, "invalid_signature")


def test_the_webhook_is_not_throttled_and_needs_no_csrf(client, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon_write": "1/min", "user_write": "1/min"},
    }
    client.enforce_csrf_checks = True
    for number in range(3):
        payload = event("customer.created", {"id": "cus_1"}, f"evt_{number}")
        assert post(client, payload).status_code == 200


def test_a_real_stripe_intent_then_its_webhook(api_client, settings):
    """The stand-in's 3-D Secure intent finishes later; its signed webhook names it."""
    server = StripeStandIn().start()
    try:
        settings.STRIPE_API_BASE = server.url
        with pytest.raises(PaymentRequiresAction) as caught:
            StripeGateway().charge(
                amount=Decimal("45.00"),
                currency="GBP",
                token="pm_card_threeDSecure2Required",
                reference="SHOP-3DS",
            )
        finished = server.succeed(caught.value.intent_id)
    finally:
        server.stop()
    assert (
        post(api_client, event("payment_intent.succeeded", finished, "evt_3ds")).status_code == 200
    )
    row = PaymentEvent.objects.get()
    assert (row.reference, row.gateway_transaction_id) == ("SHOP-3DS", caught.value.intent_id)
