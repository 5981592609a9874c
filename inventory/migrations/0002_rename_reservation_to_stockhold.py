"""Glossary rename (issue 11): a cart's time-limited hold of stock is a HOLD.

The table becomes ``inventory_stockhold``; its constraints already say "hold" and keep their
names; the (variant, expires_at) index is renamed to match.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0001_initial"),
        ("inventory", "0001_initial"),
    ]

    operations = [
        migrations.RenameModel(old_name="Reservation", new_name="StockHold"),
        migrations.RenameIndex(
            model_name="stockhold",
            new_name="inventory_hold_var_exp",
            old_name="inventory_res_var_exp",
        ),
    ]
