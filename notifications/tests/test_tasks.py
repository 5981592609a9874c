"""Delivery through the database task backend and its worker (``db_worker``)."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from notifications.models import Notification, NotificationStatus
from notifications.tests.factories import order_with_lines
from orders.models import Order
from orders.signals import order_placed

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def database_backend(settings):
    settings.TASKS = {
        "default": {
            "BACKEND": "django_tasks_db.DatabaseBackend",
            "QUEUES": ["default", "email"],
        }
    }


def run_worker() -> None:
    call_command(
        "db_worker",
        "--batch",
        "--queue-name=email",
        "--no-startup-delay",
        "--no-reload",
        verbosity=0,
    )


def test_the_worker_delivers_a_queued_notification(smtp_server, database_backend):
    order = order_with_lines()

    order_placed.send(sender=Order, order_id=order.pk)

    assert smtp_server.messages == []
    task = DBTaskResult.objects.get()
    assert task.queue_name == "email"
    run_worker()
    assert [m.subject for m in smtp_server.messages] == [f"Order {order.number} confirmed"]
    assert Notification.objects.get().status == NotificationStatus.SENT


def test_a_failed_attempt_is_retried_by_a_deferred_task(smtp_server, database_backend):
    order = order_with_lines()
    order_placed.send(sender=Order, order_id=order.pk)
    smtp_server.stop()

    run_worker()

    notification = Notification.objects.get()
    assert notification.status == NotificationStatus.PENDING
    retry = DBTaskResult.objects.filter(status="READY").get()
    assert retry.run_after == notification.next_attempt_at
    assert retry.run_after > timezone.now() + timedelta(seconds=5)

    smtp_server.start()
    run_worker()  # the retry is not due yet
    assert smtp_server.messages == []

    DBTaskResult.objects.filter(pk=retry.pk).update(run_after=timezone.now())
    run_worker()
    assert len(smtp_server.messages) == 1
    notification.refresh_from_db()
    assert notification.status == NotificationStatus.SENT
    assert notification.attempts == 2
