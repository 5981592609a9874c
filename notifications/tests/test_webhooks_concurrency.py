"""Two workers delivering one endpoint at once: each event arrives once, in order."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from notifications.webhooks import services
from notifications.webhooks.models import DeliveryStatus, WebhookDelivery

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_concurrent_workers_post_each_event_once_and_in_order(webhook_receiver):
    endpoint = services.create_endpoint(url=webhook_receiver.url, events=["stock.low"])
    webhook_receiver.status = 503  # the receiver is down while the events happen
    for n in range(8):
        services.record_event(event_type="stock.low", data={"n": n})
    assert WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING).count() == 8
    webhook_receiver.status = 204
    later = timezone.now() + timedelta(hours=3)
    barrier = threading.Barrier(3)
    delivered: list[int] = []

    def worker() -> None:
        try:
            barrier.wait()
            delivered.append(services.deliver_endpoint(endpoint_id=endpoint.pk, now=later))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sum(delivered) == 8
    assert [hook.payload["data"]["n"] for hook in webhook_receiver.received] == list(range(8))
    assert not WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING).exists()
