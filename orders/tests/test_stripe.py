"""The Stripe adapter against a local stand-in of Stripe's API (no internet)."""

from decimal import Decimal

import pytest

from orders.errors import PaymentDeclinedError
from orders.models import Order, Payment, PaymentResult, PaymentStatus
from orders.payments.gateways import (
    ChargeResult,
    PaymentDeclined,
    PaymentRequiresAction,
    TransientPaymentError,
)
from orders.payments.services import charge_with_retries, refund_with_retries
from orders.payments.stripe import StripeGateway, from_minor, to_minor
from orders.tests.factories import fast_gateway, place  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_gateway")]

STRIPE = "orders.payments.stripe.StripeGateway"


def charge(token="pm_card_visa", reference="SHOP-1", amount="12.34"):
    return StripeGateway().charge(
        amount=Decimal(amount), currency="GBP", token=token, reference=reference
    )


def test_minor_units_follow_the_currency():
    assert to_minor(amount=Decimal("12.34"), currency="GBP") == 1234
    assert to_minor(amount=Decimal("1200"), currency="JPY") == 1200
    assert to_minor(amount=Decimal("1.234"), currency="KWD") == 1234
    assert from_minor(amount=1234, currency="gbp") == Decimal("12.34")
    assert from_minor(amount=1200, currency="jpy") == Decimal("1200")


def test_a_charge_creates_and_confirms_one_payment_intent(stripe_api):
    result = charge()
    (intent,) = stripe_api.charges()
    assert result == ChargeResult(intent["id"], Decimal("12.34"), "GBP")
    assert (intent["amount"], intent["currency"], intent["metadata"]) == (
        1234,
        "gbp",
        {"order_number": "SHOP-1"},
    )
    assert intent["payment_method"] == "pm_card_visa"
    assert stripe_api.requests == [("POST", "/v1/payment_intents", "charge-SHOP-1")]


def test_a_declined_card_is_a_decline(stripe_api):
    with pytest.raises(PaymentDeclined, match="declined"):
        charge(token="pm_card_chargeDeclined")
    assert stripe_api.charges() == []


def test_an_unknown_payment_method_is_a_decline(stripe_api):
    with pytest.raises(PaymentDeclined):
        charge(token="tok_success")


@pytest.mark.parametrize("status", [500, 503, 429])
def test_server_errors_and_rate_limits_are_transient(stripe_api, status):
    stripe_api.fail_next = [status]
    with pytest.raises(TransientPaymentError):
        charge()


def test_an_unreachable_stripe_is_transient(stripe_api, settings):
    stripe_api.stop()
    with pytest.raises(TransientPaymentError):
        charge()


def test_three_d_secure_requires_the_customers_action(stripe_api):
    with pytest.raises(PaymentRequiresAction) as caught:
        charge(token="pm_card_threeDSecure2Required")
    (intent,) = stripe_api.intents.values()
    assert caught.value.intent_id == intent["id"]
    assert caught.value.client_secret == intent["client_secret"]
    assert caught.value.next_action["type"] == "use_stripe_sdk"


def test_a_retry_with_the_same_reference_never_charges_twice(stripe_api):
    first = charge(reference="SHOP-2")
    again = charge(reference="SHOP-2")
    assert first == again
    assert len(stripe_api.charges()) == 1
    assert [key for _, _, key in stripe_api.requests] == ["charge-SHOP-2", "charge-SHOP-2"]


def test_a_transient_500_then_success_through_charge_with_retries(stripe_api):
    stripe_api.fail_next = [500]
    result = charge_with_retries(
        amount=Decimal("30.00"), currency="GBP", token="pm_card_visa", reference="SHOP-3"
    )
    (intent,) = stripe_api.charges()
    assert result.charge_id == intent["id"]
    rows = Payment.objects.filter(reference="SHOP-3").order_by("attempt")
    assert [(r.result, r.gateway, r.attempt) for r in rows] == [
        (PaymentResult.FAILED, "stripe", 1),
        (PaymentResult.SUCCEEDED, "stripe", 2),
    ]
    assert rows[1].gateway_transaction_id == intent["id"]


def test_a_decline_through_charge_with_retries_is_not_retried(stripe_api):
    with pytest.raises(PaymentDeclinedError):
        charge_with_retries(
            amount=Decimal("30.00"),
            currency="GBP",
            token="pm_card_chargeDeclined",
            reference="SHOP-4",
        )
    assert len(stripe_api.requests) == 1
    assert Payment.objects.get(reference="SHOP-4").result == PaymentResult.DECLINED


def test_requires_action_through_charge_with_retries_records_a_pending_row(stripe_api):
    with pytest.raises(PaymentRequiresAction) as caught:
        charge_with_retries(
            amount=Decimal("30.00"),
            currency="GBP",
            token="pm_card_threeDSecure2Required",
            reference="SHOP-5",
        )
    row = Payment.objects.get(reference="SHOP-5")
    assert (row.result, row.gateway_transaction_id) == (
        PaymentResult.PENDING,
        caught.value.intent_id,
    )


def test_a_refund_goes_through_stripe_once_per_reference(stripe_api):
    paid = charge(reference="SHOP-6", amount="50.00")
    refund = refund_with_retries(
        amount=Decimal("20.00"), currency="GBP", charge_id=paid.charge_id, reference="SHOP-6-r1"
    )
    again = StripeGateway().refund(
        amount=Decimal("20.00"), currency="GBP", charge_id=paid.charge_id, reference="SHOP-6-r1"
    )
    assert again == refund
    (stored,) = stripe_api.refunds.values()
    assert (stored["id"], stored["amount"], stored["payment_intent"]) == (
        refund.refund_id,
        2000,
        paid.charge_id,
    )
    assert refund.amount == Decimal("20.00")
    assert ("POST", "/v1/refunds", "refund-SHOP-6-r1") in stripe_api.requests


def test_lookup_finds_the_successful_charge_by_reference(stripe_api):
    assert StripeGateway().lookup(reference="SHOP-7") is None
    with pytest.raises(PaymentRequiresAction) as caught:
        charge(token="pm_card_threeDSecure2Required", reference="SHOP-7")
    assert StripeGateway().lookup(reference="SHOP-7") is None  # waits for the customer
    stripe_api.succeed(caught.value.intent_id)
    found = StripeGateway().lookup(reference="SHOP-7")
    assert found == ChargeResult(caught.value.intent_id, Decimal("12.34"), "GBP")
    paid = charge(reference="SHOP-8")
    assert StripeGateway().lookup(reference="SHOP-8") == paid


def test_checkout_with_the_stripe_gateway_places_a_paid_order(stripe_api):
    order = place(token="pm_card_visa")
    (intent,) = stripe_api.charges()
    assert order.payment_status == PaymentStatus.PAID
    assert intent["metadata"] == {"order_number": order.number}
    assert intent["amount"] == to_minor(amount=order.total, currency=order.currency)
    payment = Payment.objects.get(order=order)
    assert (payment.gateway, payment.gateway_transaction_id) == ("stripe", intent["id"])


def test_checkout_with_a_declined_stripe_card_places_nothing(stripe_api):
    with pytest.raises(PaymentDeclinedError):
        place(token="pm_card_chargeDeclined")
    assert not Order.objects.exists()
