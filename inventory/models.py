from django.conf import settings
from django.db import models
from django.db.models import Q


def default_low_stock_threshold() -> int:
    return settings.SHOP_LOW_STOCK_THRESHOLD


class StockItem(models.Model):
    """Stock of one variant. ``allocated`` is committed to placed, unshipped orders.

    Only ``inventory.services`` writes these rows; the database guarantees
    ``0 <= allocated <= on_hand``.
    """

    variant = models.OneToOneField(
        "catalog.Variant", on_delete=models.CASCADE, related_name="stock", primary_key=False
    )
    on_hand = models.PositiveIntegerField(default=0)
    allocated = models.PositiveIntegerField(default=0)
    low_stock_threshold = models.PositiveIntegerField(default=default_low_stock_threshold)
    low_stock_alerted = models.BooleanField(
        default=False, help_text="A low-stock alert went out; reset when restocked above threshold."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["variant_id"]
        permissions = [("adjust_stock", "Can adjust stock (restock, correction, damage)")]
        constraints = [
            models.CheckConstraint(condition=Q(on_hand__gte=0), name="inventory_on_hand_gte_0"),
            models.CheckConstraint(condition=Q(allocated__gte=0), name="inventory_allocated_gte_0"),
            models.CheckConstraint(
                condition=Q(allocated__lte=models.F("on_hand")),
                name="inventory_allocated_lte_on_hand",
            ),
        ]

    def __str__(self) -> str:
        variant = self.variant
        name = f"{variant.product.name} {variant.name}".strip()
        return f"{name} ({variant.sku})"


class StockHold(models.Model):
    """A HOLD: a time-limited hold of stock for a cart (identified by the cart's token).

    Not to be confused with an ALLOCATION (``StockItem.allocated``: stock committed to a
    placed order). Expired rows count for nothing even before ``release_expired_holds``
    deletes them. (Called ``Reservation`` before issue 11; the hold time is still the
    ``SHOP_RESERVATION_TTL`` setting.) The rows of one cart share one expiry: a cart has at
    most one hold. ``client_ip`` is the address that started checkout, to bound the carts
    holding stock per client (``SHOP_MAX_HOLDS_PER_IP``).
    """

    variant = models.ForeignKey("catalog.Variant", on_delete=models.CASCADE, related_name="+")
    cart_token = models.UUIDField(db_index=True)
    quantity = models.PositiveIntegerField()
    expires_at = models.DateTimeField(db_index=True)
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["variant", "cart_token"], name="inventory_one_hold_per_variant_cart"
            ),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="inventory_hold_qty_gt_0"),
        ]
        indexes = [
            models.Index(fields=["variant", "expires_at"], name="inventory_hold_var_exp"),
            models.Index(fields=["client_ip", "expires_at"], name="inventory_hold_ip_exp"),
        ]

    def __str__(self) -> str:
        return f"Hold of {self.quantity} x {self.variant_id} until {self.expires_at:%H:%M}"


class MovementReason(models.TextChoices):
    RESTOCK = "restock", "Restock"
    CORRECTION = "correction", "Correction"
    DAMAGE = "damage", "Damage"
    SALE = "sale", "Sale"
    RETURN = "return", "Return"
    CANCEL = "cancel", "Cancel"


class StockMovement(models.Model):
    """Append-only ledger: every change to ``on_hand`` writes one row."""

    variant = models.ForeignKey("catalog.Variant", on_delete=models.CASCADE, related_name="+")
    delta = models.IntegerField()
    reason = models.CharField(max_length=12, choices=MovementReason.choices)
    on_hand_after = models.PositiveIntegerField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    order_number = models.CharField(max_length=32, blank=True, db_index=True)
    note = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["variant", "-created_at"], name="inventory_mov_var_time")]

    def __str__(self) -> str:
        return f"{self.delta:+d} {self.reason} on variant {self.variant_id}"
