"""Vouchers and automatic promotions: which one a cart gets, and what it takes off.

One discount machinery for both: a *voucher* is applied by its code (``apply_voucher``), a
*promotion* is a voucher marked ``automatic`` that every cart it fits gets without a code.
``best_discount`` weighs the applied voucher and every fitting promotion and keeps the one
worth most to the shopper; discounts never stack.

How a discount is spread over the lines (so a partial return refunds what was paid):

- ``percentage``: each eligible line loses ``value`` % of its total, rounded to the cent
  (half up) *per line*;
- ``fixed``: ``min(value, eligible subtotal)`` is shared among the eligible lines in
  proportion to their totals, rounded down to the cent, the cents left over going to the
  lines with the largest remainders (ties: first line first), so the shares add up exactly;
- ``free_shipping``: no line discount; shipping costs nothing.

Eligible lines are every line, or only those of the voucher's ``products``/``categories``.

Usage: ``cart.pricing.services.redeem_voucher`` (called by checkout, in its first transaction) locks the voucher
row, re-checks the total and per-customer limits, raises ``times_used`` and records a
``VoucherUse`` for the order; a database constraint keeps ``times_used <= usage_limit``.
``release_voucher_use`` (same module; a cancelled, fully refunded or abandoned order) gives it back.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_DOWN, Decimal

from django.db.models import Prefetch, Q
from django.db.models.functions import Lower
from django.utils import timezone

from accounts.models import User
from cart.errors import (
    VoucherExpired,
    VoucherMinSpend,
    VoucherNotApplicable,
    VoucherNotFound,
    VoucherRefused,
    VoucherUsedUp,
)
from cart.pricing.models import Voucher, VoucherKind, VoucherUse
from catalog.cache import cached
from catalog.models import Category, Product
from shop.money import CENTS, money


@dataclass(frozen=True)
class PricedLine:
    """A line as discounts see it: ``key`` identifies it (the variant id)."""

    key: int
    product_id: int
    category_id: int | None
    line_total: Decimal


@dataclass(frozen=True)
class Discount:
    """What one voucher takes off a cart: per line (by key), and maybe the shipping."""

    voucher: Voucher
    lines: dict[int, Decimal] = field(default_factory=dict)
    free_shipping: bool = False

    @property
    def lines_total(self) -> Decimal:
        return sum(self.lines.values(), Decimal("0.00"))

    def worth(self, *, shipping: Decimal) -> Decimal:
        """Return what the shopper saves, shipping included."""
        return self.lines_total + (shipping if self.free_shipping else Decimal("0.00"))


def priced_lines(rows: Sequence) -> list[PricedLine]:
    """Return ``PricedLine``s of cart lines (rows with ``variant__product`` loaded)."""
    return [
        PricedLine(
            key=row.variant_id,
            product_id=row.variant.product_id,
            category_id=row.variant.product.category_id,
            line_total=money(row.unit_price * row.quantity),
        )
        for row in rows
    ]


def _restrictions(voucher: Voucher) -> tuple[set[int], set[int]]:
    return (
        {p.pk for p in voucher.products.all()},
        {c.pk for c in voucher.categories.all()},
    )


def eligible_lines(voucher: Voucher, lines: Sequence[PricedLine]) -> list[PricedLine]:
    """Return the lines ``voucher`` discounts (all, unless it is restricted)."""
    products, categories = _restrictions(voucher)
    if not products and not categories:
        return list(lines)
    return [ln for ln in lines if ln.product_id in products or ln.category_id in categories]


def _spread(amount: Decimal, lines: Sequence[PricedLine]) -> dict[int, Decimal]:
    """Share ``amount`` among ``lines`` by their totals, to the cent, adding up exactly."""
    base = sum((ln.line_total for ln in lines), Decimal("0"))
    if base <= 0 or amount <= 0:
        return {}
    raw = [(ln, amount * ln.line_total / base) for ln in lines]
    shares = {ln.key: r.quantize(CENTS, rounding=ROUND_DOWN) for ln, r in raw}
    left = int((amount - sum(shares.values())) / CENTS)
    by_remainder = sorted(
        enumerate(raw), key=lambda item: (-(item[1][1] - shares[item[1][0].key]), item[0])
    )
    for _, (ln, _r) in by_remainder[:left]:
        shares[ln.key] += CENTS
    return shares


def compute_discount(*, voucher: Voucher, lines: Sequence[PricedLine]) -> Discount:
    """Return what ``voucher`` takes off ``lines`` (see the module docstring)."""
    if voucher.kind == VoucherKind.FREE_SHIPPING:
        return Discount(voucher=voucher, free_shipping=True)
    eligible = eligible_lines(voucher, lines)
    if voucher.kind == VoucherKind.PERCENTAGE:
        rate = voucher.value / Decimal(100)
        return Discount(
            voucher=voucher, lines={ln.key: money(ln.line_total * rate) for ln in eligible}
        )
    base = sum((ln.line_total for ln in eligible), Decimal("0.00"))
    return Discount(voucher=voucher, lines=_spread(min(money(voucher.value), base), eligible))


def customer_uses(*, voucher: Voucher, user: User | None, email: str) -> int:
    """Return how many orders of this customer (account, or email for guests) count against
    the voucher's per-customer limit."""
    who = Q()
    if user is not None:
        who |= Q(user=user)
    if email:
        who |= Q(email__iexact=email)
    if not who:
        return 0
    return VoucherUse.objects.filter(who, voucher=voucher, released_at__isnull=True).count()


