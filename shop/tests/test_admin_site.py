"""The back office's admin site: branding, task groups, library tables for superusers only."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from accounts.roles import FULFILMENT
from accounts.tests.factories import StaffUserFactory
from shop.admin_site import LIBRARY, group_of

pytestmark = pytest.mark.django_db


def group_names(response) -> list[str]:
    return [app["name"] for app in response.context["app_list"]]


def test_admin_is_branded_with_the_shop_name(client, settings):
    settings.SHOP_NAME = "Fjell Outfitters"
    client.force_login(StaffUserFactory(is_superuser=True))
    page = client.get(reverse("admin:index")).content.decode()
    assert "Fjell Outfitters back office" in page
    assert "<title>Back office | Fjell Outfitters</title>" in page


def test_index_groups_models_by_the_staffs_tasks(client):
    client.force_login(StaffUserFactory(is_superuser=True))
    response = client.get(reverse("admin:index"))
    assert group_names(response) == [
        "Sales",
        "Catalogue",
        "Stock",
        "Customers",
        "Settings",
        LIBRARY,
    ]
    models = {
        app["name"]: {m["object_name"] for m in app["models"]}
        for app in response.context["app_list"]
    }
    assert {"Order", "ReturnRequest", "PackingTask"} <= models["Sales"]
    assert {"Product", "Variant", "Category"} <= models["Catalogue"]
    assert "StockItem" in models["Stock"]
    assert {"User", "Address"} <= models["Customers"]
    assert "Group" in models["Settings"]
    assert {"AccessAttempt", "OutstandingToken", "DBTaskResult"} <= models[LIBRARY]


def test_library_tables_are_hidden_from_staff_and_closed_to_them(client):
    staff = StaffUserFactory(roles=[FULFILMENT])
    staff.user_permissions.add(*Permission.objects.filter(content_type__app_label="axes"))
    client.force_login(staff)
    response = client.get(reverse("admin:index"))
    assert LIBRARY not in group_names(response)
    assert "Sales" in group_names(response)
    assert client.get(reverse("admin:axes_accessattempt_changelist")).status_code == 403


def test_addresses_are_named_correctly(client):
    client.force_login(StaffUserFactory(is_superuser=True))
    page = client.get(reverse("admin:index")).content.decode()
    assert "Addresses" in page
    assert "Addresss" not in page


def test_unknown_models_fall_back_to_settings():
    assert group_of(app_label="webhooks", object_name="Endpoint") == "Settings"
    assert group_of(app_label="orders", object_name="Anything") == "Sales"


def test_daily_work_comes_first_in_its_group(client):
    client.force_login(StaffUserFactory(is_superuser=True))
    sales = client.get(reverse("admin:index")).context["app_list"][0]
    assert [m["object_name"] for m in sales["models"]][:3] == [
        "Order",
        "ReturnRequest",
        "PackingTask",
    ]
