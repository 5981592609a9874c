from django.conf import settings


def shop(request):
    """Expose the shop's name and currency to every template."""
    return {"SHOP_NAME": settings.SHOP_NAME, "SHOP_CURRENCY": settings.SHOP_CURRENCY}
