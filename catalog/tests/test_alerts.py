"""Back-in-stock alerts: subscribing, batches after a restock, unsubscribe, expiry."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.tests.factories import UserFactory
from catalog import alerts
from catalog.errors import InStock
from catalog.models import StockAlert, StockAlertStatus
from catalog.tests.factories import make_variant
from inventory import services as inventory
from notifications.models import Notification, NotificationKind

pytestmark = pytest.mark.django_db


@pytest.fixture
def sold_out():
    return make_variant(on_hand=0, sku="LAMP-RED", product__name="Desk lamp", product__slug="lamp")


def emails() -> list[Notification]:
    return list(Notification.objects.filter(kind=NotificationKind.BACK_IN_STOCK).order_by("pk"))


def test_subscribing_is_idempotent_and_refused_when_in_stock(sold_out):
    first = alerts.subscribe(variant=sold_out, email="ada@example.com")
    again = alerts.subscribe(variant=sold_out, email="ADA@example.com")
    assert first.pk == again.pk
    assert first.expires_at > timezone.now() + timedelta(days=89)
    with pytest.raises(InStock):
        alerts.subscribe(variant=make_variant(on_hand=3), email="ada@example.com")


def test_a_restock_emails_each_alert_once(sold_out, django_capture_on_commit_callbacks):
    alerts.subscribe(variant=sold_out, email="ada@example.com")
    alerts.subscribe(variant=sold_out, email="bob@example.com", user=UserFactory())
    with django_capture_on_commit_callbacks(execute=True):
        inventory.restock(variant=sold_out, quantity=5)
    sent = emails()
    assert [n.recipient for n in sent] == ["ada@example.com", "bob@example.com"]
    assert "Desk lamp" in sent[0].subject
    assert "/alerts/unsubscribe/" in sent[0].context["unsubscribe_url"]
    assert set(StockAlert.objects.values_list("status", flat=True)) == {"notified"}
    assert alerts.send_due_alerts() == 0  # never twice


def test_a_big_restock_is_sent_in_batches(sold_out, settings):
    settings.SHOP_STOCK_ALERT_BATCH = 3
    for n in range(7):
        alerts.subscribe(variant=sold_out, email=f"shopper{n}@example.com")
    inventory.restock(variant=sold_out, quantity=50)  # stock_changed waits for the commit
    assert alerts.send_due_alerts() == 3
    assert len(emails()) == 3
    call_command("send_stock_alerts", batches=5)
    assert len(emails()) == 7


def test_nothing_is_sent_while_the_variant_is_still_out_of_stock(sold_out):
    alerts.subscribe(variant=sold_out, email="ada@example.com")
    assert alerts.send_due_alerts() == 0
    assert emails() == []


def test_unsubscribed_and_expired_alerts_are_not_sent(sold_out):
    gone = alerts.subscribe(variant=sold_out, email="gone@example.com")
    old = alerts.subscribe(variant=sold_out, email="old@example.com")
    assert alerts.unsubscribe(token=gone.token).status == StockAlertStatus.UNSUBSCRIBED
    StockAlert.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(days=1))
    assert alerts.expire_alerts() == 1
    inventory.restock(variant=sold_out, quantity=5)
    assert alerts.send_due_alerts() == 0
    assert alerts.unsubscribe(token="nope") is None


# ---- API and pages ------------------------------------------------------------------------


def test_the_api_accepts_an_alert_for_an_out_of_stock_variant(sold_out, api_client):
    response = api_client.post(
        "/api/v1/variants/lamp-red/alerts/", {"email": "ada@example.com"}, format="json"
    )
    assert response.status_code == 202
    assert response.json()["status"] == "active"
    make_variant(on_hand=2, sku="IN-1")
    in_stock = api_client.post(
        "/api/v1/variants/IN-1/alerts/", {"email": "ada@example.com"}, format="json"
    )
    assert in_stock.status_code == 409
    assert in_stock.json()["code"] == "in_stock"
    bad = api_client.post("/api/v1/variants/lamp-red/alerts/", {"email": "x"}, format="json")
    assert bad.status_code == 400
    assert bad.json()["errors"]["email"]
    assert api_client.post("/api/v1/variants/none/alerts/", {}, format="json").status_code == 404
    user = UserFactory(email="me@example.com")
    api_client.force_authenticate(user)
    mine = api_client.post("/api/v1/variants/lamp-red/alerts/", {}, format="json")
    assert mine.status_code == 202
    assert StockAlert.objects.filter(email="me@example.com", user=user).exists()


def test_the_product_page_offers_the_alert_form_and_takes_it(sold_out, client):
    page = client.get("/p/lamp/").content.decode()
    assert 'action="/alerts/"' in page
    response = client.post("/alerts/", {"sku": "LAMP-RED", "email": "ada@example.com"}, follow=True)
    assert "We will email ada@example.com when it is back in stock" in response.content.decode()
    fragment = client.post(
        "/alerts/", {"sku": "LAMP-RED", "email": "ada@example.com"}, headers={"HX-Request": "true"}
    )
    assert "<html" not in fragment.content.decode()
    assert StockAlert.objects.count() == 1


def test_one_click_unsubscribe(sold_out, client):
    alert = alerts.subscribe(variant=sold_out, email="ada@example.com")
    url = f"/alerts/unsubscribe/{alert.token}/"
    assert "Unsubscribe" in client.get(url).content.decode()
    assert StockAlert.objects.get(pk=alert.pk).status == "active"  # GET changes nothing
    done = client.post(url)  # also what a mail client's one-click POST does (no CSRF token)
    assert "You are unsubscribed" in done.content.decode()
    assert StockAlert.objects.get(pk=alert.pk).status == "unsubscribed"
    assert client.get("/alerts/unsubscribe/unknown/").status_code == 404
