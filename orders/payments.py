"""Payment gateway seam: the adapter interface, the mock gateway, and bounded retries.

Every gateway call (each attempt of each charge and refund) is recorded as a ``Payment`` row
with its amount and result. Callers decide where the rows are written:

* ``place_order`` charges *outside* any database transaction (stock is allocated and
  committed first, the order is finalized afterwards), so each attempt row is committed as
  soon as it is written and survives whatever happens next.
* Refunds run inside the transaction that cancels an order or receives a return (the refund
  and the state change must agree). If that transaction rolls back, the error carries the
  attempts and the caller re-records them after the rollback (``persist_attempts``).
"""

import threading
import time
import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.utils.module_loading import import_string

from orders.errors import PaymentDeclinedError, PaymentUnavailableError
from orders.models import Payment, PaymentKind, PaymentResult

MAX_ATTEMPTS = 3
# Delay before the 2nd attempt; doubles before each further one (0.5 s + 1 s by default).
# Tests set ``SHOP_PAYMENT_RETRY_BASE_DELAY = 0`` (or patch this constant) to never sleep.
RETRY_BASE_DELAY = float(getattr(settings, "SHOP_PAYMENT_RETRY_BASE_DELAY", 0.5))


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
    path = getattr(settings, "SHOP_PAYMENT_GATEWAY", "orders.payments.MockGateway")
    return import_string(path)()


def _base_delay() -> float:
    return float(getattr(settings, "SHOP_PAYMENT_RETRY_BASE_DELAY", RETRY_BASE_DELAY))


def _call(*, kind: str, call, amount: Decimal, currency: str, reference: str, order, gateway):
    """Call ``call()`` up to ``MAX_ATTEMPTS`` times with exponential backoff on transient
    errors, writing one ``Payment`` row per attempt. Return ``(result, attempts)``; raise
    ``PaymentDeclinedError`` / ``PaymentUnavailableError`` carrying ``attempts``."""
    attempts: list[Payment] = []

    def record(result: str, transaction_id: str = "", error: str = "") -> None:
        attempts.append(
            Payment.objects.create(
                order=order,
                reference=reference,
                kind=kind,
                result=result,
                amount=amount,
                currency=currency,
                gateway=gateway.name,
                gateway_transaction_id=transaction_id,
                attempt=len(attempts) + 1,
                error=error[:255],
            )
        )

    for number in range(1, MAX_ATTEMPTS + 1):
        try:
            result = call()
        except PaymentDeclined as exc:
            record(PaymentResult.DECLINED, error=str(exc))
            err = PaymentDeclinedError()
            err.attempts = attempts
            raise err from exc
        except TransientPaymentError as exc:
            record(PaymentResult.FAILED, error=str(exc) or "transient error")
            if number == MAX_ATTEMPTS:
                err = PaymentUnavailableError()
                err.attempts = attempts
                raise err from exc
            delay = _base_delay() * 2 ** (number - 1)
            if delay > 0:
                time.sleep(delay)
            continue
        transaction_id = getattr(result, "charge_id", "")
        if kind == PaymentKind.REFUND:
            transaction_id = result.refund_id
        record(PaymentResult.SUCCEEDED, transaction_id=transaction_id)
        return result, attempts
    raise AssertionError("unreachable")  # pragma: no cover


def charge_with_retries(
    *, amount: Decimal, currency: str, token: str, reference: str, order=None
) -> ChargeResult:
    """Charge through the configured gateway, retrying transient errors (max 3 attempts,
    exponential backoff). Idempotent per ``reference``. Writes a ``Payment`` row per attempt
    in the caller's transaction context. Raises ``PaymentDeclinedError`` (402) or
    ``PaymentUnavailableError`` (503), each with ``.attempts``."""
    gateway = get_gateway()
    result, _ = _call(
        kind=PaymentKind.CHARGE,
        call=lambda: gateway.charge(
            amount=amount, currency=currency, token=token, reference=reference
        ),
        amount=amount,
        currency=currency,
        reference=reference,
        order=order,
        gateway=gateway,
    )
    return result


def refund_with_retries(
    *, amount: Decimal, currency: str, charge_id: str, reference: str, order=None
) -> RefundResult:
    """Refund through the configured gateway with the same retry and recording rules as
    ``charge_with_retries``; idempotent per ``reference``."""
    gateway = get_gateway()
    result, _ = _call(
        kind=PaymentKind.REFUND,
        call=lambda: gateway.refund(
            amount=amount, currency=currency, charge_id=charge_id, reference=reference
        ),
        amount=amount,
        currency=currency,
        reference=reference,
        order=order,
        gateway=gateway,
    )
    return result


def persist_attempts(attempts: list[Payment]) -> None:
    """Write again attempt rows that a rolled-back transaction discarded."""
    for attempt in attempts:
        attempt.pk = None
        attempt._state.adding = True
    Payment.objects.bulk_create(attempts)
