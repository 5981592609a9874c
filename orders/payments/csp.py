"""What the Content-Security-Policy must allow while the Stripe adapter is active.

Stripe.js is loaded from ``STRIPE_JS_URL`` (https://js.stripe.com/v3/), talks to
``STRIPE_API_BASE`` (https://api.stripe.com) and shows the card field and 3-D Secure
challenges in frames from js.stripe.com and hooks.stripe.com. Registered with the CSP
middleware (``shop.middleware.register_csp_sources``) by ``OrdersConfig.ready()``; with
any other gateway it adds nothing, so the policy stays same-origin.
"""

from urllib.parse import urlsplit

from django.conf import settings

from orders.payments.gateways import gateway_class
from orders.payments.stripe import StripeGateway

STRIPE_FRAMES = "https://hooks.stripe.com"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def stripe_active() -> bool:
    """Return whether the active gateway is the Stripe adapter."""
    return issubclass(gateway_class(), StripeGateway)


def payment_csp_sources() -> dict[str, list[str]]:
    """Return the sources Stripe.js needs, by directive, or nothing without Stripe."""
    if not stripe_active():
        return {}
    script = _origin(settings.STRIPE_JS_URL)
    api = _origin(settings.STRIPE_API_BASE)
    return {
        "script-src": [script],
        "connect-src": [api],
        "frame-src": [script, STRIPE_FRAMES],
    }
