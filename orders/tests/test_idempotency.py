from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone

from accounts.tests.factories import UserFactory
from cart.models import Cart
from catalog.tests.factories import make_variant
from inventory.models import StockItem
from orders.checkout import idempotency
from orders.checkout import services as checkout
from orders.checkout.idempotency import lease, payload_hash, run_idempotent
from orders.errors import (
    IdempotencyKeyInUse,
    IdempotencyKeyMismatch,
    IdempotencyKeyRequired,
    PaymentDeclinedError,
    PaymentUnavailableError,
    PriceChanged,
)
from orders.models import IdempotencyKey, IdempotencyState, Order, Payment
from orders.tests.factories import cart_with, fast_gateway, place  # noqa: F401

pytestmark = pytest.mark.django_db


def replay_number(order):
    return 201, {"number": order.number, "replayed_from_order": True}


def run(user, action, key="k1", payload=None):
    return run_idempotent(
        user=user,
        key=key,
        scope="test",
        payload=payload or {"a": 1},
        action=action,
        replay=replay_number,
    )


def placed(number):
    return 201, {"number": number}


def dead_request(user, *, order_number: str, key="k1", payload=None, lease_left: int = -1):
    """The key row a request leaves when its process is killed mid-checkout."""
    return IdempotencyKey.objects.create(
        user=user,
        key=key,
        scope="test",
        request_hash=payload_hash(payload=payload or {"a": 1}),
        state=IdempotencyState.IN_PROGRESS,
        order_number=order_number,
        lease_expires_at=timezone.now() + timedelta(seconds=lease_left),
    )


def test_first_run_stores_the_result_and_the_second_replays_it():
    user = UserFactory()
    calls = []

    def action(number):
        calls.append(number)
        return 201, {"number": "SO-1"}

    first = run(user, action)
    second = run(user, action, payload={"a": 1})
    assert (first.status, first.body, first.replayed) == (201, {"number": "SO-1"}, False)
    assert (second.status, second.body, second.replayed) == (201, {"number": "SO-1"}, True)
    assert len(calls) == 1
    assert IdempotencyKey.objects.get().state == IdempotencyState.COMPLETED


def test_the_order_number_is_recorded_on_the_key_before_the_checkout_runs():
    user = UserFactory()
    seen = []

    def action(number):
        record = IdempotencyKey.objects.get()
        seen.append((record.state, record.order_number, number))
        assert record.lease_expires_at > timezone.now()
        return placed(number)

    result = run(user, action)
    [(state, recorded, given)] = seen
    assert state == IdempotencyState.IN_PROGRESS
    assert recorded == given == result.body["number"]
    assert recorded.startswith("SO-")


def test_same_key_with_different_payload_is_a_mismatch():
    user = UserFactory()
    run(user, placed)
    with pytest.raises(IdempotencyKeyMismatch):
        run(user, placed, payload={"a": 2})


def test_payload_key_order_does_not_matter():
    user = UserFactory()
    run(user, placed, payload={"a": 1, "b": 2})
    assert run(user, placed, payload={"b": 2, "a": 1}).replayed


def test_keys_are_per_user():
    run(UserFactory(), lambda number: (201, {"u": 1}))
    assert not run(UserFactory(), lambda number: (201, {"u": 2})).replayed


def test_a_running_key_is_in_use_while_its_lease_lasts():
    user = UserFactory()
    dead_request(user, order_number="SO-AAAA-AAAA", lease_left=60)
    with pytest.raises(IdempotencyKeyInUse):
        run(user, placed)


def test_the_lease_defaults_to_two_minutes():
    assert lease() == timedelta(minutes=2)


@pytest.mark.parametrize(
    "error",
    [
        PaymentDeclinedError(),
        PriceChanged(),
        ValidationError({"shipping_address.city": ["Required."]}),
    ],
)
def test_failures_are_not_kept_against_the_key_and_a_retry_runs_again(error):
    user = UserFactory()

    def failing(number):
        raise error

    first = run(user, failing)
    assert first.status in {400, 402, 409}
    assert not first.replayed
    assert not IdempotencyKey.objects.exists()
    retry = run(user, placed)
    assert (retry.status, retry.replayed) == (201, False)


def test_validation_errors_answer_400_with_the_fields():
    def invalid(number):
        raise ValidationError({"shipping_address.city": ["Required."]})

    result = run(UserFactory(), invalid)
    assert result.status == 400
    assert result.body["errors"] == {"shipping_address.city": ["Required."]}


def test_server_errors_free_the_key_for_a_retry():
    user = UserFactory()

    def unavailable(number):
        raise PaymentUnavailableError()

    with pytest.raises(PaymentUnavailableError):
        run(user, unavailable)
    assert not IdempotencyKey.objects.exists()
    assert not run(user, lambda number: (201, {"ok": True})).replayed


