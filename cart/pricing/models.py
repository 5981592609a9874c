"""Shipping zones, their methods and the methods' rate bands (README, "Pricing")."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django_countries.fields import CountryField


def _money(**kwargs) -> models.DecimalField:
    return models.DecimalField(max_digits=12, decimal_places=2, **kwargs)


class ShippingZone(models.Model):
    """A set of countries shipped to alike. The *default* zone serves every country that no
    other zone lists (at most one zone is the default)."""

    name = models.CharField(max_length=100)
    countries = CountryField(multiple=True, blank=True)
    is_default = models.BooleanField(
        default=False, help_text="Serves every country no other zone lists."
    )

    class Meta:
        app_label = "cart"
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="cart_one_default_zone"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ShippingMethod(models.Model):
    """A way to ship to a zone (standard, express, click & collect).

    Priced at ``price`` unless a rate band of the method matches the cart's weight and
    subtotal (then the band's price); free when the subtotal reaches ``free_above``. A method
    with bands and no matching band does not serve the cart.
    """

    zone = models.ForeignKey(ShippingZone, on_delete=models.CASCADE, related_name="methods")
    code = models.SlugField(max_length=32, help_text="Stable code clients send at checkout.")
    name = models.CharField(max_length=100)
    price = _money(default=Decimal("0.00"))
    free_above = _money(
        null=True, blank=True, help_text="Free from this subtotal on (empty: never free)."
    )
    min_days = models.PositiveSmallIntegerField(default=2)
    max_days = models.PositiveSmallIntegerField(default=5)
    is_active = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        app_label = "cart"
        ordering = ["zone", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["zone", "code"], name="cart_shipping_method_code"),
            models.CheckConstraint(
                condition=Q(price__gte=0), name="cart_shipping_method_price_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(max_days__gte=models.F("min_days")),
                name="cart_shipping_method_days_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.zone})"

    @property
    def estimated_days(self) -> str:
        if self.min_days == self.max_days:
            return str(self.min_days)
        return f"{self.min_days}-{self.max_days}"


class ShippingRate(models.Model):
    """A band of a method: this price for carts whose weight (grams) and subtotal fall in the
    band (lower bounds included, upper bounds excluded, empty upper bound = no limit)."""

    method = models.ForeignKey(ShippingMethod, on_delete=models.CASCADE, related_name="rates")
    min_weight_grams = models.PositiveIntegerField(default=0)
    max_weight_grams = models.PositiveIntegerField(null=True, blank=True)
    min_subtotal = _money(default=Decimal("0.00"))
    max_subtotal = _money(null=True, blank=True)
    price = _money()

    class Meta:
        app_label = "cart"
        ordering = ["method", "min_weight_grams", "min_subtotal", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(price__gte=0), name="cart_shipping_rate_price_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.method.code}: {self.price}"

    def matches(self, *, weight_grams: int, subtotal: Decimal) -> bool:
        return (
            self.min_weight_grams <= weight_grams
            and (self.max_weight_grams is None or weight_grams < self.max_weight_grams)
            and self.min_subtotal <= subtotal
            and (self.max_subtotal is None or subtotal < self.max_subtotal)
        )


class VoucherKind(models.TextChoices):
    PERCENTAGE = "percentage", "Percentage off the lines"
    FIXED = "fixed", "Fixed amount off the lines"
    FREE_SHIPPING = "free_shipping", "Free shipping"


class Voucher(models.Model):
    """A discount: by code (shoppers apply it to their cart) or *automatic* (a promotion that
    applies to every cart it fits, without a code). The best applicable one wins; discounts
    never stack (README, "Pricing").

    ``times_used`` counts the orders that used it and never exceeds ``usage_limit`` (a
    constraint; checkout increments it with the voucher row locked). Restricted to
    ``categories``/``products`` when any are set: only those lines are discounted.
    """

    code = models.CharField(
        max_length=32, help_text="Matched case-insensitively; promotions need one too."
    )
    description = models.CharField(max_length=200, blank=True)
    kind = models.CharField(max_length=16, choices=VoucherKind.choices)
    value = _money(
        default=Decimal("0.00"), help_text="Percent (0-100) or amount; unused for free shipping."
    )
    min_spend = _money(null=True, blank=True)
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    usage_limit = models.PositiveIntegerField(null=True, blank=True, help_text="Empty: unlimited.")
    per_customer_limit = models.PositiveIntegerField(
        null=True, blank=True, help_text="Per account or guest email; empty: unlimited."
    )
    times_used = models.PositiveIntegerField(default=0, editable=False)
    active = models.BooleanField(default=True)
    automatic = models.BooleanField(
        default=False, help_text="A promotion: applies without a code to every cart it fits."
    )
    categories = models.ManyToManyField("catalog.Category", blank=True, related_name="+")
    products = models.ManyToManyField("catalog.Product", blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "cart"
        ordering = ["-created_at", "id"]
        constraints = [
            models.UniqueConstraint(Lower("code"), name="cart_voucher_code_ci_unique"),
            models.CheckConstraint(
                condition=Q(usage_limit__isnull=True) | Q(times_used__lte=models.F("usage_limit")),
                name="cart_voucher_never_used_past_its_limit",
            ),
            models.CheckConstraint(
                condition=Q(value__gte=0) & (~Q(kind="percentage") | Q(value__lte=Decimal("100"))),
                name="cart_voucher_value_in_range",
            ),
        ]

    def __str__(self) -> str:
        return self.code


class VoucherUse(models.Model):
    """One order's use of a voucher (guests are counted by email). ``released_at`` is set when
    the order is cancelled or fully refunded: the use no longer counts."""

    voucher = models.ForeignKey(Voucher, on_delete=models.PROTECT, related_name="uses")
    order_number = models.CharField(max_length=32)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    email = models.EmailField()
    used_at = models.DateTimeField(auto_now_add=True)
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        app_label = "cart"
        constraints = [
            models.UniqueConstraint(
                fields=["voucher", "order_number"], name="cart_voucher_use_once"
            ),
        ]
        indexes = [models.Index(fields=["order_number"], name="cart_voucher_use_order")]

    def __str__(self) -> str:
        return f"{self.voucher.code} on {self.order_number}"


class TaxRate(models.Model):
    """The tax rate of a country, for the standard class (``tax_class`` empty) or for the
    products of one tax class (e.g. ``reduced``). A country without a standard row is taxed at
    ``SHOP_TAX_RATE``; a class without its row at the country's standard rate."""

    country = CountryField()
    tax_class = models.SlugField(max_length=32, blank=True)
    name = models.CharField(max_length=60, help_text='Printed per rate, e.g. "VAT 20%".')
    rate = models.DecimalField(max_digits=5, decimal_places=4, help_text="0.2000 for 20 %.")

    class Meta:
        app_label = "cart"
        ordering = ["country", "tax_class"]
        constraints = [
            models.UniqueConstraint(fields=["country", "tax_class"], name="cart_tax_rate_once"),
            models.CheckConstraint(
                condition=Q(rate__gte=0) & Q(rate__lt=1), name="cart_tax_rate_in_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.country.code} {self.tax_class or 'standard'}: {self.rate}"
