"""Fixtures of the orders tests the draft order tests share (the mock gateway's ledger, the
local Stripe stand-in)."""

from orders.tests.factories import fast_gateway  # noqa: F401
from orders.tests.stripe_server import stripe_api  # noqa: F401
