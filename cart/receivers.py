"""The cart listens to sign-ins to merge the browser's guest cart into the user's cart, and
to changes of its pricing rules (shipping, tax, promotions), which are cached with the
catalogue (``catalog.cache``): any save or delete bumps the catalogue version."""

from cart.services import merge_cart_on_login
from catalog.cache import bump_catalog_version

CART_COOKIE = "cart_token"


def merge_cart_after_login(sender, request, user, **kwargs) -> None:
    """Merge the ``cart_token`` cookie's cart into the signed-in user's cart."""
    if request is None:
        return
    merge_cart_on_login(user=user, token=request.COOKIES.get(CART_COOKIE))


def pricing_rules_changed(sender, **kwargs) -> None:
    """A shipping zone, method or rate, a tax rate or a voucher changed (after commit: the
    version bump waits for the transaction)."""
    if not kwargs.get("raw"):
        bump_catalog_version(using=kwargs.get("using"))


def connect() -> None:
    """Connect the pricing receivers (called once, from ``CartConfig.ready()``)."""
    from django.db.models.signals import m2m_changed, post_delete, post_save

    from cart.pricing.models import ShippingMethod, ShippingRate, ShippingZone, TaxRate, Voucher

    for model in (ShippingZone, ShippingMethod, ShippingRate, TaxRate, Voucher):
        uid = f"cart.pricing-rules.{model.__name__}"
        post_save.connect(pricing_rules_changed, sender=model, dispatch_uid=f"{uid}.save")
        post_delete.connect(pricing_rules_changed, sender=model, dispatch_uid=f"{uid}.delete")
    for through in (Voucher.products.through, Voucher.categories.through):
        m2m_changed.connect(
            pricing_rules_changed, sender=through, dispatch_uid=f"cart.pricing-rules.{through}"
        )
