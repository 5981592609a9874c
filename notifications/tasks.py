"""Background tasks (Django tasks API; the worker is ``manage.py db_worker``)."""

from django_tasks import task


@task(queue_name="email")
def deliver_notification(notification_id: int) -> str | None:
    """Deliver one notification; return its resulting status (for the task result log)."""
    # Imported here: services enqueue this task, so a module-level import would be circular.
    from notifications.services import deliver

    notification = deliver(notification_id=notification_id)
    return notification.status if notification else None
