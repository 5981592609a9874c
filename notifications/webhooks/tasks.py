"""Background task delivering an endpoint's webhook events (queue ``webhooks``)."""

from django_tasks import task


@task(queue_name="webhooks")
def deliver_webhooks(endpoint_id: int) -> int:
    """Deliver the endpoint's due events in order; return how many were delivered."""
    # Imported here: services enqueue this task, so a module-level import would be circular.
    from notifications.webhooks.services import deliver_endpoint

    return deliver_endpoint(endpoint_id=endpoint_id)
