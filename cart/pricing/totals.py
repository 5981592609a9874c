"""How a cart's or an order's total is made, in one place for the cart, the checkout page,
checkout, invoices and refunds (README, "Pricing").

- ``discount``: the best voucher or promotion (``cart.pricing.vouchers``), spread per line;
- tax per line: each line's tax is its rate (country and the product's tax class,
  ``rates_for``) times what is paid for it (``line_total - discount``), **rounded to the cent
  per line** (half up); shipping is a line of its own at the standard rate;
- ``SHOP_PRICES_INCLUDE_TAX`` false (US style): ``total = subtotal - discount + shipping +
  tax``; true (EU style): prices already hold their tax, ``tax = paid * rate / (1 + rate)``
  per line and ``total = subtotal - discount + shipping``;
- tax per rate (``tax_lines``): the lines' taxes summed by rate, so they add up to the total.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial

from django.conf import settings

from accounts.models import User
from cart.pricing.models import TaxRate, Voucher
from cart.pricing.vouchers import Discount, best_discount, priced_lines
from catalog.cache import cached
from shop.money import money

STANDARD = ""
ZERO = Decimal("0.00")


def tax_rate() -> Decimal:
    """Return the standard rate where no ``TaxRate`` row says otherwise (``SHOP_TAX_RATE``)."""
    return Decimal(str(getattr(settings, "SHOP_TAX_RATE", 0)))


def prices_include_tax() -> bool:
    return bool(getattr(settings, "SHOP_PRICES_INCLUDE_TAX", False))


def rates_for(*, country: str | None) -> dict[str, tuple[Decimal, str]]:
    """Return ``{tax_class: (rate, name)}`` for ``country`` (one query, none when cached;
    None: no query), with the standard class always present."""
    rates = {}
    if country:
        rates = cached("tax-rates", country, partial(_country_rates, country))
    if STANDARD not in rates:
        rate = tax_rate()
        rates[STANDARD] = (rate, f"Tax {rate * 100:g}%")
    return rates


def _country_rates(country: str) -> dict[str, tuple[Decimal, str]]:
    # Cached with the catalogue (a TaxRate change bumps its version: ``cart.receivers``).
    return {r.tax_class: (r.rate, r.name) for r in TaxRate.objects.filter(country=country)}


def line_tax(*, paid: Decimal, rate: Decimal, included: bool | None = None) -> Decimal:
    """Return the tax of one line paid ``paid``, rounded to the cent (half up)."""
    included = prices_include_tax() if included is None else included
    if included:
        return money(paid * rate / (1 + rate))
    return money(paid * rate)


def order_totals(
    *, subtotal: Decimal, discount_total: Decimal = ZERO, shipping: Decimal
) -> tuple[Decimal, Decimal, Decimal]:
    """Return ``(shipping_total, tax_total, total)`` at the standard rate, the goods as one
    line and shipping as another (a cart of one tax class without a country)."""
    rate = tax_rate()
    shipping = money(shipping)
    paid = money(subtotal) - money(discount_total)
    tax = line_tax(paid=paid, rate=rate) + line_tax(paid=shipping, rate=rate)
    total = paid + shipping + (ZERO if prices_include_tax() else tax)
    return shipping, tax, money(total)


@dataclass(frozen=True)
class PricedCart:
    """A cart priced for checkout: lines keyed by variant id."""

    subtotal: Decimal
    discount: Discount | None
    discount_total: Decimal
    shipping_total: Decimal
    tax_total: Decimal
    total: Decimal
    line_discounts: dict[int, Decimal] = field(default_factory=dict)
    line_taxes: dict[int, tuple[Decimal, Decimal]] = field(default_factory=dict)  # (rate, tax)
    tax_lines: list[dict] = field(default_factory=list)
    prices_include_tax: bool = False


def price_cart(
    *,
    rows: Sequence,
    country: str | None,
    shipping: Decimal,
    voucher: Voucher | None,
    user: User | None = None,
    email: str = "",
    strict: bool = False,
    promotions: Sequence[Voucher] | None = None,
) -> PricedCart:
    """Price cart lines (rows with ``variant__product``) shipped to ``country`` (None: the
    standard rate only) by a method costing ``shipping``, with the best discount.

    ``strict``: the voucher's refusal is raised (checkout). Reads only.
    """
    lines = priced_lines(rows)
    subtotal = money(sum((ln.line_total for ln in lines), ZERO))
    discount = best_discount(
        voucher=voucher,
        lines=lines,
        shipping=shipping,
        user=user,
        email=email,
        strict=strict,
        promotions=promotions,
    )
    shares = discount.lines if discount is not None else {}
    if discount is not None and discount.free_shipping:
        shipping = ZERO
    shipping = money(shipping)
    included = prices_include_tax()
    rates = rates_for(country=country)
    by_rate: dict[tuple[Decimal, str], list[Decimal]] = {}
    line_taxes = {}

    def tax_of(paid: Decimal, tax_class: str) -> tuple[Decimal, Decimal]:
        rate, name = rates.get(tax_class) or rates[STANDARD]
        tax = line_tax(paid=paid, rate=rate, included=included)
        bucket = by_rate.setdefault((rate, name), [ZERO, ZERO])
        bucket[0] += paid
        bucket[1] += tax
        return rate, tax

    for row, ln in zip(rows, lines, strict=True):
        paid = ln.line_total - shares.get(ln.key, ZERO)
        line_taxes[ln.key] = tax_of(paid, row.variant.product.tax_class)
    if shipping:
        tax_of(shipping, STANDARD)
    tax_total = money(sum((b[1] for b in by_rate.values()), ZERO))  # shipping's included
    discount_total = money(sum(shares.values(), ZERO))
    paid = subtotal - discount_total + shipping
    return PricedCart(
        subtotal=subtotal,
        discount=discount,
        discount_total=discount_total,
        shipping_total=shipping,
        tax_total=tax_total,
        total=money(paid if included else paid + tax_total),
        line_discounts=dict(shares),
        line_taxes=line_taxes,
        tax_lines=[
            {
                "rate": f"{rate:.4f}",
                "name": name,
                "taxable": f"{taxable:.2f}",
                "tax": f"{tax:.2f}",
            }
            for (rate, name), (taxable, tax) in sorted(by_rate.items(), key=lambda kv: kv[0][0])
            if tax or rate
        ],
        prices_include_tax=included,
    )
