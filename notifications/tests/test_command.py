"""``manage.py send_pending_notifications``: the cron path when no worker runs."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from notifications.models import Notification, NotificationStatus
from notifications.tests.factories import NotificationFactory

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command("send_pending_notifications", *args, stdout=out)
    return out.getvalue()


def test_it_delivers_due_rows_and_leaves_later_ones(smtp_server):
    due = NotificationFactory(next_attempt_at=timezone.now() - timedelta(seconds=1))
    later = NotificationFactory(next_attempt_at=timezone.now() + timedelta(minutes=5))

    output = run()

    assert [m.rcpt_tos for m in smtp_server.messages] == [[due.recipient]]
    later.refresh_from_db()
    assert later.status == NotificationStatus.PENDING
    assert "Sent 1" in output


def test_it_never_resends_sent_rows(smtp_server):
    NotificationFactory()
    run()
    run()

    assert len(smtp_server.messages) == 1


def test_retry_failed_requeues_failed_rows_with_a_fresh_count_and_delivers_them(smtp_server):
    failed = NotificationFactory(
        status=NotificationStatus.FAILED, attempts=6, last_error="boom", next_attempt_at=None
    )

    output = run("--retry-failed")

    failed.refresh_from_db()
    assert failed.status == NotificationStatus.SENT
    assert failed.attempts == 1
    assert len(smtp_server.messages) == 1
    assert "Re-queued 1 failed" in output


def test_without_retry_failed_failed_rows_stay_failed(smtp_server):
    NotificationFactory(status=NotificationStatus.FAILED, attempts=6)

    run()

    assert smtp_server.messages == []
    assert Notification.objects.get().status == NotificationStatus.FAILED


def test_it_releases_rows_stuck_in_sending_and_delivers_them(smtp_server):
    stuck = NotificationFactory(status=NotificationStatus.SENDING, attempts=1)
    Notification.objects.filter(pk=stuck.pk).update(updated_at=timezone.now() - timedelta(hours=1))

    output = run()

    stuck.refresh_from_db()
    assert stuck.status == NotificationStatus.SENT
    assert len(smtp_server.messages) == 1
    assert "Released 1" in output


def test_limit_caps_how_many_are_sent(smtp_server):
    NotificationFactory.create_batch(3)

    run("--limit", "2")

    assert len(smtp_server.messages) == 2
