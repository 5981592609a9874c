"""One test per staff role: what each can and cannot do in the back office (admin)."""

from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.roles import CATALOG_MANAGERS, CUSTOMER_SERVICE, FINANCE, FULFILMENT, INTEGRATIONS
from accounts.tests.factories import StaffUserFactory
from catalog.tests.factories import make_variant
from inventory.models import StockItem
from notifications.webhooks import services as webhooks
from notifications.webhooks.models import WebhookDelivery, WebhookEndpoint
from orders.drafts.tests.factories import ready_draft
from orders.models import OrderStatus
from orders.returns.services import request_return
from orders.tests.factories import fast_gateway, order_in, place, staff_in  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_gateway")]


@pytest.fixture
def shop():
    variant = make_variant(on_hand=10, price=Decimal("20.00"), sku="ROLE-1")
    delivered = order_in(OrderStatus.DELIVERED, items=[(variant, 2)])
    rr = request_return(
        order=delivered, user=delivered.user, lines=[{"sku": "ROLE-1", "quantity": 1}]
    )
    return {
        "variant": variant,
        "item": StockItem.objects.get(variant=variant),
        "order": place(items=[(variant, 1)]),
        "return": rr,
    }


def status(client, name: str, *args, method: str = "get", data=None) -> int:
    url = reverse(f"admin:{name}", args=args)
    response = client.post(url, data or {}) if method == "post" else client.get(url)
    return response.status_code


def groups(client) -> set[str]:
    return {app["name"] for app in client.get(reverse("admin:index")).context["app_list"]}


def test_catalog_managers_edit_the_catalogue_and_import_but_not_orders_or_stock(client, shop):
    client.force_login(StaffUserFactory(roles=[CATALOG_MANAGERS]))
    # Vouchers (Sales), shipping methods to read (Settings), the catalogue and its reviews.
    assert groups(client) == {"Sales", "Catalogue", "Stock", "Settings"}
    assert status(client, "catalog_product_add") == 200
    assert status(client, "catalog_variant_import") == 200
    assert status(client, "inventory_stockitem_export_csv") == 200
    assert status(client, "orders_order_changelist") == 403
    assert status(client, "orders_returnrequest_changelist") == 403
    adjust = {"kind": "found", "quantity": 1, "reason": "x"}
    item = shop["item"].pk
    assert status(client, "inventory_stockitem_adjust", item, method="post", data=adjust) == 403


def test_fulfilment_moves_orders_and_receives_returns_but_does_not_cancel_or_edit(client, shop):
    client.force_login(StaffUserFactory(roles=[FULFILMENT]))
    assert groups(client) == {"Sales", "Catalogue", "Stock"}
    order = shop["order"]
    move = {"to_status": "processing"}
    assert status(client, "orders_order_move", order.pk, method="post", data=move) == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.PROCESSING
    client.post(
        reverse("admin:orders_order_move", args=[order.pk]),
        {"to_status": "cancelled", "confirm": "1"},
    )
    order.refresh_from_db()
    assert order.status == OrderStatus.PROCESSING
    assert status(client, "orders_return_receive", shop["return"].pk, method="post") == 302
    assert status(client, "catalog_product_add") == 403
    assert status(client, "catalog_variant_import") == 403
    assert status(client, "orders_payment_changelist") == 403
    assert status(client, "accounts_user_changelist") == 403


def test_customer_service_cancels_and_sees_customers_but_moves_nothing(client, shop):
    client.force_login(StaffUserFactory(roles=[CUSTOMER_SERVICE]))
    assert groups(client) == {"Sales", "Catalogue", "Customers"}
    assert status(client, "accounts_user_changelist") == 200
    assert status(client, "accounts_user_export_csv") == 200
    assert status(client, "notifications_notification_changelist") == 200
    order = shop["order"]
    client.post(reverse("admin:orders_order_move", args=[order.pk]), {"to_status": "processing"})
    order.refresh_from_db()
    assert order.status == OrderStatus.RECEIVED
    client.post(
        reverse("admin:orders_order_move", args=[order.pk]),
        {"to_status": "cancelled", "confirm": "1"},
    )
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    reject = {"reason": "No"}
    rr = shop["return"].pk
    assert status(client, "orders_return_reject", rr, method="post", data=reject) == 403
    assert status(client, "orders_payment_changelist") == 403


