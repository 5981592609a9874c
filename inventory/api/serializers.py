"""Shapes of the staff inventory API."""

from rest_framework import serializers

from inventory.models import MovementReason, StockItem, StockMovement
from inventory.selectors import is_low_stock
from inventory.services import ADJUST_REASONS


class StockRowSerializer(serializers.ModelSerializer):
    """A stock row; expects ``inventory.selectors.with_available`` annotations."""

    sku = serializers.CharField(source="variant.sku", read_only=True)
    product_name = serializers.CharField(source="variant.product.name", read_only=True)
    variant_name = serializers.CharField(source="variant.name", read_only=True)
    # The API contract's name for the quantity in cart holds (``held``).
    reserved = serializers.IntegerField(source="held", read_only=True)
    available = serializers.IntegerField(read_only=True)
    is_low = serializers.SerializerMethodField()

    class Meta:
        model = StockItem
        fields = [
            "sku",
            "product_name",
            "variant_name",
            "on_hand",
            "allocated",
            "reserved",
            "available",
            "low_stock_threshold",
            "is_low",
        ]
        read_only_fields = fields

    def get_is_low(self, obj: StockItem) -> bool:
        return is_low_stock(available=obj.available, threshold=obj.low_stock_threshold)


class AdjustSerializer(serializers.Serializer):
    delta = serializers.IntegerField(min_value=-(10**9), max_value=10**9)
    reason = serializers.ChoiceField(
        choices=[(r.value, r.label) for r in MovementReason if r in ADJUST_REASONS]
    )
    note = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")

    def validate_delta(self, value: int) -> int:
        if value == 0:
            raise serializers.ValidationError("The change must not be zero.")
        return value


class MovementSerializer(serializers.ModelSerializer):
    by = serializers.SerializerMethodField()
    order = serializers.SerializerMethodField()

    class Meta:
        model = StockMovement
        fields = ["delta", "reason", "on_hand_after", "created_at", "by", "order", "note"]
        read_only_fields = fields

    def get_by(self, obj: StockMovement) -> str | None:
        return obj.user.email if obj.user_id else None

    def get_order(self, obj: StockMovement) -> str | None:
        return obj.order_number or None