def check_voucher(
    *,
    voucher: Voucher,
    lines: Sequence[PricedLine],
    user: User | None = None,
    email: str = "",
    now: datetime | None = None,
) -> None:
    """Raise the refusal that keeps ``voucher`` off these lines, or return None.

    In this order: inactive (``VoucherNotFound``), outside its window (``VoucherExpired``),
    used up in total or by this customer (``VoucherUsedUp``; the customer is ``user`` and/or
    ``email``), below ``min_spend`` (``VoucherMinSpend`` with ``min_spend``), nothing eligible
    (``VoucherNotApplicable``). Reads only; checkout re-checks the limits under a row lock.
    """
    now = now or timezone.now()
    if not voucher.active:
        raise VoucherNotFound()
    if voucher.starts_at and now < voucher.starts_at:
        raise VoucherExpired("This voucher is not valid yet.")
    if voucher.ends_at and now >= voucher.ends_at:
        raise VoucherExpired("This voucher has expired.")
    if voucher.usage_limit is not None and voucher.times_used >= voucher.usage_limit:
        raise VoucherUsedUp()
    if voucher.per_customer_limit is not None and (
        customer_uses(voucher=voucher, user=user, email=email) >= voucher.per_customer_limit
    ):
        raise VoucherUsedUp("You have already used this voucher.")
    subtotal = sum((ln.line_total for ln in lines), Decimal("0.00"))
    if voucher.min_spend is not None and subtotal < voucher.min_spend:
        raise VoucherMinSpend(
            f"Spend at least {voucher.min_spend:.2f} to use this voucher.",
            min_spend=f"{voucher.min_spend:.2f}",
        )
    if voucher.kind != VoucherKind.FREE_SHIPPING and not eligible_lines(voucher, lines):
        raise VoucherNotApplicable()


def find_voucher(*, code: object) -> Voucher:
    """Return the active voucher with ``code`` (any case), or raise ``VoucherNotFound``."""
    if not isinstance(code, str) or not code.strip() or len(code.strip()) > 32:
        raise VoucherNotFound()
    voucher = (
        Voucher.objects.filter(active=True)
        .annotate(code_lower=Lower("code"))
        .filter(code_lower=code.strip().lower())
        .first()
    )
    if voucher is None:
        raise VoucherNotFound()
    return voucher


def active_promotions() -> list[Voucher]:
    """Return the active automatic promotions with their restrictions (the ids of their
    products and categories).

    Cached with the catalogue (a voucher change bumps its version: ``cart.receivers``; uses
    are counted with ``.update()`` and re-checked under the voucher's lock at checkout,
    ``redeem_voucher``): no query when warm, else three.
    """
    return cached("promotions", "", _active_promotions)


def _active_promotions() -> list[Voucher]:
    return list(
        Voucher.objects.filter(automatic=True, active=True).prefetch_related(
            Prefetch("products", queryset=Product.objects.only("id")),
            Prefetch("categories", queryset=Category.objects.only("id")),
        )
    )


def best_discount(
    *,
    voucher: Voucher | None,
    lines: Sequence[PricedLine],
    shipping: Decimal,
    user: User | None = None,
    email: str = "",
    strict: bool = False,
    promotions: Sequence[Voucher] | None = None,
) -> Discount | None:
    """Return the discount worth most among the applied ``voucher`` and the promotions that
    fit (``promotions``: ``active_promotions()`` when None), or None.

    ``strict`` (checkout): the applied voucher's refusal is raised rather than ignored. Ties
    go to the applied voucher, then to the older promotion.
    """
    now = timezone.now()
    candidates: list[Discount] = []
    if voucher is not None:
        try:
            check_voucher(voucher=voucher, lines=lines, user=user, email=email, now=now)
        except VoucherRefused:
            if strict:
                raise
        else:
            candidates.append(compute_discount(voucher=voucher, lines=lines))
    for promotion in promotions if promotions is not None else active_promotions():
        if voucher is not None and promotion.pk == voucher.pk:
            continue
        try:
            check_voucher(voucher=promotion, lines=lines, user=user, email=email, now=now)
        except VoucherRefused:
            continue
        candidates.append(compute_discount(voucher=promotion, lines=lines))
    best: Discount | None = None
    for candidate in candidates:
        worth = candidate.worth(shipping=shipping)
        if worth > 0 and (best is None or worth > best.worth(shipping=shipping)):
            best = candidate
    return best
