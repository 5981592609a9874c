"""Reads of carts shared by the API and the HTML pages."""

from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from uuid import UUID

from django.conf import settings

from accounts.models import User
from cart.errors import CartErrorCode
from cart.models import Cart, CartLine, CartStatus
from cart.pricing.shipping import free_shipping_threshold
from catalog.selectors import first_image_name
from inventory.errors import InventoryErrorCode
from inventory.selectors import availability
from shop.money import money


@dataclass(frozen=True)
class CartLineSummary:
    id: int
    variant_id: int
    sku: str
    product_name: str
    product_slug: str
    variant_name: str
    quantity: int
    unit_price: Decimal
    current_price: Decimal
    line_total: Decimal
    available: int
    purchasable: bool
    currency: str = ""
    image: str = ""  # storage name of the product's first image ("" if none)
    weight_grams: int = 0  # of one unit (shipping rate bands)

    @property
    def price_changed(self) -> bool:
        return self.unit_price != self.current_price

    @property
    def supplyable(self) -> bool:
        return self.purchasable and self.quantity <= self.available


@dataclass(frozen=True)
class CartSummary:
    """Everything a page or the API shows about a cart (``token`` is None for no cart yet)."""

    token: UUID | None
    lines: list[CartLineSummary] = field(default_factory=list)
    item_count: int = 0
    subtotal: Decimal = Decimal("0.00")
    currency: str = ""
    warnings: list[dict] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not self.lines

    @property
    def items(self) -> list[CartLineSummary]:
        return self.lines

    @property
    def weight_grams(self) -> int:
        return sum(line.weight_grams * line.quantity for line in self.lines)

    @cached_property
    def _free_shipping_threshold(self) -> Decimal | None:
        return free_shipping_threshold()

    @property
    def free_shipping_remaining(self) -> Decimal | None:
        """Return how much more the shopper must spend for free shipping, or None when no
        method of the default zone ships free or the subtotal reaches it."""
        threshold = self._free_shipping_threshold
        if threshold is None or self.subtotal >= threshold:
            return None
        return money(threshold - self.subtotal)

    @property
    def ships_free(self) -> bool:
        """Whether the subtotal reaches the default zone's free-shipping threshold."""
        threshold = self._free_shipping_threshold
        return threshold is not None and self.subtotal >= threshold


def free_shipping_remaining(*, subtotal: Decimal) -> Decimal | None:
    """Return what is missing from ``subtotal`` for free shipping, or None when free
    shipping does not apply (no method of the default zone ships free, or the subtotal
    reaches it). The rule is ``cart.pricing.shipping``, the one checkout prices shipping by."""
    threshold = free_shipping_threshold()
    if threshold is None or subtotal >= threshold:
        return None
    return money(threshold - subtotal)


def cart_lines(*, cart: Cart) -> list[CartLine]:
    """Return the cart's lines with variant and product (one query)."""
    return list(
        CartLine.objects.filter(cart=cart)
        .select_related("variant__product")
        .order_by("added_at", "id")
    )


def _warnings(line: CartLineSummary) -> list[dict]:
    out = []
    if line.price_changed:
        out.append(
            {
                "code": CartErrorCode.PRICE_CHANGED,
                "line_id": line.id,
                "sku": line.sku,
                "old_price": f"{line.unit_price:.2f}",
                "new_price": f"{line.current_price:.2f}",
                "currency": line.currency,
                "detail": (
                    f"The price of {line.product_name} changed from {line.unit_price:.2f} "
                    f"to {line.current_price:.2f}."
                ),
            }
        )
    if not line.supplyable:
        available = line.available if line.purchasable else 0
        out.append(
            {
                "code": InventoryErrorCode.INSUFFICIENT_STOCK,
                "line_id": line.id,
                "sku": line.sku,
                "available": available,
                "detail": (
                    f"{line.product_name} is no longer available."
                    if available == 0
                    else f"Only {available} of {line.product_name} can be supplied."
                ),
            }
        )
    return out


def cart_summary(*, cart: Cart | None) -> CartSummary:
    """Return the summary of ``cart`` that pages and the API show: lines, totals, warnings.

    Two queries whatever the number of lines (lines with variant and product, then
    availability). ``available`` counts this cart's own holds as its own.
    """
    currency = settings.SHOP_CURRENCY
    if cart is None:
        return CartSummary(token=None, currency=currency)
    # The lines as cart_lines() reads them, plus each product's first image for the pages.
    rows = list(
        CartLine.objects.filter(cart=cart)
        .select_related("variant__product")
        .annotate(product_image=first_image_name(product_ref="variant__product_id"))
        .order_by("added_at", "id")
    )
    stock = availability(variant_ids=[r.variant_id for r in rows], cart_token=cart.token)
    lines = []
    for row in rows:
        variant = row.variant
        purchasable = variant.is_purchasable
        lines.append(
            CartLineSummary(
                id=row.pk,
                variant_id=variant.pk,
                sku=variant.sku,
                product_name=variant.product.name,
                product_slug=variant.product.slug,
                variant_name=variant.name,
                quantity=row.quantity,
                unit_price=row.unit_price,
                current_price=variant.price,
                line_total=money(row.unit_price * row.quantity),
                available=stock.get(variant.pk, 0) if purchasable else 0,
                purchasable=purchasable,
                currency=currency,
                image=row.product_image,
                weight_grams=variant.weight_grams,
            )
        )
    warnings = [w for line in lines for w in _warnings(line)]
    return CartSummary(
        token=cart.token,
        lines=lines,
        item_count=sum(line.quantity for line in lines),
        subtotal=sum((line.line_total for line in lines), Decimal("0.00")),
        currency=currency,
        warnings=warnings,
    )


def open_cart_for_user(*, user: User) -> Cart | None:
    """Return the user's open cart, or None."""
    return Cart.objects.filter(user=user, status=CartStatus.OPEN).first()


def open_cart_for_token(*, token: str | UUID | None) -> Cart | None:
    """Return the open anonymous cart with ``token`` (a UUID or string), or None.

    A token that is not a UUID (None, garbage from a cookie or a URL) finds no cart.
    """
    try:
        uuid = UUID(str(token))
    except (TypeError, ValueError, AttributeError):
        return None
    return Cart.objects.filter(token=uuid, status=CartStatus.OPEN, user__isnull=True).first()
