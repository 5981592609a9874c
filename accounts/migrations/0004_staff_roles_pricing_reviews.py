"""Give the staff roles the models added since the roles were created (README, "Staff roles").

Catalog managers run vouchers and promotions and moderate reviews; Finance runs tax rates and
shipping prices; Customer service reads reviews, vouchers and back-in-stock alerts to answer
shoppers. Idempotent, like ``0002_staff_roles``: permissions are (re)added, never removed.
"""

import importlib

from django.db import migrations

CRUD = ("add", "change", "delete", "view")
_roles = importlib.import_module("accounts.migrations.0002_staff_roles")

VOUCHERS = [f"cart.{verb}_voucher" for verb in CRUD] + ["cart.view_voucheruse"]
SHIPPING_AND_TAX = [
    f"cart.{verb}_{model}"
    for model in ("shippingzone", "shippingmethod", "shippingrate", "taxrate")
    for verb in CRUD
]
ROLES = {
    "Catalog managers": [
        *VOUCHERS,
        "catalog.view_review",
        "catalog.change_review",
        "catalog.delete_review",
        "catalog.view_stockalert",
        "cart.view_shippingzone",
        "cart.view_shippingmethod",
        "cart.view_shippingrate",
    ],
    "Customer service": [
        "catalog.view_review",
        "catalog.view_stockalert",
        "cart.view_voucher",
        "cart.view_voucheruse",
    ],
    "Finance": [*SHIPPING_AND_TAX, "cart.view_voucher", "cart.view_voucheruse"],
}


def grant(apps, schema_editor):
    _roles.grant_roles(apps, schema_editor, ROLES)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_address_plural_name"),
        ("cart", "0009_tax_rates"),
        ("catalog", "0008_product_tax_class"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
