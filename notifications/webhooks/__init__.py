"""Outgoing webhooks: endpoints staff register, events written to the outbox, signed delivery.

Events are recorded (one ``WebhookDelivery`` per subscribed endpoint) by the signal receivers
in ``receivers.py``, inside the transaction of the change, like the emails of the outbox.
``services.deliver_endpoint`` posts them in order, signed, after commit (the task worker, or
``manage.py deliver_webhooks`` from cron), retrying with backoff until the receiver answers
2xx; every attempt is kept.
"""
