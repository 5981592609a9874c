from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone

from accounts.tests.factories import UserFactory
from orders.checkout.idempotency import run_idempotent
from orders.errors import (
    IdempotencyKeyInUse,
    IdempotencyKeyMismatch,
    IdempotencyKeyRequired,
    PaymentDeclinedError,
    PaymentUnavailableError,
)
from orders.models import IdempotencyKey, IdempotencyState

pytestmark = pytest.mark.django_db


def run(user, action, key="k1", payload=None):
    return run_idempotent(
        user=user, key=key, scope="test", payload=payload or {"a": 1}, action=action
    )


def test_first_run_stores_the_result_and_the_second_replays_it():
    user = UserFactory()
    calls = []

    def action():
        calls.append(1)
        return 201, {"number": "SO-1"}

    first = run(user, action)
    second = run(user, action, payload={"a": 1})
    assert (first.status, first.body, first.replayed) == (201, {"number": "SO-1"}, False)
    assert (second.status, second.body, second.replayed) == (201, {"number": "SO-1"}, True)
    assert calls == [1]
    assert IdempotencyKey.objects.get().state == IdempotencyState.COMPLETED


def test_same_key_with_different_payload_is_a_mismatch():
    user = UserFactory()
    run(user, lambda: (201, {}))
    with pytest.raises(IdempotencyKeyMismatch):
        run(user, lambda: (201, {}), payload={"a": 2})


def test_payload_key_order_does_not_matter():
    user = UserFactory()
    run(user, lambda: (201, {}), payload={"a": 1, "b": 2})
    assert run(user, lambda: (201, {}), payload={"b": 2, "a": 1}).replayed


def test_keys_are_per_user():
    run(UserFactory(), lambda: (201, {"u": 1}))
    assert not run(UserFactory(), lambda: (201, {"u": 2})).replayed


def test_a_running_key_is_in_use():
    user = UserFactory()
    IdempotencyKey.objects.create(
        user=user,
        key="k1",
        scope="test",
        request_hash="x",
        state=IdempotencyState.IN_PROGRESS,
    )
    from orders.checkout.idempotency import payload_hash

    IdempotencyKey.objects.update(request_hash=payload_hash(payload={"a": 1}))
    with pytest.raises(IdempotencyKeyInUse):
        run(user, lambda: (201, {}))


def test_domain_errors_are_stored_and_replayed():
    user = UserFactory()

    def declined():
        raise PaymentDeclinedError()

    first = run(user, declined)
    assert (first.status, first.body["code"]) == (402, "payment_declined")
    replay = run(user, lambda: (201, {}))
    assert (replay.status, replay.body["code"], replay.replayed) == (402, "payment_declined", True)


def test_validation_errors_are_stored_as_400():
    def invalid():
        raise ValidationError({"shipping_address.city": ["Required."]})

    result = run(UserFactory(), invalid)
    assert result.status == 400
    assert result.body["errors"] == {"shipping_address.city": ["Required."]}


@pytest.mark.parametrize("error", [PaymentUnavailableError(), RuntimeError("boom")])
def test_server_errors_free_the_key_for_a_retry(error):
    user = UserFactory()

    def failing():
        raise error

    with pytest.raises(type(error)):
        run(user, failing)
    assert not IdempotencyKey.objects.exists()
    assert not run(user, lambda: (201, {"ok": True})).replayed


def test_a_completed_key_without_its_response_is_an_error_not_a_replay():
    user = UserFactory()
    run(user, lambda: (201, {"n": 1}))
    IdempotencyKey.objects.update(response_status=None)
    with pytest.raises(RuntimeError, match="holds no response"):
        run(user, lambda: (201, {"n": 2}))


@pytest.mark.parametrize("key", [None, "", "   ", "x" * 256])
def test_missing_or_oversized_key_is_required(key):
    with pytest.raises(IdempotencyKeyRequired):
        run(UserFactory(), lambda: (201, {}), key=key)


def test_expired_keys_run_again_and_are_purged():
    user = UserFactory()
    run(user, lambda: (201, {"n": 1}))
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=25))
    assert run(user, lambda: (201, {"n": 2})).body == {"n": 2}
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=25))
    call_command("purge_idempotency_keys")
    assert not IdempotencyKey.objects.exists()
