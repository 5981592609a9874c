"""Delivery guarantees: once per event, retried with backoff, isolated failures."""

import threading
from datetime import timedelta
from functools import partial

import pytest
from django.db import connection, transaction
from django.utils import timezone

from notifications import services
from notifications.models import Notification, NotificationStatus
from notifications.tests.factories import NotificationFactory, order_with_lines
from orders.models import Order
from orders.signals import order_placed

pytestmark = pytest.mark.django_db


def test_one_event_received_twice_creates_one_notification_and_one_email(
    smtp_server, django_capture_on_commit_callbacks
):
    order = order_with_lines()

    with django_capture_on_commit_callbacks(execute=True):
        order_placed.send(sender=Order, order_id=order.pk)
        order_placed.send(sender=Order, order_id=order.pk)

    assert Notification.objects.count() == 1
    assert len(smtp_server.messages) == 1


def test_delivering_a_sent_notification_again_sends_nothing(smtp_server):
    notification = NotificationFactory()
    services.deliver(notification_id=notification.pk)

    again = services.deliver(notification_id=notification.pk)

    assert len(smtp_server.messages) == 1
    assert again.status == NotificationStatus.SENT
    assert again.attempts == 1


def test_a_notification_being_sent_elsewhere_is_not_sent_again(smtp_server):
    notification = NotificationFactory(status=NotificationStatus.SENDING, attempts=1)

    result = services.deliver(notification_id=notification.pk)

    assert smtp_server.messages == []
    assert result.status == NotificationStatus.SENDING


def test_delivering_a_missing_notification_returns_none(smtp_server):
    assert services.deliver(notification_id=987654) is None


def test_failures_back_off_exponentially_then_mark_failed(smtp_server):
    smtp_server.stop()
    notification = NotificationFactory()
    delays = []

    for _ in range(services.MAX_ATTEMPTS - 1):
        before = timezone.now()
        row = services.deliver(notification_id=notification.pk)
        assert row.status == NotificationStatus.PENDING
        delays.append(round((row.next_attempt_at - before).total_seconds()))
    row = services.deliver(notification_id=notification.pk)

    assert delays == [10, 60, 300, 1800, 7200]
    assert row.status == NotificationStatus.FAILED
    assert row.attempts == 6
    assert row.next_attempt_at is None
    assert "Connection" in row.last_error
    assert services.deliver(notification_id=notification.pk).attempts == 6


def test_a_successful_retry_clears_the_error(smtp_server):
    smtp_server.stop()
    notification = NotificationFactory()
    services.deliver(notification_id=notification.pk)
    smtp_server.start()

    row = services.deliver(notification_id=notification.pk)

    assert row.status == NotificationStatus.SENT
    assert row.attempts == 2
    assert row.last_error == ""
    assert row.next_attempt_at is None
    assert len(smtp_server.messages) == 1


def test_a_refused_email_does_not_block_the_others(smtp_server):
    first = NotificationFactory(recipient="one@example.com")
    bounced = NotificationFactory(recipient="nobody@bounce.invalid")
    last = NotificationFactory(recipient="three@example.com")

    counts = services.deliver_due()

    assert counts["sent"] == 2
    assert counts["pending"] == 1
    assert sorted(r for m in smtp_server.messages for r in m.rcpt_tos) == [
        "one@example.com",
        "three@example.com",
    ]
    for row in (first, last):
        row.refresh_from_db()
        assert row.status == NotificationStatus.SENT
    bounced.refresh_from_db()
    assert bounced.status == NotificationStatus.PENDING
    assert "SMTPRecipientsRefused" in bounced.last_error


def test_a_broken_template_fails_only_its_own_notification(smtp_server):
    broken = NotificationFactory(kind="no_such_kind")
    fine = NotificationFactory()

    services.deliver_due()

    broken.refresh_from_db()
    fine.refresh_from_db()
    assert broken.status == NotificationStatus.PENDING
    assert "TemplateDoesNotExist" in broken.last_error
    assert fine.status == NotificationStatus.SENT


class PaymentFailed(Exception):
    pass


def write_order_then_fail() -> None:
    """Write an order and queue ``order_placed`` as checkout does, then roll back."""
    with transaction.atomic():
        order = order_with_lines()
        transaction.on_commit(partial(order_placed.send, sender=Order, order_id=order.pk))
        raise PaymentFailed


def receive_event_then_fail(order: Order) -> None:
    """Receive ``order_placed`` inside a transaction that then rolls back."""
    with transaction.atomic():
        order_placed.send(sender=Order, order_id=order.pk)
        assert Notification.objects.count() == 1
        raise PaymentFailed


def test_an_event_whose_transaction_rolls_back_sends_nothing(
    smtp_server, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(PaymentFailed),
    ):
        write_order_then_fail()

    assert callbacks == []
    assert not Notification.objects.exists()
    assert smtp_server.messages == []


def test_a_notification_written_in_a_rolled_back_transaction_is_never_sent(
    smtp_server, django_capture_on_commit_callbacks
):
    order = order_with_lines()

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(PaymentFailed),
    ):
        receive_event_then_fail(order)

    assert callbacks == []
    assert not Notification.objects.exists()
    assert smtp_server.messages == []


@pytest.mark.django_db(transaction=True)
def test_rolled_back_transaction_sends_nothing_with_real_commits(smtp_server):
    with pytest.raises(PaymentFailed):
        write_order_then_fail()

    assert not Order.objects.exists()
    assert not Notification.objects.exists()
    assert smtp_server.messages == []

    with transaction.atomic():
        order = order_with_lines()
        transaction.on_commit(partial(order_placed.send, sender=Order, order_id=order.pk))

    assert [m.subject for m in smtp_server.messages] == [f"Order {order.number} confirmed"]


def test_a_receiver_error_reaches_the_emitter_so_its_transaction_rolls_back(smtp_server):
    # The outbox is written in the emitter's transaction: an email that cannot be recorded
    # is the emitter's failure, never a silently lost email.
    with pytest.raises(Order.DoesNotExist):
        order_placed.send(sender=Order, order_id=987654)

    assert not Notification.objects.exists()


def test_a_claim_left_by_a_dead_process_is_released(smtp_server, settings):
    settings.NOTIFICATIONS_CLAIM_TIMEOUT = 60
    stuck = NotificationFactory(status=NotificationStatus.SENDING, attempts=1)
    fresh = NotificationFactory(status=NotificationStatus.SENDING, attempts=1)
    Notification.objects.filter(pk=stuck.pk).update(
        updated_at=timezone.now() - timedelta(minutes=5)
    )

    assert services.release_stale_claims() == 1

    stuck.refresh_from_db()
    fresh.refresh_from_db()
    assert stuck.status == NotificationStatus.PENDING
    assert fresh.status == NotificationStatus.SENDING


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_deliveries_of_one_row_send_one_email(smtp_server):
    notification = NotificationFactory()
    workers = 4
    barrier = threading.Barrier(workers)
    errors = []

    def run():
        try:
            barrier.wait(timeout=10)
            services.deliver(notification_id=notification.pk)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert len(smtp_server.messages) == 1
    notification.refresh_from_db()
    assert notification.status == NotificationStatus.SENT
    assert notification.attempts == 1
