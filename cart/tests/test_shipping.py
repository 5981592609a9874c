"""Shipping zones, methods and rate bands: the one rule the cart, the API and checkout use."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from cart.models import ShippingZone
from cart.pricing.shipping import (
    choose_shipping,
    free_shipping_threshold,
    shipping_quotes,
)
from cart.tests.factories import (
    ShippingMethodFactory,
    ShippingRateFactory,
    ShippingZoneFactory,
    default_shipping_method,
)
from catalog.tests.factories import make_variant

pytestmark = pytest.mark.django_db
METHODS = "/api/v1/shipping-methods/"


@pytest.fixture
def europe():
    """Germany and France: standard 4.00 (free from 60.00) and express by weight."""
    default_shipping_method()
    zone = ShippingZoneFactory(name="Europe", countries=["DE", "FR"])
    ShippingMethodFactory(
        zone=zone, code="standard", name="Standard", price="4.00", free_above="60.00"
    )
    express = ShippingMethodFactory(
        zone=zone, code="express", name="Express", price="0.00", min_days=1, max_days=1
    )
    ShippingRateFactory(method=express, max_weight_grams=1000, price="9.00")
    ShippingRateFactory(method=express, min_weight_grams=1000, max_weight_grams=5000, price="15.00")
    return zone


def codes_and_prices(quotes) -> list[tuple[str, Decimal]]:
    return [(q.code, q.price) for q in quotes]


def test_the_seeded_default_zone_keeps_the_old_flat_rate_everywhere():
    zone = ShippingZone.objects.get(is_default=True)
    method = zone.methods.get()
    assert (method.code, method.price, method.free_above) == (
        "standard",
        Decimal("5.00"),
        Decimal("50.00"),
    )
    for country in ("US", "GB", "JP"):
        quotes = shipping_quotes(country=country, subtotal=Decimal("20.00"), weight_grams=0)
        assert codes_and_prices(quotes) == [("standard", Decimal("5.00"))]
    free = shipping_quotes(country="GB", subtotal=Decimal("50.00"), weight_grams=0)
    assert codes_and_prices(free) == [("standard", Decimal("0.00"))]


def test_a_country_listed_in_a_zone_gets_that_zones_methods_priced_by_weight(europe):
    light = shipping_quotes(country="DE", subtotal=Decimal("20.00"), weight_grams=500)
    assert codes_and_prices(light) == [("standard", Decimal("4.00")), ("express", Decimal("9.00"))]
    heavy = shipping_quotes(country="FR", subtotal=Decimal("20.00"), weight_grams=2000)
    assert codes_and_prices(heavy) == [("standard", Decimal("4.00")), ("express", Decimal("15.00"))]


def test_a_method_without_a_band_for_the_weight_does_not_serve_the_cart(europe):
    quotes = shipping_quotes(country="DE", subtotal=Decimal("20.00"), weight_grams=9000)
    assert codes_and_prices(quotes) == [("standard", Decimal("4.00"))]


def test_a_method_is_free_from_its_threshold(europe):
    quotes = shipping_quotes(country="DE", subtotal=Decimal("60.00"), weight_grams=0)
    assert codes_and_prices(quotes)[0] == ("standard", Decimal("0.00"))


def test_subtotal_bands_price_a_method():
    default_shipping_method()
    zone = ShippingZoneFactory(countries=["CA"])
    method = ShippingMethodFactory(zone=zone, code="ground")
    ShippingRateFactory(method=method, max_subtotal="30.00", price="8.00")
    ShippingRateFactory(method=method, min_subtotal="30.00", price="3.00")
    cheap = shipping_quotes(country="CA", subtotal=Decimal("29.99"), weight_grams=0)
    dear = shipping_quotes(country="CA", subtotal=Decimal("30.00"), weight_grams=0)
    assert (cheap[0].price, dear[0].price) == (Decimal("8.00"), Decimal("3.00"))


def test_inactive_methods_are_not_offered(europe):
    europe.methods.filter(code="express").update(is_active=False)
    quotes = shipping_quotes(country="DE", subtotal=Decimal("1.00"), weight_grams=0)
    assert [q.code for q in quotes] == ["standard"]


def test_choosing_a_method_that_does_not_serve_the_country_is_refused(europe):
    with pytest.raises(ValidationError) as error:
        choose_shipping(country="GB", code="express", subtotal=Decimal("1"), weight_grams=0)
    assert "shipping_method" in error.value.message_dict


def test_no_method_given_means_the_cheapest_serving_the_country(europe):
    quote = choose_shipping(country="DE", code=None, subtotal=Decimal("1"), weight_grams=0)
    assert (quote.code, quote.price) == ("standard", Decimal("4.00"))


def test_without_a_default_zone_unlisted_countries_are_not_served(europe):
    ShippingZone.objects.filter(is_default=True).delete()
    assert shipping_quotes(country="GB", subtotal=Decimal("1"), weight_grams=0) == []
    with pytest.raises(ValidationError):
        choose_shipping(country="GB", code=None, subtotal=Decimal("1"), weight_grams=0)


def test_with_no_zone_at_all_the_settings_flat_rate_applies(settings):
    ShippingZone.objects.all().delete()
    settings.SHOP_SHIPPING_FLAT_RATE = "6.50"
    settings.SHOP_FREE_SHIPPING_THRESHOLD = "80.00"
    quotes = shipping_quotes(country="GB", subtotal=Decimal("10"), weight_grams=0)
    assert codes_and_prices(quotes) == [("standard", Decimal("6.50"))]
    assert free_shipping_threshold() == Decimal("80.00")


def test_the_free_shipping_threshold_is_the_default_zones_lowest():
    method = default_shipping_method()
    ShippingMethodFactory(zone=method.zone, code="slow", price="2.00", free_above="40.00")
    ShippingMethodFactory(code="elsewhere", free_above="10.00")  # another zone: not counted
    assert free_shipping_threshold() == Decimal("40.00")


# ------------------------------------------------------------------------------- API


def test_the_api_prices_the_methods_for_the_callers_cart(api_client, europe):
    variant = make_variant(sku="KETTLE", price=Decimal("25.00"), on_hand=9)
    variant.weight_grams = 800
    variant.save()
    response = api_client.post(
        "/api/v1/cart/items/", {"sku": "KETTLE", "quantity": 2}, format="json"
    )
    token = response["X-Cart-Token"]
    response = api_client.get(METHODS, {"country": "de"}, HTTP_X_CART_TOKEN=token)
    assert response.status_code == 200
    assert response.json() == [
        {
            "code": "standard",
            "name": "Standard",
            "price": "4.00",
            "currency": "USD",
            "estimated_days": "2-4",
        },
        {
            "code": "express",
            "name": "Express",
            "price": "15.00",  # 1600 g
            "currency": "USD",
            "estimated_days": "1",
        },
    ]


def test_the_api_prices_an_empty_cart_without_one(api_client, europe):
    response = api_client.get(METHODS, {"country": "GB"})
    assert response.status_code == 200
    assert [(m["code"], m["price"]) for m in response.json()] == [("standard", "5.00")]


@pytest.mark.parametrize("query", [{}, {"country": ""}, {"country": "ZZ"}, {"country": "GBR"}])
def test_the_api_refuses_a_missing_or_unknown_country(api_client, query):
    response = api_client.get(METHODS, query)
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"


@pytest.mark.django_db(transaction=True)
def test_pricing_rules_are_cached_and_every_change_is_seen_at_once(
    settings, django_assert_num_queries
):
    """Shipping, tax and promotions are read by every cart view and checkout: cached with the
    catalogue, and a change to any of them (admin or service) invalidates it once committed."""
    from django.core.cache import cache

    from cart.pricing.models import TaxRate
    from cart.pricing.totals import rates_for
    from cart.pricing.vouchers import active_promotions
    from cart.tests.factories import VoucherFactory

    settings.SHOP_CATALOG_CACHE_SECONDS = 30
    cache.clear()
    zone = ShippingZoneFactory(name="Nordics", countries=["SE"])
    method = ShippingMethodFactory(zone=zone, code="post", name="Post", price="5.00")
    shipping_quotes(country="SE", subtotal=Decimal("10"), weight_grams=0)
    rates_for(country="SE")
    active_promotions()
    with django_assert_num_queries(0):
        quotes = shipping_quotes(country="SE", subtotal=Decimal("10"), weight_grams=0)
        assert codes_and_prices(quotes) == [("post", Decimal("5.00"))]
        assert rates_for(country="SE")[""][0] == Decimal(str(settings.SHOP_TAX_RATE))
        assert active_promotions() == []

    method.price = Decimal("6.50")
    method.save()
    TaxRate.objects.create(country="SE", tax_class="", name="Moms", rate=Decimal("0.25"))
    promotion = VoucherFactory(code="AUTO10", automatic=True)
    quotes = shipping_quotes(country="SE", subtotal=Decimal("10"), weight_grams=0)
    assert codes_and_prices(quotes) == [("post", Decimal("6.50"))]
    assert rates_for(country="SE")[""][0] == Decimal("0.25")
    assert [p.code for p in active_promotions()] == ["AUTO10"]

    promotion.categories.add(make_variant().product.category)
    assert [c.pk for c in active_promotions()[0].categories.all()] == [
        promotion.categories.get().pk
    ]
    method.delete()
    assert shipping_quotes(country="SE", subtotal=Decimal("10"), weight_grams=0) == []
    cache.clear()
