"""Reads of carts shared by the API and the HTML pages."""

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import cached_property
from uuid import UUID

from django.conf import settings

from accounts.models import User
from cart.errors import CartErrorCode, VoucherRefused
from cart.models import Cart, CartLine, CartStatus
from cart.pricing.shipping import cart_weight, free_shipping_threshold, shipping_quotes
from cart.pricing.totals import price_cart
from cart.pricing.vouchers import Discount, check_voucher, priced_lines
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
    discount: Decimal = Decimal("0.00")  # this line's share of the cart's discount

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
    # Pricing (cart.pricing): the best discount, shipping by the cheapest method of the
    # default zone (checkout re-prices for the address), tax and the total they make.
    discount_total: Decimal = Decimal("0.00")
    shipping_method: str | None = None
    shipping_total: Decimal = Decimal("0.00")
    tax_total: Decimal = Decimal("0.00")
    total: Decimal = Decimal("0.00")
    voucher: dict | None = None  # {code, description} of the discount applied, if any
    applied_code: str = ""  # the code the shopper applied (even if it no longer applies)

    @property
    def is_empty(self) -> bool:
        return not self.lines

    @property
    def discounted_subtotal(self) -> Decimal:
        return self.subtotal - self.discount_total

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
    subtotal = sum((line.line_total for line in lines), Decimal("0.00"))
    pricing = _price(cart=cart, rows=rows, subtotal=subtotal)
    if pricing.refusal is not None:
        warnings.append(
            {
                "code": str(pricing.refusal.code),
                "detail": pricing.refusal.detail,
                **pricing.refusal.extra,
            }
        )
    if pricing.discount is not None:
        shares = pricing.discount.lines
        lines = [
            replace(line, discount=shares.get(line.variant_id, line.discount)) for line in lines
        ]
    return CartSummary(
        token=cart.token,
        lines=lines,
        item_count=sum(line.quantity for line in lines),
        subtotal=subtotal,
        currency=currency,
        warnings=warnings,
        discount_total=pricing.discount_total,
        shipping_method=pricing.shipping_method,
        shipping_total=pricing.shipping_total,
        tax_total=pricing.tax_total,
        total=pricing.total,
        voucher=pricing.voucher,
        applied_code=cart.voucher.code if cart.voucher_id and cart.voucher else "",
    )


@dataclass(frozen=True)
class _Pricing:
    discount: Discount | None
    discount_total: Decimal
    shipping_method: str | None
    shipping_total: Decimal
    tax_total: Decimal
    total: Decimal
    voucher: dict | None
    refusal: VoucherRefused | None


def _price(*, cart: Cart, rows: Sequence[CartLine], subtotal: Decimal) -> _Pricing:
    """Price the cart as checkout will for the default zone (no address yet)."""
    weight = cart_weight(lines=rows)
    quotes = shipping_quotes(country=None, subtotal=subtotal, weight_grams=weight)
    quote = quotes[0] if quotes else None
    shipping = quote.price if quote else Decimal("0.00")
    lines = priced_lines(rows)
    voucher = cart.voucher if cart.voucher_id else None
    user = cart.user if cart.user_id else None
    email = user.email if user is not None else ""
    refusal = None
    if voucher is not None:
        try:
            check_voucher(voucher=voucher, lines=lines, user=user, email=email)
        except VoucherRefused as exc:
            refusal = exc
    priced = price_cart(
        rows=rows, country=None, shipping=shipping, voucher=voucher, user=user, email=email
    )
    discount = priced.discount if lines else None
    return _Pricing(
        discount=discount,
        discount_total=priced.discount_total,
        shipping_method=quote.code if quote else None,
        shipping_total=priced.shipping_total,
        tax_total=priced.tax_total,
        total=priced.total,
        voucher=(
            {"code": discount.voucher.code, "description": discount.voucher.description}
            if discount is not None
            else None
        ),
        refusal=refusal,
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
