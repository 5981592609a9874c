"""``/api/health/`` reports each dependency; only the database's failure is a 503."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from notifications.tasks import deliver_notification

pytestmark = pytest.mark.django_db

HEALTHY = {"status": "ok", "database": "ok", "cache": "ok", "tasks": "ok"}


@pytest.fixture
def database_queue(settings):
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "email"]}
    }


def test_a_worked_database_queue_is_healthy(api_client, database_queue):
    deliver_notification.enqueue(notification_id=1)  # just queued: a worker has time

    response = api_client.get("/api/health/")

    assert (response.status_code, response.json()) == (200, HEALTHY)


def test_a_queue_with_a_task_due_for_minutes_is_reported_and_the_shop_degraded(
    api_client, database_queue
):
    deliver_notification.enqueue(notification_id=1)
    DBTaskResult.objects.update(enqueued_at=timezone.now() - timedelta(minutes=6))

    response = api_client.get("/api/health/")

    assert response.status_code == 200
    assert response.json() == {**HEALTHY, "status": "degraded", "tasks": "error"}


def test_a_task_deferred_to_later_is_not_overdue(api_client, database_queue):
    deliver_notification.using(run_after=timezone.now() + timedelta(hours=1)).enqueue(
        notification_id=1
    )
    DBTaskResult.objects.update(enqueued_at=timezone.now() - timedelta(minutes=30))

    assert api_client.get("/api/health/").json() == HEALTHY


def test_a_task_backend_that_does_not_load_is_reported(api_client, settings):
    settings.TASKS = {"default": {"BACKEND": "shop.no_such_module.Backend"}}

    response = api_client.get("/api/health/")

    assert response.status_code == 200
    assert response.json() == {**HEALTHY, "status": "degraded", "tasks": "error"}
