"""Outgoing webhooks end to end: a real local HTTP receiver, real signatures, retries."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.tests.factories import StaffUserFactory
from catalog.services import update_product
from catalog.tests.factories import make_variant
from inventory import services as inventory
from notifications.models import Notification, NotificationKind
from notifications.webhooks import services
from notifications.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from notifications.webhooks.signing import SIGNATURE_HEADER, verify_signature
from orders.lifecycle import transition_order
from orders.models import OrderStatus
from orders.returns.services import receive_return, request_return
from orders.tests.factories import order_in, place

pytestmark = pytest.mark.usefixtures("fast_gateway")
ORDER_EVENTS = ["order.created", "order.paid", "order.shipped", "order.refunded"]
LATER = timedelta(hours=3)


def endpoint_for(receiver, events=ORDER_EVENTS, **kwargs) -> WebhookEndpoint:
    return services.create_endpoint(
        url=receiver.url, events=list(events), secret="whsec_test", **kwargs
    )


def test_a_placed_shipped_and_refunded_order_reaches_the_receiver_signed_and_in_order(
    webhook_receiver, django_capture_on_commit_callbacks
):
    endpoint = endpoint_for(webhook_receiver)
    staff = StaffUserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        order = place()
    assert webhook_receiver.types() == ["order.created", "order.paid"]

    webhook_receiver.stop()  # the receiver is down while the order ships and is refunded
    with django_capture_on_commit_callbacks(execute=True):
        for step in (OrderStatus.PROCESSING, OrderStatus.FULFILLED, OrderStatus.SHIPPED):
            order = transition_order(order=order, to_status=step, user=staff)
        order = transition_order(order=order, to_status=OrderStatus.DELIVERED, user=staff)
        sku = order.lines.first().sku
        rr = request_return(order=order, user=order.user, lines=[{"sku": sku, "quantity": 1}])
        receive_return(return_request=rr, user=staff)
    services.deliver_due(now=timezone.now() + LATER)  # the worker retries: still down
    pending = WebhookDelivery.objects.filter(endpoint=endpoint, status=DeliveryStatus.PENDING)
    assert [d.event_type for d in pending.order_by("id")] == ["order.shipped", "order.refunded"]
    shipped = pending.order_by("id").first()
    assert shipped.attempts == 2
    assert [a.status_code for a in shipped.attempt_log.all()] == [None, None]
    assert pending.order_by("id").last().attempts == 0  # waits behind the failed one

    webhook_receiver.start()  # back up, on the same port
    assert services.deliver_due(now=timezone.now() + LATER) == 2

    assert webhook_receiver.types() == ORDER_EVENTS
    for hook in webhook_receiver.received:
        assert verify_signature(
            secret="whsec_test", header=hook.headers[SIGNATURE_HEADER], body=hook.body
        )
        assert set(hook.payload) == {"id", "type", "created_at", "data"}
        assert hook.payload["data"]["number"] == order.number
    refund = webhook_receiver.received[-1].payload["data"]["refund"]
    assert refund["amount"] == f"{rr.__class__.objects.get(pk=rr.pk).refund_amount:.2f}"
    assert not WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING).exists()
    shipped.refresh_from_db()
    assert shipped.status == DeliveryStatus.DELIVERED
    assert [a.status_code for a in shipped.attempt_log.all()] == [None, None, 204]
    assert all(a.latency_ms >= 0 for a in shipped.attempt_log.all())


def test_the_signature_covers_timestamp_and_body(
    webhook_receiver, django_capture_on_commit_callbacks
):
    endpoint_for(webhook_receiver, events=["order.created"])
    with django_capture_on_commit_callbacks(execute=True):
        place()
    (hook,) = webhook_receiver.received
    header = hook.headers[SIGNATURE_HEADER]
    assert header.startswith("t=")
    assert ",v1=" in header
    assert not verify_signature(secret="other", header=header, body=hook.body)
    assert not verify_signature(secret="whsec_test", header=header, body=hook.body + b" ")
    timestamp = int(header.split(",")[0][2:])
    assert abs(timestamp - timezone.now().timestamp()) < 60


def test_an_event_goes_only_to_endpoints_subscribed_to_it(
    webhook_receiver, django_capture_on_commit_callbacks
):
    endpoint_for(webhook_receiver, events=["order.shipped"])
    with django_capture_on_commit_callbacks(execute=True):
        place()
    assert webhook_receiver.received == []
    assert not WebhookDelivery.objects.exists()


def test_a_rolled_back_change_sends_no_event(webhook_receiver):
    from django.db import transaction

    endpoint_for(webhook_receiver, events=["product.updated"])
    variant = make_variant()
    with transaction.atomic():
        update_product(product=variant.product, name="Renamed")
        transaction.set_rollback(True)
    assert not WebhookDelivery.objects.exists()


def test_product_updates_and_low_stock_are_sent(
    webhook_receiver, django_capture_on_commit_callbacks
):
    endpoint_for(webhook_receiver, events=["product.updated", "stock.low"])
    variant = make_variant(on_hand=10)
    with django_capture_on_commit_callbacks(execute=True):
        update_product(product=variant.product, name="Renamed lamp")
        inventory.adjust(variant=variant, delta=-8, reason="damage", user=StaffUserFactory())
    assert webhook_receiver.types() == ["product.updated", "stock.low"]
    product, stock = (hook.payload["data"] for hook in webhook_receiver.received)
    assert product["name"] == "Renamed lamp"
    assert product["variants"][0]["sku"] == variant.sku
    assert stock == {
        "sku": variant.sku,
        "product": variant.product.slug,
        "available": 2,
        "on_hand": 2,
        "threshold": stock["threshold"],
    }


def test_a_non_2xx_answer_or_a_redirect_is_retried(
    webhook_receiver, django_capture_on_commit_callbacks
):
    endpoint = endpoint_for(webhook_receiver, events=["order.created"])
    webhook_receiver.status = 302
    with django_capture_on_commit_callbacks(execute=True):
        place()
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert delivery.status == DeliveryStatus.PENDING
    assert [a.status_code for a in delivery.attempt_log.all()] == [302]
    assert delivery.next_attempt_at > timezone.now() + timedelta(seconds=5)
    webhook_receiver.status = 500
    services.deliver_due(now=timezone.now() + LATER)
    delivery.refresh_from_db()
    assert [a.status_code for a in delivery.attempt_log.all()] == [302, 500]
    assert delivery.last_error
    endpoint.refresh_from_db()
    assert endpoint.failing_since is not None
    webhook_receiver.status = 200
    services.deliver_due(now=timezone.now() + LATER)
    delivery.refresh_from_db()
    endpoint.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert endpoint.failing_since is None


def test_an_endpoint_failing_too_long_is_disabled_staff_emailed_and_resumed_on_reactivation(
    webhook_receiver, settings, django_capture_on_commit_callbacks
):
    settings.SHOP_STAFF_EMAILS = ["ops@example.com"]
    settings.SHOP_WEBHOOK_DISABLE_AFTER_DAYS = 3
    endpoint = endpoint_for(webhook_receiver, events=["order.created"])
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        failing_since=timezone.now() - timedelta(days=3, minutes=1)
    )
    webhook_receiver.status = 503
    with django_capture_on_commit_callbacks(execute=True):
        place()
    endpoint.refresh_from_db()
    assert not endpoint.is_active
    assert endpoint.disabled_at is not None
    alert = Notification.objects.get(kind=NotificationKind.WEBHOOK_DISABLED)
    assert alert.recipient == "ops@example.com"
    assert endpoint.url in alert.subject

    webhook_receiver.status = 204
    assert services.deliver_due(now=timezone.now() + LATER) == 0  # disabled: nothing sent
    with django_capture_on_commit_callbacks(execute=True):
        services.update_endpoint(endpoint=endpoint, is_active=True)
    assert webhook_receiver.types() == ["order.created"]
    endpoint.refresh_from_db()
    assert endpoint.failing_since is None
    assert endpoint.disabled_at is None


def test_redeliver_posts_a_delivered_event_again_with_the_same_id(
    webhook_receiver, django_capture_on_commit_callbacks
):
    endpoint_for(webhook_receiver, events=["order.created"])
    with django_capture_on_commit_callbacks(execute=True):
        place()
    delivery = WebhookDelivery.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        services.redeliver(delivery=delivery)
    first, second = webhook_receiver.received
    assert first.payload["id"] == second.payload["id"] == str(delivery.event_id)
    assert delivery.attempt_log.count() == 2


def test_a_worker_does_not_deliver_an_endpoint_another_worker_holds(webhook_receiver):
    endpoint = endpoint_for(webhook_receiver, events=["order.created"])
    place()  # on-commit callbacks not run: the event is pending
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        lease_until=timezone.now() + timedelta(minutes=1)
    )
    assert services.deliver_endpoint(endpoint_id=endpoint.pk) == 0
    assert webhook_receiver.received == []
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        lease_until=timezone.now() - timedelta(seconds=1)  # the holder died: lease expired
    )
    assert services.deliver_endpoint(endpoint_id=endpoint.pk) == 1


def test_a_cancelled_order_sends_cancelled_and_refunded(
    webhook_receiver, django_capture_on_commit_callbacks
):
    endpoint_for(webhook_receiver, events=["order.cancelled", "order.refunded"])
    with django_capture_on_commit_callbacks(execute=True):
        order_in(OrderStatus.CANCELLED)
    assert webhook_receiver.types() == ["order.cancelled", "order.refunded"]
    assert webhook_receiver.received[1].payload["data"]["refund"]["reason"] == "cancelled"


def test_a_goodwill_refund_sends_order_refunded_and_emails_the_customer(
    webhook_receiver, django_capture_on_commit_callbacks
):
    from decimal import Decimal

    from orders.editing.services import issue_goodwill_refund

    endpoint_for(webhook_receiver, events=["order.refunded"])
    order = place()
    with django_capture_on_commit_callbacks(execute=True):
        issue_goodwill_refund(
            order=order, amount=Decimal("3.00"), reason="Scratched box", user=StaffUserFactory()
        )
    (hook,) = webhook_receiver.received
    assert hook.payload["data"]["refund"] == {"amount": "3.00", "reason": "Scratched box"}
    email = Notification.objects.get(kind=NotificationKind.REFUND_ISSUED)
    assert email.recipient == order.email
    assert email.context["reason"] == "Scratched box"
