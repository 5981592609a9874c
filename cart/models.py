import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

# The most of one variant a cart line may hold: the services, the API, the pages and the
# database constraint all use this one number.
MAX_LINE_QUANTITY = 99


class CartStatus(models.TextChoices):
    OPEN = "open", "Open"
    MERGED = "merged", "Merged into a user's cart"
    ORDERED = "ordered", "Turned into an order"
    ABANDONED = "abandoned", "Abandoned"


class Cart(models.Model):
    """A shopping cart of a signed-in user or of an anonymous token holder.

    Every cart has a ``token``; anonymous clients send it back (``X-Cart-Token`` / cookie),
    and stock holds (``inventory.StockHold``) are keyed by it.

    A cart is *in checkout* while ``checkout_order_number`` holds the number of the order
    being placed from it (see ``cart.checkout``); its lines cannot change meanwhile.
    """

    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="carts",
    )
    status = models.CharField(
        max_length=10, choices=CartStatus.choices, default=CartStatus.OPEN, db_index=True
    )
    checkout_order_number = models.CharField(
        max_length=32,
        blank=True,
        help_text="Number of the order being placed; the cart is in checkout while set.",
    )
    checkout_started_at = models.DateTimeField(null=True, blank=True)
    # The stock holds this cart started in the hour from ``holds_started_since``
    # (``cart.services.reserve_cart``: at most SHOP_MAX_HOLDS_PER_CART_PER_HOUR).
    holds_started = models.PositiveSmallIntegerField(default=0)
    holds_started_since = models.DateTimeField(null=True, blank=True)
    # The voucher code the shopper applied (checkout re-validates it; see cart.pricing).
    voucher = models.ForeignKey(
        "cart.Voucher", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)
    # Abandoned-cart reminder (cart.reminders): a guest's email from checkout, and when the
    # one reminder was sent.
    email = models.EmailField(max_length=254, blank=True)
    reminder_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=Q(status="open"), name="cart_one_open_cart_per_user"
            ),
        ]

    def __str__(self) -> str:
        return f"Cart {self.token} ({self.status})"

    @property
    def in_checkout(self) -> bool:
        """Return whether a checkout (live or stale) has started on this cart and not ended."""
        return bool(self.checkout_order_number)


class CartLine(models.Model):
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="lines")
    variant = models.ForeignKey("catalog.Variant", on_delete=models.CASCADE, related_name="+")
    quantity = models.PositiveIntegerField()
    unit_price = models.DecimalField(
        max_digits=12, decimal_places=2, help_text="Price when the line was added (snapshot)."
    )
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["added_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["cart", "variant"], name="cart_one_line_per_variant"),
            models.CheckConstraint(
                condition=Q(quantity__gte=1) & Q(quantity__lte=MAX_LINE_QUANTITY),
                name="cart_line_qty_1_99",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.variant_id}"


class CartReminderOptOut(models.Model):
    """An address that asked for no abandoned-cart reminders (the link in every reminder)."""

    email = models.EmailField(max_length=254, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.email


# Pricing tables belong to the cart app (it prices itself); their code is in cart/pricing/.
from cart.pricing.models import (  # noqa: E402
    ShippingMethod,
    ShippingRate,
    ShippingZone,
    TaxRate,
    Voucher,
    VoucherKind,
    VoucherUse,
)

__all__ = [
    "Cart",
    "CartLine",
    "CartReminderOptOut",
    "CartStatus",
    "ShippingMethod",
    "ShippingRate",
    "ShippingZone",
    "TaxRate",
    "Voucher",
    "VoucherKind",
    "VoucherUse",
]
