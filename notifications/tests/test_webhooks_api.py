"""The staff API for webhook endpoints, URL validation (SSRF) and the admin pages."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.tests.factories import StaffUserFactory, UserFactory
from notifications.webhooks import services
from notifications.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from notifications.webhooks.validation import validate_webhook_url
from orders.tests.factories import place

pytestmark = pytest.mark.django_db
LIST = "/api/v1/webhooks/"
PUBLIC = "https://93.184.216.34/hooks"  # a literal public address: no DNS needed
MANAGE = [
    "notifications.view_webhookendpoint",
    "notifications.add_webhookendpoint",
    "notifications.change_webhookendpoint",
    "notifications.delete_webhookendpoint",
]


@pytest.fixture
def manager(api_client):
    api_client.force_authenticate(StaffUserFactory(roles=[], permissions=MANAGE))
    return api_client


@pytest.mark.parametrize(
    "url",
    [
        "http://93.184.216.34/hooks",  # not https
        "https://127.0.0.1/hooks",
        "https://localhost/hooks",
        "https://10.1.2.3/hooks",
        "https://192.168.0.5:8443/hooks",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::1]/hooks",
        "https://[::ffff:10.0.0.1]/hooks",
        "https://user:pass@93.184.216.34/hooks",
        "https://no-such-host.invalid/hooks",
        "ftp://93.184.216.34/hooks",
    ],
)
def test_unsafe_urls_are_refused(settings, url):
    settings.SHOP_WEBHOOKS_ALLOW_PRIVATE = False
    with pytest.raises(ValidationError):
        validate_webhook_url(url)


def test_a_public_https_url_is_accepted_and_private_ones_when_allowed(settings):
    settings.SHOP_WEBHOOKS_ALLOW_PRIVATE = False
    validate_webhook_url(PUBLIC)
    settings.SHOP_WEBHOOKS_ALLOW_PRIVATE = True
    validate_webhook_url("http://127.0.0.1:8080/hooks")


def test_staff_register_an_endpoint_and_see_its_secret_once(manager, settings):
    settings.SHOP_WEBHOOKS_ALLOW_PRIVATE = False
    response = manager.post(LIST, {"url": PUBLIC, "events": ["order.paid", "order.created"]})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert len(body["secret"]) >= 32
    assert body["events"] == ["order.created", "order.paid"]
    assert body["is_active"] is True
    listed = manager.get(LIST).json()
    assert listed["count"] == 1
    assert "secret" not in listed["results"][0]
    detail = manager.get(f"{LIST}{body['id']}/").json()
    assert "secret" not in detail


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"url": "https://127.0.0.1/x", "events": ["order.paid"]}, "url"),
        ({"url": "http://93.184.216.34/x", "events": ["order.paid"]}, "url"),
        ({"url": PUBLIC, "events": []}, "events"),
        ({"url": PUBLIC, "events": ["order.exploded"]}, "events.0"),
        ({"url": "not a url", "events": ["order.paid"]}, "url"),
    ],
)
def test_bad_endpoints_are_refused_with_validation_error(manager, settings, payload, field):
    settings.SHOP_WEBHOOKS_ALLOW_PRIVATE = False
    response = manager.post(LIST, payload)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error"
    assert field in body["errors"]
    assert not WebhookEndpoint.objects.exists()


def test_staff_change_and_delete_an_endpoint(manager, settings):
    settings.SHOP_WEBHOOKS_ALLOW_PRIVATE = False
    endpoint = services.create_endpoint(url=PUBLIC, events=["order.paid"])
    url = f"{LIST}{endpoint.pk}/"
    response = manager.patch(url, {"events": ["stock.low"], "description": "ERP"})
    assert response.status_code == 200
    assert response.json()["events"] == ["stock.low"]
    bad = manager.patch(url, {"url": "https://10.0.0.1/x"})
    assert bad.status_code == 400
    assert "url" in bad.json()["errors"]
    assert manager.delete(url).status_code == 204
    assert manager.get(url).status_code == 404


def test_anonymous_callers_get_401_customers_and_staff_without_permission_403(api_client):
    assert api_client.get(LIST).status_code == 401
    api_client.force_authenticate(UserFactory())
    assert api_client.get(LIST).json()["code"] == "permission_denied"
    api_client.force_authenticate(
        StaffUserFactory(roles=[], permissions=["notifications.view_webhookendpoint"])
    )
    assert api_client.get(LIST).status_code == 200
    response = api_client.post(LIST, {"url": PUBLIC, "events": ["order.paid"]})
    assert response.status_code == 403


def test_the_list_runs_in_constant_queries(manager, settings, django_assert_max_num_queries):
    settings.SHOP_WEBHOOKS_ALLOW_PRIVATE = True
    for n in range(5):
        services.create_endpoint(url=f"http://127.0.0.1/{n}", events=["order.paid"])
    with django_assert_max_num_queries(6):
        assert manager.get(LIST).json()["count"] == 5


def test_admin_lists_attempts_and_redelivers(
    client, webhook_receiver, fast_gateway, django_capture_on_commit_callbacks
):
    endpoint = services.create_endpoint(url=webhook_receiver.url, events=["order.created"])
    place()
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    admin = StaffUserFactory(roles=[], is_superuser=True)
    client.force_login(admin)
    changelist = reverse("admin:notifications_webhookdelivery_changelist")
    assert b"order.created" in client.get(changelist).content
    with django_capture_on_commit_callbacks(execute=True):
        client.post(changelist, {"action": "redeliver", "_selected_action": [delivery.pk]})
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    page = client.get(reverse("admin:notifications_webhookdelivery_change", args=[delivery.pk]))
    assert page.status_code == 200
    assert b"204" in page.content


def test_staff_without_the_redeliver_permission_do_not_get_the_action(client):
    viewer = StaffUserFactory(roles=[], permissions=["notifications.view_webhookdelivery"])
    client.force_login(viewer)
    response = client.get(reverse("admin:notifications_webhookdelivery_changelist"))
    assert response.status_code == 200
    assert b'value="redeliver"' not in response.content


def test_admin_registers_an_endpoint_through_the_service(client, settings):
    settings.SHOP_WEBHOOKS_ALLOW_PRIVATE = False
    client.force_login(StaffUserFactory(roles=[], is_superuser=True))
    add = reverse("admin:notifications_webhookendpoint_add")
    refused = client.post(add, {"url": "https://127.0.0.1/x", "events": ["order.paid"]})
    assert refused.status_code == 200
    assert not WebhookEndpoint.objects.exists()
    client.post(add, {"url": PUBLIC, "events": ["order.paid"], "is_active": "on"})
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.events == ["order.paid"]
    assert len(endpoint.secret) == 64
    change = reverse("admin:notifications_webhookendpoint_change", args=[endpoint.pk])
    assert endpoint.secret.encode() in client.get(change).content  # to set up the receiver
