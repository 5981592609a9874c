"""The notification log in the Django admin."""

import pytest
from django.urls import reverse

from notifications.emails import REDACTED
from notifications.models import NotificationKind, NotificationStatus
from notifications.tests.factories import NotificationFactory, UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:notifications_notification_changelist")


@pytest.fixture
def superuser_client(client):
    admin = UserFactory(email="root@shop.test", is_staff=True, is_superuser=True)
    client.force_login(admin)
    return client


@pytest.mark.parametrize("rows", [3, 30])
def test_the_log_lists_notifications_in_constant_queries(
    superuser_client, django_assert_max_num_queries, rows
):
    NotificationFactory.create_batch(rows)

    with django_assert_max_num_queries(12):
        response = superuser_client.get(CHANGELIST)

    assert response.status_code == 200
    assert b"Welcome to Test Shop" in response.content


def test_the_log_filters_by_status_and_searches_by_recipient(superuser_client):
    NotificationFactory(recipient="findme@example.com", status=NotificationStatus.FAILED)
    NotificationFactory(recipient="other@example.com")

    by_search = superuser_client.get(CHANGELIST, {"q": "findme"})
    by_status = superuser_client.get(CHANGELIST, {"status__exact": "failed"})

    for response in (by_search, by_status):
        assert b"findme@example.com" in response.content
        assert b"other@example.com" not in response.content


def test_the_detail_page_is_read_only_and_hides_reset_links(superuser_client):
    notification = NotificationFactory(
        kind=NotificationKind.PASSWORD_RESET,
        context={"reset_url": "https://shop.test/reset/secret-token/", "user": {"name": "A"}},
    )

    response = superuser_client.get(
        reverse("admin:notifications_notification_change", args=[notification.pk])
    )

    assert response.status_code == 200
    assert b"secret-token" not in response.content
    assert b"[hidden]" in response.content
    assert b'name="_save"' not in response.content


def test_resend_action_sends_the_selected_emails_again(
    superuser_client, smtp_server, django_capture_on_commit_callbacks
):
    sent = NotificationFactory(status=NotificationStatus.SENT, attempts=1)
    failed = NotificationFactory(status=NotificationStatus.FAILED, attempts=6)

    with django_capture_on_commit_callbacks(execute=True):
        response = superuser_client.post(
            CHANGELIST,
            {"action": "resend", "_selected_action": [sent.pk, failed.pk]},
            follow=True,
        )

    assert response.status_code == 200
    assert sorted(r for m in smtp_server.messages for r in m.rcpt_tos) == sorted(
        [sent.recipient, failed.recipient]
    )
    for row in (sent, failed):
        row.refresh_from_db()
        assert row.status == NotificationStatus.SENT
        assert row.attempts == 1


def test_resend_refuses_a_sent_password_reset_whose_link_was_erased(superuser_client, smtp_server):
    reset = NotificationFactory(
        kind=NotificationKind.PASSWORD_RESET,
        status=NotificationStatus.SENT,
        context={"reset_url": REDACTED},
    )

    response = superuser_client.post(
        CHANGELIST, {"action": "resend", "_selected_action": [reset.pk]}, follow=True
    )

    assert b"request a new one" in response.content
    assert smtp_server.messages == []
    reset.refresh_from_db()
    assert reset.status == NotificationStatus.SENT


def test_staff_without_the_resend_permission_do_not_get_the_action(client):
    from django.contrib.auth.models import Permission

    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_notification"))
    client.force_login(viewer)
    NotificationFactory()

    response = client.get(CHANGELIST)

    assert response.status_code == 200
    assert b'value="resend"' not in response.content
