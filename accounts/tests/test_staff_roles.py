"""Staff roles: the groups the migration creates and the one staff permission check."""

import pytest
from django.contrib.auth.models import AnonymousUser, Group, Permission
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from accounts.roles import STAFF_ROLES, has_staff_permission
from accounts.tests.factories import StaffUserFactory, UserFactory, permission, staff_role_groups

VIEW_ORDERS = {
    "orders.view_order",
    "orders.view_orderline",
    "orders.view_orderevent",
    "orders.view_shipment",
}
VIEW_RETURNS = {"orders.view_returnrequest", "orders.view_returnline"}
VIEW_STOCK = {"inventory.view_stockitem", "inventory.view_stockmovement"}
VIEW_CATALOG = {"catalog.view_category", "catalog.view_product", "catalog.view_variant"}

#: The README's "Staff roles" table, permission by permission.
EXPECTED = {
    "Catalog managers": {
        f"catalog.{verb}_{model}"
        for model in ("category", "product", "productimage", "variant")
        for verb in ("add", "change", "delete", "view")
    }
    | VIEW_STOCK,
    "Fulfilment": VIEW_ORDERS
    | VIEW_RETURNS
    | VIEW_STOCK
    | VIEW_CATALOG
    | {"orders.view_packingtask", "orders.transition_order", "orders.receive_return"},
    "Customer service": VIEW_ORDERS
    | VIEW_RETURNS
    | VIEW_CATALOG
    | {
        "orders.view_invoice",
        "orders.cancel_order",
        "orders.add_returnrequest",
        "accounts.view_user",
        "accounts.view_address",
        "cart.view_cart",
        "cart.view_cartline",
        "notifications.view_notification",
        "notifications.resend_notification",
    },
    "Finance": VIEW_ORDERS
    | VIEW_RETURNS
    | {
        "orders.view_payment",
        "orders.view_invoice",
        "orders.cancel_order",
        "orders.receive_return",
        "orders.view_sales_dashboard",
    },
}
CRUD = ("add", "change", "delete", "view")
#: What later migrations grant on top (orders 0011: order editing and goodwill refunds;
#: accounts 0004: vouchers, shipping, tax rates, reviews and stock alerts; orders 0015: draft
#: orders and offline payments).
LATER_GRANTS = {
    "Catalog managers": {f"cart.{verb}_voucher" for verb in CRUD}
    | {
        "cart.view_voucheruse",
        "catalog.view_review",
        "catalog.change_review",
        "catalog.delete_review",
        "catalog.view_stockalert",
        "cart.view_shippingzone",
        "cart.view_shippingmethod",
        "cart.view_shippingrate",
    },
    "Customer service": {
        "orders.edit_order",
        "orders.manage_draft_orders",
        "catalog.view_review",
        "catalog.view_stockalert",
        "cart.view_voucher",
        "cart.view_voucheruse",
    },
    "Finance": {
        "orders.edit_order",
        "orders.refund_order",
        "orders.manage_draft_orders",
        "orders.mark_paid_offline",
    }
    | {
        f"cart.{verb}_{model}"
        for model in ("shippingzone", "shippingmethod", "shippingrate", "taxrate")
        for verb in CRUD
    }
    | {"cart.view_voucher", "cart.view_voucheruse"},
    # accounts 0005: the fifth role, webhook endpoints and their delivery log.
    "Integrations": {f"notifications.{verb}_webhookendpoint" for verb in CRUD}
    | {
        "notifications.view_webhookdelivery",
        "notifications.view_webhookattempt",
        "notifications.redeliver_webhook",
    },
}
#: Every role as a fully migrated database has it.
MIGRATED = {
    name: EXPECTED.get(name, set()) | LATER_GRANTS.get(name, set())
    for name in EXPECTED.keys() | LATER_GRANTS.keys()
}
#: Permissions our models declare in Meta.permissions (not created by Django's defaults).
CUSTOM = [
    "transition_order",
    "cancel_order",
    "view_sales_dashboard",
    "receive_return",
    "adjust_stock",
    "resend_notification",
    "redeliver_webhook",
]


def role_permissions() -> dict[str, set[str]]:
    return {
        group.name: {
            f"{p.content_type.app_label}.{p.codename}"
            for p in group.permissions.select_related("content_type")
        }
        for group in Group.objects.filter(name__in=STAFF_ROLES)
    }


def migrate(target: list[tuple[str, str]]) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(target)


