"""factory-boy factories for carts."""

import factory
from factory.django import DjangoModelFactory

from cart.models import Cart, CartLine
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
