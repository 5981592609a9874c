"""Charges and refunds with retries: every attempt is a ``Payment`` row the error carries."""

from decimal import Decimal

import pytest
from django.db import transaction

from orders.errors import PaymentDeclinedError, PaymentError, PaymentUnavailableError
from orders.models import Payment, PaymentKind, PaymentResult
from orders.payments.services import charge_with_retries, persist_attempts
from orders.tests.factories import fast_gateway  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_gateway")]


def charge(token: str, reference: str = "SO-TEST-0001") -> None:
    charge_with_retries(amount=Decimal("10.00"), currency="EUR", token=token, reference=reference)


def test_a_declined_charge_raises_with_its_one_attempt_kept_out_of_the_api_body():
    with pytest.raises(PaymentDeclinedError) as raised:
        charge("tok_declined")
    [attempt] = raised.value.attempts
    assert (attempt.kind, attempt.result, attempt.attempt) == (
        PaymentKind.CHARGE,
        PaymentResult.DECLINED,
        1,
    )
    assert raised.value.as_dict() == {
        "code": "payment_declined",
        "detail": "The payment was declined.",
    }


def test_an_unavailable_gateway_raises_after_three_attempts_carrying_all_of_them():
    with pytest.raises(PaymentUnavailableError) as raised:
        charge("tok_unavailable")
    assert [a.attempt for a in raised.value.attempts] == [1, 2, 3]
    assert {a.result for a in raised.value.attempts} == {PaymentResult.FAILED}


def test_attempts_discarded_by_a_rollback_are_written_again_from_the_error():
    with pytest.raises(PaymentUnavailableError) as raised, transaction.atomic():
        charge("tok_unavailable")
    assert not Payment.objects.exists()  # rolled back with the caller's transaction

    persist_attempts(attempts=raised.value.attempts)

    assert list(Payment.objects.order_by("attempt").values_list("attempt", "result")) == [
        (1, PaymentResult.FAILED),
        (2, PaymentResult.FAILED),
        (3, PaymentResult.FAILED),
    ]


def test_a_payment_error_raised_without_attempts_has_none():
    assert PaymentDeclinedError().attempts == []
    assert isinstance(PaymentUnavailableError(), PaymentError)