@pytest.mark.django_db
def test_migrating_created_the_five_roles_with_their_permissions():
    assert role_permissions() == MIGRATED


@pytest.mark.django_db
def test_no_role_may_adjust_stock_and_fulfilment_may_not_cancel():
    roles = role_permissions()
    assert not any("inventory.adjust_stock" in perms for perms in roles.values())
    assert "orders.cancel_order" not in roles["Fulfilment"]
    assert "orders.transition_order" not in roles["Customer service"] | roles["Finance"]


@pytest.mark.django_db(transaction=True)
def test_the_migration_creates_permissions_and_roles_and_can_run_again():
    executor = MigrationExecutor(connection)
    leaves = executor.loader.graph.leaf_nodes()
    migrate([("accounts", "0001_initial")])
    # As on a database migrated in one go: no post_migrate has created our permissions yet.
    Permission.objects.filter(codename__in=CUSTOM).delete()
    Group.objects.all().delete()

    migrate([("accounts", "0002_staff_roles")])
    assert role_permissions() == EXPECTED

    # Again (a re-run, or a database that already has the groups): nothing is duplicated, and
    # what an operator changed since stays.
    clerk = StaffUserFactory(roles=["Finance"])
    finance = Group.objects.get(name="Finance")
    finance.permissions.add(permission("inventory.adjust_stock"))
    migrate([("accounts", "0001_initial")])
    migrate(leaves)
    assert Group.objects.filter(name__in=STAFF_ROLES).count() == 5
    assert role_permissions()["Finance"] == MIGRATED["Finance"] | {"inventory.adjust_stock"}
    assert list(clerk.groups.all()) == [finance]


@pytest.mark.django_db
def test_staff_hold_what_their_roles_grant_and_nothing_else():
    fulfilment = StaffUserFactory(roles=["Fulfilment"])
    assert has_staff_permission(user=fulfilment, permission="orders.transition_order")
    assert not has_staff_permission(user=fulfilment, permission="orders.cancel_order")
    assert not has_staff_permission(user=fulfilment, permission="inventory.adjust_stock")
    nobody = StaffUserFactory(roles=[])
    assert not has_staff_permission(user=nobody, permission="orders.view_order")


@pytest.mark.django_db
def test_superusers_hold_every_permission():
    root = UserFactory(is_staff=True, is_superuser=True)
    assert has_staff_permission(user=root, permission="inventory.adjust_stock")
    assert has_staff_permission(user=root, permission="orders.cancel_order")


@pytest.mark.django_db
def test_customers_and_inactive_staff_hold_no_staff_permission():
    customer = UserFactory()
    customer.groups.add(*staff_role_groups(STAFF_ROLES))
    assert not has_staff_permission(user=customer, permission="orders.view_order")
    gone = StaffUserFactory(is_active=False)
    assert not has_staff_permission(user=gone, permission="orders.view_order")
    assert not has_staff_permission(user=AnonymousUser(), permission="orders.view_order")


@pytest.mark.django_db
def test_catalog_managers_moderate_reviews_and_run_vouchers_finance_runs_tax_and_shipping(
    client,
):
    from django.urls import reverse

    pages = {
        "catalog managers": ("admin:catalog_review_changelist", "admin:cart_voucher_add"),
        "finance": ("admin:cart_taxrate_add", "admin:cart_shippingzone_add"),
    }
    client.force_login(StaffUserFactory(roles=["Catalog managers"]))
    for name in pages["catalog managers"]:
        assert client.get(reverse(name)).status_code == 200, name
    for name in pages["finance"]:
        assert client.get(reverse(name)).status_code == 403, name
    client.force_login(StaffUserFactory(roles=["Finance"]))
    for name in pages["finance"]:
        assert client.get(reverse(name)).status_code == 200, name
    client.force_login(StaffUserFactory(roles=["Fulfilment"]))
    for name in (*pages["catalog managers"], *pages["finance"]):
        assert client.get(reverse(name)).status_code == 403, name


WEBHOOK_PERMISSIONS = LATER_GRANTS["Integrations"]


@pytest.mark.django_db
def test_only_integrations_hold_the_webhook_permissions():
    roles = role_permissions()
    assert roles["Integrations"] == WEBHOOK_PERMISSIONS
    for name, perms in roles.items():
        if name != "Integrations":
            assert not perms & WEBHOOK_PERMISSIONS, name
