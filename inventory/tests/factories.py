"""factory-boy factories for inventory rows; other apps import these."""

import uuid
from datetime import timedelta

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from catalog.tests.factories import VariantFactory, give_stock, make_variant
from inventory.models import MovementReason, StockHold, StockItem, StockMovement


class StockItemFactory(DjangoModelFactory):
    """The stock row of a fresh variant (10 on hand by default)."""

    class Meta:
        model = StockItem

    variant = factory.SubFactory(VariantFactory, stock=False)
    on_hand = 10
    allocated = 0


class StockHoldFactory(DjangoModelFactory):
    """An unexpired hold of 1 unit for a new cart token (``expires_at`` in 15 minutes)."""

    class Meta:
        model = StockHold

    variant = factory.SubFactory(VariantFactory)
    cart_token = factory.LazyFunction(uuid.uuid4)
    quantity = 1
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(minutes=15))


class StockMovementFactory(DjangoModelFactory):
    """A ledger row (a +1 restock); does not change the stock row, use services for that."""

    class Meta:
        model = StockMovement

    variant = factory.SubFactory(VariantFactory)
    delta = 1
    reason = MovementReason.RESTOCK
    on_hand_after = 1


__all__ = [
    "StockHoldFactory",
    "StockItemFactory",
    "StockMovementFactory",
    "give_stock",
    "make_variant",
]
