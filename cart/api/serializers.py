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
    discount = serializers.DecimalField(
        max_digits=12, decimal_places=2, help_text="This line's share of the discount."
    )
    currency = serializers.CharField()
    available = serializers.IntegerField()


VOUCHER_REFUSALS = [
    CartErrorCode.VOUCHER_NOT_FOUND.value,
    CartErrorCode.VOUCHER_EXPIRED.value,
    CartErrorCode.VOUCHER_MIN_SPEND.value,
    CartErrorCode.VOUCHER_USED_UP.value,
    CartErrorCode.VOUCHER_NOT_APPLICABLE.value,
]


class CartWarningSerializer(serializers.Serializer):
    code = serializers.ChoiceField(
        choices=[
            CartErrorCode.PRICE_CHANGED.value,
            InventoryErrorCode.INSUFFICIENT_STOCK.value,
            *VOUCHER_REFUSALS,
        ],
        help_text="A voucher_* code: the voucher applied no longer applies (no line_id).",
    )
    line_id = serializers.IntegerField(required=False)
    sku = serializers.CharField(required=False)
    min_spend = serializers.CharField(required=False)
    detail = serializers.CharField()
    old_price = serializers.CharField(required=False)
    new_price = serializers.CharField(required=False)
    currency = serializers.CharField(required=False)
    available = serializers.IntegerField(required=False)


class VoucherSummarySerializer(serializers.Serializer):
    code = serializers.CharField()
    description = serializers.CharField()


class CartSerializer(serializers.Serializer):
    """Serializes ``cart.selectors.CartSummary``."""

    token = serializers.UUIDField(allow_null=True)
    items = CartLineSerializer(many=True)
    item_count = serializers.IntegerField()
    subtotal = serializers.DecimalField(max_digits=12, decimal_places=2)
    discount_total = serializers.DecimalField(max_digits=12, decimal_places=2)
    shipping_method = serializers.CharField(
        allow_null=True,
        help_text="The cheapest method of the default zone; checkout prices the address's.",
    )
    shipping_total = serializers.DecimalField(max_digits=12, decimal_places=2)
    tax_total = serializers.DecimalField(max_digits=12, decimal_places=2)
    total = serializers.DecimalField(max_digits=12, decimal_places=2)
    voucher = VoucherSummarySerializer(
        allow_null=True, help_text="The voucher or promotion giving the discount, if any."
    )
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


class ApplyVoucherSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=32)
