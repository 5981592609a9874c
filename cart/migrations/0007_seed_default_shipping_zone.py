"""Seed the default zone with today's flat rate, so shipping costs what it did before zones:
``SHOP_SHIPPING_FLAT_RATE``, free from ``SHOP_FREE_SHIPPING_THRESHOLD`` (0: never free)."""

from decimal import Decimal

from django.conf import settings
from django.db import migrations


def seed(apps, schema_editor):
    zone_model = apps.get_model("cart", "ShippingZone")
    method_model = apps.get_model("cart", "ShippingMethod")
    if zone_model.objects.exists():
        return
    zone = zone_model.objects.create(name="Everywhere", is_default=True)
    threshold = Decimal(str(settings.SHOP_FREE_SHIPPING_THRESHOLD or 0))
    method_model.objects.create(
        zone=zone,
        code="standard",
        name="Standard",
        price=Decimal(str(settings.SHOP_SHIPPING_FLAT_RATE)),
        free_above=threshold if threshold > 0 else None,
        min_days=3,
        max_days=5,
    )


def unseed(apps, schema_editor):
    apps.get_model("cart", "ShippingZone").objects.filter(
        is_default=True, name="Everywhere"
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("cart", "0006_shipping_zones_methods_rates")]

    operations = [migrations.RunPython(seed, unseed)]
