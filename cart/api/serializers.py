from rest_framework import serializers

from cart.errors import CartErrorCode
from cart.models import MAX_LINE_QUANTITY
from inventory.errors import InventoryErrorCode


class CartLineSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    sku = serializers.CharField()
    product_name = serializers.CharField()
    variant_name = serializers.CharField()
    quantity = serializers.IntegerField()
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=2)
    current_price = serializers.DecimalField(max_digits=12, decimal_places=2)
    line_total = serializers.DecimalField(max_digits=12, decimal_places=2)
    currency = serializers.CharField()
    available = serializers.IntegerField()


class CartWarningSerializer(serializers.Serializer):
    code = serializers.ChoiceField(
        choices=[CartErrorCode.PRICE_CHANGED.value, InventoryErrorCode.INSUFFICIENT_STOCK.value]
    )
    line_id = serializers.IntegerField()
    sku = serializers.CharField()
    detail = serializers.CharField()
    old_price = serializers.CharField(required=False)
    new_price = serializers.CharField(required=False)
    currency = serializers.CharField(required=False)
    available = serializers.IntegerField(required=False)


class CartSerializer(serializers.Serializer):
    """Serializes ``cart.selectors.CartSummary``."""

    token = serializers.UUIDField(allow_null=True)
    items = CartLineSerializer(many=True)
    item_count = serializers.IntegerField()
    subtotal = serializers.DecimalField(max_digits=12, decimal_places=2)
    currency = serializers.CharField()
    warnings = CartWarningSerializer(many=True)


class AddItemSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_LINE_QUANTITY)


class SetQuantitySerializer(serializers.Serializer):
    quantity = serializers.IntegerField(min_value=0, max_value=MAX_LINE_QUANTITY)


class MergeSerializer(serializers.Serializer):
    token = serializers.UUIDField()


class ReservationSerializer(serializers.Serializer):
    expires_at = serializers.DateTimeField()


class ShippingMethodSerializer(serializers.Serializer):
    """Serializes ``cart.pricing.shipping.ShippingQuote``."""

    code = serializers.CharField()
    name = serializers.CharField()
    price = serializers.DecimalField(max_digits=12, decimal_places=2)
    currency = serializers.CharField()
    estimated_days = serializers.CharField(help_text='Business days, e.g. "2-4" or "1".')
