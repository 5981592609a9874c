"""Create the staff roles as groups with their model permissions (README, "Staff roles").

Idempotent: a group that exists keeps its members and any permission an operator added; the
permissions listed here are (re)added. Permissions are normally created by a post_migrate
signal, after every migration has run, so this one creates them first.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

CRUD = ("add", "change", "delete", "view")
CATALOG = [
    f"catalog.{verb}_{model}"
    for model in ("category", "product", "productimage", "variant")
    for verb in CRUD
]
VIEW_CATALOG = ["catalog.view_category", "catalog.view_product", "catalog.view_variant"]
VIEW_STOCK = ["inventory.view_stockitem", "inventory.view_stockmovement"]
VIEW_ORDERS = [
    "orders.view_order",
    "orders.view_orderline",
    "orders.view_orderevent",
    "orders.view_shipment",
]
VIEW_RETURNS = ["orders.view_returnrequest", "orders.view_returnline"]

ROLES = {
    "Catalog managers": [*CATALOG, *VIEW_STOCK],
    "Fulfilment": [
        *VIEW_ORDERS,
        "orders.view_packingtask",
        "orders.transition_order",
        *VIEW_RETURNS,
        "orders.receive_return",
        *VIEW_STOCK,
        *VIEW_CATALOG,
    ],
    "Customer service": [
        *VIEW_ORDERS,
        "orders.view_invoice",
        "orders.cancel_order",
        *VIEW_RETURNS,
        "orders.add_returnrequest",
        "accounts.view_user",
        "accounts.view_address",
        "cart.view_cart",
        "cart.view_cartline",
        "notifications.view_notification",
        "notifications.resend_notification",
        *VIEW_CATALOG,
    ],
    "Finance": [
        *VIEW_ORDERS,
        "orders.view_payment",
        "orders.view_invoice",
        "orders.cancel_order",
        *VIEW_RETURNS,
        "orders.receive_return",
        "orders.view_sales_dashboard",
    ],
}


def grant_roles(apps, schema_editor, roles: dict[str, list[str]]) -> None:
    """Create the groups ``roles`` names and add them the permissions listed (idempotent)."""
    using = schema_editor.connection.alias if schema_editor else "default"
    for app_label in {label.split(".")[0] for labels in roles.values() for label in labels}:
        app_config = apps.get_app_config(app_label)
        # create_permissions skips app configs without a models module, which migration
        # state app configs never have.
        models_module = getattr(app_config, "models_module", None)
        app_config.models_module = models_module or True
        create_permissions(app_config, apps=apps, verbosity=0, using=using)
        app_config.models_module = models_module
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, labels in roles.items():
        permissions = []
        for label in labels:
            app_label, codename = label.split(".")
            permissions.append(
                Permission.objects.using(using).get(
                    content_type__app_label=app_label, codename=codename
                )
            )
        group, _ = Group.objects.using(using).get_or_create(name=name)
        group.permissions.add(*permissions)


def create_staff_roles(apps, schema_editor):
    grant_roles(apps, schema_editor, ROLES)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("cart", "0003_rename_checkout_reference_checkout_order_number"),
        ("catalog", "0001_initial"),
        ("inventory", "0004_stockitem_adjust_stock_permission"),
        ("notifications", "0001_notification_outbox"),
        ("orders", "0005_order_staff_permissions"),
    ]

    # Going back leaves the groups: staff may have been put in them since.
    operations = [migrations.RunPython(create_staff_roles, migrations.RunPython.noop)]