def test_an_unexpected_error_ends_the_lease_so_the_next_retry_finds_out():
    user = UserFactory()

    def crash(number):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        run(user, crash)
    record = IdempotencyKey.objects.get()
    assert record.state == IdempotencyState.IN_PROGRESS
    assert record.lease_expires_at <= timezone.now()
    retry = run(user, placed)
    assert (retry.status, retry.replayed) == (201, False)
    assert retry.body["number"] != record.order_number


@pytest.mark.usefixtures("fast_gateway")
def test_a_dead_request_whose_order_was_placed_is_replayed_after_its_lease():
    user = UserFactory()
    order = place(user=user, order_number="SO-DEAD-0001")
    dead_request(user, order_number=order.number)
    calls = []

    result = run(user, lambda number: calls.append(number) or placed(number))

    assert (result.status, result.replayed) == (201, True)
    assert result.body == {"number": "SO-DEAD-0001", "replayed_from_order": True}
    assert calls == []
    record = IdempotencyKey.objects.get()
    assert (record.state, record.order_number) == (IdempotencyState.COMPLETED, order.number)
    assert run(user, placed).body == result.body


@pytest.mark.usefixtures("fast_gateway")
def test_a_dead_request_without_an_order_is_recovered_and_the_checkout_runs_again():
    user = UserFactory()
    variant = make_variant(on_hand=5, price=Decimal("10.00"))
    cart = cart_with(user, (variant, 2))
    # The dead request got as far as allocating the stock and charging the card.
    plan = checkout._prepare(user=user, cart=cart, number="SO-DEAD-0002")
    checkout.charge_with_retries(
        amount=plan.total, currency="USD", token="tok_success", reference=plan.number
    )
    dead_request(user, order_number=plan.number)

    def action(number):
        order = checkout.place_order(
            user=user,
            cart=Cart.objects.get(pk=cart.pk),
            shipping_address={
                "full_name": "Ada",
                "line1": "1 Way",
                "city": "London",
                "postal_code": "N1",
                "country": "GB",
            },
            payment_token="tok_success",
            order_number=number,
        )
        return placed(order.number)

    result = run(user, action)

    assert (result.status, result.replayed) == (201, False)
    assert result.body["number"] != plan.number
    assert list(Order.objects.values_list("number", flat=True)) == [result.body["number"]]
    assert StockItem.objects.get(variant=variant).allocated == 2
    refunds = Payment.objects.filter(reference=f"{plan.number}-void", kind="refund")
    assert refunds.filter(result="succeeded").count() == 1


def test_a_dead_request_that_got_nowhere_just_runs_again():
    user = UserFactory()
    dead_request(user, order_number="SO-NEVR-STRT")
    result = run(user, placed)
    assert (result.status, result.replayed) == (201, False)
    assert result.body["number"] != "SO-NEVR-STRT"


def test_a_key_from_before_leases_is_taken_over_once_its_age_passes_the_lease():
    user = UserFactory()
    record = dead_request(user, order_number="")
    IdempotencyKey.objects.filter(pk=record.pk).update(
        lease_expires_at=None, created_at=timezone.now() - timedelta(minutes=3)
    )
    assert not run(user, placed).replayed


def test_only_one_retry_takes_over_a_dead_request():
    user = UserFactory()
    record = dead_request(user, order_number="SO-DEAD-0003")
    now = timezone.now()
    assert idempotency._take_over(record=record, number="SO-NEW1-0001", now=now)
    assert not idempotency._take_over(record=record, number="SO-NEW2-0002", now=now)
    assert IdempotencyKey.objects.get().order_number == "SO-NEW1-0001"


def test_an_attempt_that_was_taken_over_cannot_overwrite_its_successor():
    user = UserFactory()

    def outlives_its_lease(number):
        # Meanwhile the lease ran out and a retry took the key over.
        IdempotencyKey.objects.update(order_number="SO-SUCC-ESSR")
        return placed(number)

    result = run(user, outlives_its_lease)
    assert result.status == 201
    record = IdempotencyKey.objects.get()
    assert (record.state, record.order_number) == (IdempotencyState.IN_PROGRESS, "SO-SUCC-ESSR")


def test_a_completed_key_without_its_response_is_an_error_not_a_replay():
    user = UserFactory()
    run(user, lambda number: (201, {"n": 1}))
    IdempotencyKey.objects.update(response_status=None)
    with pytest.raises(RuntimeError, match="holds no response"):
        run(user, lambda number: (201, {"n": 2}))


@pytest.mark.parametrize("key", [None, "", "   ", "x" * 256])
def test_missing_or_oversized_key_is_required(key):
    with pytest.raises(IdempotencyKeyRequired):
        run(UserFactory(), placed, key=key)


def test_expired_keys_run_again_and_are_purged():
    user = UserFactory()
    run(user, lambda number: (201, {"n": 1}))
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=25))
    assert run(user, lambda number: (201, {"n": 2})).body == {"n": 2}
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=25))
    call_command("purge_idempotency_keys")
    assert not IdempotencyKey.objects.exists()
