"""Payment gateway seam: the adapter interface a provider implements, and the mock gateway.

``orders.payments.services`` calls the adapter selected by ``SHOP_PAYMENT_GATEWAY``.
"""

import threading
import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.utils.module_loading import import_string


class PaymentDeclined(Exception):  # noqa: N818 - the gateway's word for it
    """The gateway refused the payment for good (do not retry)."""


class TransientPaymentError(Exception):
    """The gateway could not answer (timeout, 5xx); the same call may succeed if retried."""


@dataclass(frozen=True)
class ChargeResult:
    charge_id: str
    amount: Decimal
    currency: str


@dataclass(frozen=True)
class RefundResult:
    refund_id: str
    charge_id: str
    amount: Decimal
    currency: str


class PaymentGateway:
    """What the shop needs from a payment provider. ``reference`` makes calls idempotent:
    the same reference never charges (or refunds) twice and returns the first result."""

    name = "gateway"

    def charge(self, *, amount: Decimal, currency: str, token: str, reference: str) -> ChargeResult:
        raise NotImplementedError

    def refund(
        self, *, amount: Decimal, currency: str, charge_id: str, reference: str
    ) -> RefundResult:
        raise NotImplementedError


class MockGateway(PaymentGateway):
    """The built-in gateway of API.md, deciding by token.

    ``tok_success`` and any other ``tok_*`` charge; ``tok_declined`` declines;
    ``tok_transient`` fails transiently once per reference, then succeeds;
    ``tok_unavailable`` always fails transiently; anything else declines. State is kept per
    process (a mock), guarded by a lock so threads see one ledger.
    """

    name = "mock"
    _lock = threading.Lock()
    _charges: dict[str, ChargeResult] = {}
    _refunds: dict[str, RefundResult] = {}
    _transient_seen: set[str] = set()

    @classmethod
    def reset(cls) -> None:
        """Forget every charge and refund (tests)."""
        with cls._lock:
            cls._charges.clear()
            cls._refunds.clear()
            cls._transient_seen.clear()

    @classmethod
    def charge_count(cls) -> int:
        return len(cls._charges)

    def charge(self, *, amount: Decimal, currency: str, token: str, reference: str) -> ChargeResult:
        with self._lock:
            if reference in self._charges:
                return self._charges[reference]
            if token == "tok_unavailable":
                raise TransientPaymentError("The payment service is unavailable.")
            if token == "tok_transient" and reference not in self._transient_seen:
                self._transient_seen.add(reference)
                raise TransientPaymentError("Temporary failure, please retry.")
            if token == "tok_declined" or not str(token).startswith("tok_"):
                raise PaymentDeclined("Card declined.")
            result = ChargeResult(f"ch_{uuid.uuid4().hex[:24]}", amount, currency)
            self._charges[reference] = result
            return result

    def refund(
        self, *, amount: Decimal, currency: str, charge_id: str, reference: str
    ) -> RefundResult:
        with self._lock:
            if reference in self._refunds:
                return self._refunds[reference]
            result = RefundResult(f"re_{uuid.uuid4().hex[:24]}", charge_id, amount, currency)
            self._refunds[reference] = result
            return result


def get_gateway() -> PaymentGateway:
    """Return the gateway named by ``settings.SHOP_PAYMENT_GATEWAY`` (a dotted path)."""
    path = getattr(settings, "SHOP_PAYMENT_GATEWAY", "orders.payments.gateways.MockGateway")
    gateway_class: type[PaymentGateway] = import_string(path)
    return gateway_class()
