"""The payment provider's configuration, checked with the production checks (``shop.checks``).

``orders.E001``: with ``DEBUG`` off and the Stripe adapter selected, every Stripe setting the
shop needs is set, so a misconfigured shop refuses to start instead of failing each checkout
(no secret key), placing orders that wait for a webhook that cannot be verified (no webhook
secret) or showing a checkout that cannot collect a card (no publishable key).
"""

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register

from orders.payments.csp import stripe_active
from shop.checks import PRODUCTION_TAG

STRIPE_SETTINGS = {
    "STRIPE_SECRET_KEY": "sk_",
    "STRIPE_PUBLISHABLE_KEY": "pk_",
    "STRIPE_WEBHOOK_SECRET": "whsec_",
}


@register(PRODUCTION_TAG, Tags.security)
def check_stripe_settings(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """Refuse the Stripe adapter in production without its keys and webhook secret."""
    if settings.DEBUG:
        return []
    try:
        active = stripe_active()
    except ImportError:
        return []  # shop.E002 reports a gateway path that cannot be imported
    if not active:
        return []
    wrong = [
        name
        for name, prefix in STRIPE_SETTINGS.items()
        if not str(getattr(settings, name, "") or "").startswith(prefix)
    ]
    if not wrong:
        return []
    return [
        Error(
            f"The Stripe payment gateway is active but {', '.join(wrong)} "
            f"{'is' if len(wrong) == 1 else 'are'} missing or malformed.",
            hint="Copy the keys (sk_..., pk_...) from the Stripe dashboard and the signing "
            "secret (whsec_...) of the webhook endpoint /api/v1/payments/webhooks/stripe/ "
            "(README: Going live with Stripe).",
            id="orders.E001",
        )
    ]
