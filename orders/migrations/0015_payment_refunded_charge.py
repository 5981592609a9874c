"""Payment.refunded_charge: the charge each refund row refunds.

Until now every refund went to the order's first successful charge, so existing refund rows
are linked to it (rows without an order, the refunds of dead checkouts, stay unlinked).
"""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def link_refunds_to_first_charge(apps, schema_editor):
    Payment = apps.get_model("orders", "Payment")
    first_charge = (
        Payment.objects.filter(order=OuterRef("order"), kind="charge", result="succeeded")
        .order_by("id")
        .values("pk")[:1]
    )
    Payment.objects.filter(
        kind="refund", order__isnull=False, refunded_charge__isnull=True
    ).update(refunded_charge=Subquery(first_charge))


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0014_tax_per_line_and_rate"),
    ]

    operations = [
        migrations.AddField(
            model_name="payment",
            name="refunded_charge",
            field=models.ForeignKey(
                blank=True,
                limit_choices_to={"kind": "charge"},
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="refunds",
                to="orders.payment",
            ),
        ),
        migrations.RunPython(link_refunds_to_first_charge, migrations.RunPython.noop),
    ]
