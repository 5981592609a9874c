"""Staff roles on the email log: Customer service resends, other roles do not."""

import pytest
from django.urls import reverse

from accounts.tests.factories import StaffUserFactory
from notifications.models import NotificationStatus
from notifications.tests.factories import NotificationFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:notifications_notification_changelist")


def test_customer_service_resends_emails(client):
    failed = NotificationFactory(status=NotificationStatus.FAILED, attempts=6)
    client.force_login(StaffUserFactory(roles=["Customer service"]))
    assert b'value="resend"' in client.get(CHANGELIST).content
    client.post(CHANGELIST, {"action": "resend", "_selected_action": [failed.pk]})
    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == (NotificationStatus.PENDING, 0)


@pytest.mark.parametrize("role", ["Fulfilment", "Finance", "Catalog managers"])
def test_other_roles_neither_see_the_log_nor_resend(client, role):
    failed = NotificationFactory(status=NotificationStatus.FAILED, attempts=6)
    client.force_login(StaffUserFactory(roles=[role]))
    assert client.get(CHANGELIST).status_code == 403
    client.post(CHANGELIST, {"action": "resend", "_selected_action": [failed.pk]})
    failed.refresh_from_db()
    assert failed.status == NotificationStatus.FAILED