def test_finance_sees_money_decides_returns_and_exports_but_edits_no_catalogue(client, shop):
    client.force_login(StaffUserFactory(roles=[FINANCE]))
    assert groups(client) == {"Sales", "Settings"}  # tax rates and shipping prices
    assert status(client, "orders_payment_changelist") == 200
    assert status(client, "orders_invoice_changelist") == 200
    assert status(client, "orders_order_export_csv") == 200
    page = client.get(reverse("admin:orders_order_change", args=[shop["order"].pk]))
    assert 'id="ws-payments"' in page.content.decode()
    reject = {"reason": "Used"}
    rr = shop["return"].pk
    assert status(client, "orders_return_reject", rr, method="post", data=reject) == 302
    assert status(client, "catalog_product_changelist") == 403
    assert status(client, "inventory_stockitem_changelist") == 403
    order = shop["order"]
    client.post(reverse("admin:orders_order_move", args=[order.pk]), {"to_status": "processing"})
    order.refresh_from_db()
    assert order.status == OrderStatus.RECEIVED


PUBLIC_HOOK = "https://93.184.216.34/hooks"  # a literal public address: no DNS needed


def test_integrations_manage_webhook_endpoints_in_the_admin_and_redeliver(client, settings):
    settings.SHOP_WEBHOOKS_ALLOW_PRIVATE = True
    endpoint = webhooks.create_endpoint(url="http://127.0.0.1:9/hooks", events=["order.created"])
    place()  # its delivery is queued after commit, which a django_db test never reaches
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    client.force_login(StaffUserFactory(roles=[INTEGRATIONS]))
    assert groups(client) == {"Settings"}
    assert status(client, "notifications_webhookendpoint_add") == 200
    assert status(client, "notifications_webhookendpoint_change", endpoint.pk) == 200
    assert status(client, "notifications_webhookendpoint_delete", endpoint.pk) == 200
    assert status(client, "notifications_webhookdelivery_change", delivery.pk) == 200
    changelist = reverse("admin:notifications_webhookdelivery_changelist")
    assert b'value="redeliver"' in client.get(changelist).content
    response = client.post(
        changelist, {"action": "redeliver", "_selected_action": [delivery.pk]}, follow=True
    )
    assert "Queued 1 event(s) for delivery." in response.content.decode()
    assert status(client, "orders_order_changelist") == 403
    assert status(client, "catalog_product_changelist") == 403


def test_integrations_manage_webhook_endpoints_through_the_api(api_client, settings):
    settings.SHOP_WEBHOOKS_ALLOW_PRIVATE = False
    api_client.force_authenticate(StaffUserFactory(roles=[INTEGRATIONS]))
    created = api_client.post(
        "/api/v1/webhooks/", {"url": PUBLIC_HOOK, "events": ["order.paid"]}, format="json"
    )
    assert created.status_code == 201
    url = f"/api/v1/webhooks/{created.json()['id']}/"
    assert api_client.get("/api/v1/webhooks/").json()["count"] == 1
    assert api_client.patch(url, {"events": ["stock.low"]}, format="json").status_code == 200
    assert api_client.delete(url).status_code == 204
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize("role", [CATALOG_MANAGERS, FULFILMENT, CUSTOMER_SERVICE, FINANCE])
def test_the_other_roles_cannot_touch_webhook_endpoints(client, api_client, settings, role):
    settings.SHOP_WEBHOOKS_ALLOW_PRIVATE = True
    endpoint = webhooks.create_endpoint(url="http://127.0.0.1:9/hooks", events=["order.paid"])
    staff = StaffUserFactory(roles=[role])
    client.force_login(staff)
    assert status(client, "notifications_webhookendpoint_changelist") == 403
    assert status(client, "notifications_webhookendpoint_add") == 403
    assert status(client, "notifications_webhookdelivery_changelist") == 403
    api_client.force_authenticate(staff)
    assert api_client.get("/api/v1/webhooks/").status_code == 403
    created = api_client.post(
        "/api/v1/webhooks/", {"url": PUBLIC_HOOK, "events": ["order.paid"]}, format="json"
    )
    assert created.status_code == 403
    assert created.json()["code"] == "permission_denied"
    assert api_client.delete(f"/api/v1/webhooks/{endpoint.pk}/").status_code == 403
    assert WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()


def draft_rights(client) -> tuple[int, bool]:
    """Return what the signed-in staff member may do with a draft order: the builder's status
    code, and whether marking it paid offline worked."""
    draft = ready_draft(staff=staff_in(CUSTOMER_SERVICE))
    builder = reverse("orders:staff-draft", kwargs={"number": draft.number})
    page = client.get(builder).status_code
    client.post(builder, {"action": "paid_offline", "method": "cash", "reference": "R-1"})
    draft.refresh_from_db()
    return page, draft.status == OrderStatus.RECEIVED


@pytest.mark.parametrize(
    ("role", "rights"),
    [
        (CATALOG_MANAGERS, (403, False)),
        (FULFILMENT, (403, False)),
        (CUSTOMER_SERVICE, (200, False)),
        (FINANCE, (200, True)),
    ],
)
def test_customer_service_and_finance_build_draft_orders_and_only_finance_marks_them_paid(
    client, role, rights
):
    client.force_login(staff_in(role))
    assert draft_rights(client) == rights
