"""Shipping prices: which methods serve a country, and what each costs for a cart.

One rule, read by the cart (free-shipping hint), ``GET /api/v1/shipping-methods/`` and
checkout (``orders.checkout.services``), so they always agree:

- the zone of a country is the zone listing it, else the *default* zone;
- a method costs its ``price``, or the price of its first rate band matching the cart's
  weight and subtotal; a method with bands but no matching band does not serve the cart;
- a method is free when the subtotal reaches its ``free_above``.

While no zone is configured at all (an empty database, before the seed migration's zone),
one ``standard`` method priced by ``SHOP_SHIPPING_FLAT_RATE`` / ``SHOP_FREE_SHIPPING_THRESHOLD``
serves every country, as the shop did before zones existed.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from functools import partial

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Count, Min, Prefetch, Q
from django_countries import countries

from cart.pricing.models import ShippingMethod, ShippingRate, ShippingZone
from catalog.cache import cached
from shop.money import money

STANDARD = "standard"


@dataclass(frozen=True)
class ShippingQuote:
    """A method priced for one cart."""

    code: str
    name: str
    price: Decimal
    currency: str
    estimated_days: str
    free_above: Decimal | None = None


def _fallback_method() -> ShippingMethod:
    threshold = money(str(settings.SHOP_FREE_SHIPPING_THRESHOLD or 0))
    return ShippingMethod(
        code=STANDARD,
        name="Standard",
        price=money(str(settings.SHOP_SHIPPING_FLAT_RATE)),
        free_above=threshold if threshold > 0 else None,
    )


def check_country(country: object) -> str:
    """Return the ISO 3166-1 alpha-2 code ``country`` names (upper-cased), or raise
    ``ValidationError`` keyed by ``country``."""
    code = country.strip().upper() if isinstance(country, str) else ""
    if not code or code not in dict(countries):
        raise ValidationError({"country": ["Enter a valid ISO 3166-1 country code."]})
    return code


def zone_methods(*, country: str | None) -> list[ShippingMethod]:
    """Return the active methods of the zone serving ``country`` (None: the default zone),
    with their rate bands, cheapest position first.

    Cached with the catalogue (``catalog.cache``; every change to a zone, method or rate
    bumps its version: ``cart.receivers``): no query when warm, else two for the default
    zone and three for a country. Every cart view and checkout reads it.
    """
    return cached("shipping-methods", country or "", partial(_zone_methods, country=country))


def _zone_methods(*, country: str | None) -> list[ShippingMethod]:
    rates = Prefetch("rates", queryset=ShippingRate.objects.order_by("min_weight_grams", "id"))
    active = ShippingMethod.objects.filter(is_active=True).prefetch_related(rates)
    if country is None:
        methods = list(active.filter(zone__is_default=True))
        if not methods and not ShippingZone.objects.exists():
            return [_fallback_method()]
        return methods
    zones = list(ShippingZone.objects.prefetch_related(Prefetch("methods", queryset=active)))
    if not zones:
        return [_fallback_method()]
    listed = [z for z in zones if country in {c.code for c in z.countries}]
    zone = listed[0] if listed else next((z for z in zones if z.is_default), None)
    return list(zone.methods.all()) if zone is not None else []


def price_method(*, method: ShippingMethod, subtotal: Decimal, weight_grams: int) -> Decimal | None:
    """Return what ``method`` charges for a cart, or None when it does not serve it."""
    if method.free_above is not None and subtotal >= method.free_above:
        return Decimal("0.00")
    rates = list(method.rates.all()) if method.pk else []
    if not rates:
        return money(method.price)
    for rate in rates:
        if rate.matches(weight_grams=weight_grams, subtotal=subtotal):
            return money(rate.price)
    return None


def shipping_quotes(
    *, country: str | None, subtotal: Decimal, weight_grams: int
) -> list[ShippingQuote]:
    """Return the methods serving ``country`` for this cart, cheapest first."""
    quotes = []
    for method in zone_methods(country=country):
        price = price_method(method=method, subtotal=subtotal, weight_grams=weight_grams)
        if price is not None:
            quotes.append(
                ShippingQuote(
                    code=method.code,
                    name=method.name,
                    price=price,
                    currency=settings.SHOP_CURRENCY,
                    estimated_days=method.estimated_days,
                    free_above=method.free_above,
                )
            )
    return sorted(quotes, key=lambda q: q.price)


def choose_shipping(
    *, country: str | None, code: str | None, subtotal: Decimal, weight_grams: int
) -> ShippingQuote:
    """Return the quote of method ``code`` for the cart shipped to ``country``; the cheapest
    serving it when ``code`` is empty. Raises ``ValidationError`` keyed by
    ``shipping_method`` when that method (or any method) does not serve the address.
    ``country`` None: the default zone."""
    quotes = shipping_quotes(country=country, subtotal=subtotal, weight_grams=weight_grams)
    if code:
        for quote in quotes:
            if quote.code == code:
                return quote
        raise ValidationError(
            {"shipping_method": ["This shipping method does not deliver to this address."]}
        )
    if not quotes:
        raise ValidationError({"shipping_method": ["We do not ship to this address."]})
    return quotes[0]


def cart_weight(*, lines: Iterable) -> int:
    """Return the weight in grams of cart lines (rows with ``variant`` and ``quantity``)."""
    return sum(line.variant.weight_grams * line.quantity for line in lines)


def free_shipping_threshold() -> Decimal | None:
    """Return the lowest subtotal from which an active method of the default zone ships
    free, or None when none does (one query)."""
    found = ShippingZone.objects.aggregate(
        zones=Count("id", distinct=True),
        threshold=Min("methods__free_above", filter=Q(is_default=True, methods__is_active=True)),
    )
    if not found["zones"]:
        return _fallback_method().free_above
    return found["threshold"]
