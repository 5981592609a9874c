"""The back-in-stock email arrives through a real SMTP server after a restock."""

import pytest

from catalog import alerts
from catalog.tests.factories import make_variant
from inventory import services as inventory

pytestmark = pytest.mark.django_db


def test_the_alert_email_reaches_the_smtp_server_after_a_restock(
    smtp_server, django_capture_on_commit_callbacks
):
    variant = make_variant(on_hand=0, product__name="Desk lamp", name="Red")
    alert = alerts.subscribe(variant=variant, email="ada@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        inventory.restock(variant=variant, quantity=3)
    [message] = smtp_server.to("ada@example.com")
    assert message.subject == "Back in stock: Desk lamp (Red)"
    assert f"https://shop.test/alerts/unsubscribe/{alert.token}/" in message.text
    assert f"/p/{variant.product.slug}/?sku={variant.sku}" in message.html
