"""factory-boy factories for carts and their pricing (shipping zones, methods, rates)."""

from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from cart.models import (
    Cart,
    CartLine,
    ShippingMethod,
    ShippingRate,
    ShippingZone,
    Voucher,
    VoucherKind,
)
from catalog.tests.factories import VariantFactory


class CartFactory(DjangoModelFactory):
    """An open anonymous cart (pass ``user=`` for a signed-in user's cart)."""

    class Meta:
        model = Cart

    user = None


class CartLineFactory(DjangoModelFactory):
    """One line; ``unit_price`` is the variant's current price unless given."""

    class Meta:
        model = CartLine

    cart = factory.SubFactory(CartFactory)
    variant = factory.SubFactory(VariantFactory)
    quantity = 1
    unit_price = factory.LazyAttribute(lambda o: o.variant.price)


class ShippingZoneFactory(DjangoModelFactory):
    """A zone of the given ``countries`` (a list of codes)."""

    class Meta:
        model = ShippingZone

    name = factory.Sequence(lambda n: f"Zone {n}")
    countries = factory.LazyFunction(lambda: ["GB"])


class ShippingMethodFactory(DjangoModelFactory):
    class Meta:
        model = ShippingMethod

    zone = factory.SubFactory(ShippingZoneFactory)
    code = factory.Sequence(lambda n: f"method-{n}")
    name = factory.LazyAttribute(lambda o: o.code.title())
    price = Decimal("5.00")
    min_days = 2
    max_days = 4


class ShippingRateFactory(DjangoModelFactory):
    class Meta:
        model = ShippingRate

    method = factory.SubFactory(ShippingMethodFactory)
    price = Decimal("5.00")


def default_shipping_method() -> ShippingMethod:
    """Return the default zone's ``standard`` method, as the seed migration makes it (flat
    5.00, free from 50.00); made again when a transactional test flushed the seed."""
    zone = ShippingZone.objects.filter(is_default=True).first()
    if zone is None:
        zone = ShippingZone.objects.create(name="Everywhere", is_default=True)
    method, _ = ShippingMethod.objects.get_or_create(
        zone=zone,
        code="standard",
        defaults={"name": "Standard", "price": Decimal("5.00"), "free_above": Decimal("50.00")},
    )
    return method


class VoucherFactory(DjangoModelFactory):
    """A 10 % voucher without limits (``kind``/``value`` to change it)."""

    class Meta:
        model = Voucher

    code = factory.Sequence(lambda n: f"SAVE{n}")
    description = "10% off"
    kind = VoucherKind.PERCENTAGE
    value = Decimal("10.00")
