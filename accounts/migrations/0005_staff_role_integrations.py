"""Add the fifth staff role, "Integrations": webhook endpoints and their delivery log (README,
"Staff roles").

Integrations register, change and delete webhook endpoints (admin and API), read the
deliveries and their attempts, and redeliver events. No other role holds these. Idempotent,
like ``0002_staff_roles``: the group is created if missing and permissions are (re)added,
never removed.
"""

import importlib

from django.db import migrations

CRUD = ("add", "change", "delete", "view")
_roles = importlib.import_module("accounts.migrations.0002_staff_roles")

ROLES = {
    "Integrations": [
        *(f"notifications.{verb}_webhookendpoint" for verb in CRUD),
        "notifications.view_webhookdelivery",
        "notifications.view_webhookattempt",
        "notifications.redeliver_webhook",
    ],
}


def grant(apps, schema_editor):
    _roles.grant_roles(apps, schema_editor, ROLES)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_staff_roles_pricing_reviews"),
        ("notifications", "0005_webhooks"),
    ]

    # Going back leaves the group: staff may have been put in it since.
    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
