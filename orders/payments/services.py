"""Charging and refunding through the gateway adapter, with bounded retries.

Every gateway call (each attempt of each charge and refund) is recorded as a ``Payment`` row
with its amount and result. Callers decide where the rows are written:

* ``place_order`` charges *outside* any database transaction (stock is allocated and
  committed first, the order is finalized afterwards), so each attempt row is committed as
  soon as it is written and survives whatever happens next.
* Refunds run inside the transaction that cancels an order or receives a return (the refund
  and the state change must agree). If that transaction rolls back, the error carries the
  attempts and the caller re-records them after the rollback (``persist_attempts``).
"""

import logging
import time
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import TypeVar

from django.conf import settings

from orders.errors import PaymentDeclinedError, PaymentUnavailableError
from orders.models import OFFLINE_GATEWAY, Order, Payment, PaymentKind, PaymentResult
from orders.payments.gateways import (
    ChargeResult,
    PaymentDeclined,
    PaymentGateway,
    PaymentRequiresAction,
    RefundResult,
    TransientPaymentError,
    get_gateway,
)

logger = logging.getLogger(__name__)

_Result = TypeVar("_Result", ChargeResult, RefundResult)

MAX_ATTEMPTS = 3
# Delay before the 2nd attempt; doubles before each further one (0.5 s + 1 s by default).
# Tests set ``SHOP_PAYMENT_RETRY_BASE_DELAY = 0`` (or patch this constant) to never sleep.
RETRY_BASE_DELAY = float(getattr(settings, "SHOP_PAYMENT_RETRY_BASE_DELAY", 0.5))


def _base_delay() -> float:
    return float(getattr(settings, "SHOP_PAYMENT_RETRY_BASE_DELAY", RETRY_BASE_DELAY))


def _call(
    *,
    kind: PaymentKind,
    call: Callable[[], _Result],
    amount: Decimal,
    currency: str,
    reference: str,
    order: Order | None,
    gateway: PaymentGateway,
    refunded_charge: Payment | None = None,
) -> tuple[_Result, list[Payment]]:
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
                refunded_charge=refunded_charge,
                attempt=len(attempts) + 1,
                error=error[:255],
            )
        )

    for number in range(1, MAX_ATTEMPTS + 1):
        try:
            result = call()
        except PaymentDeclined as exc:
            record(PaymentResult.DECLINED, error=str(exc))
            raise PaymentDeclinedError(attempts=attempts) from exc
        except PaymentRequiresAction as exc:
            # Nothing is charged yet: the customer must act (3-D Secure); the provider's
            # webhook tells how it ends. The row names the pending payment.
            record(PaymentResult.PENDING, transaction_id=exc.intent_id)
            exc.attempts = attempts  # type: ignore[attr-defined]
            raise
        except TransientPaymentError as exc:
            record(PaymentResult.FAILED, error=str(exc) or "transient error")
            if number == MAX_ATTEMPTS:
                raise PaymentUnavailableError(attempts=attempts) from exc
            delay = _base_delay() * 2 ** (number - 1)
            if delay > 0:
                time.sleep(delay)
            continue
        # A refund's row carries the refund's id, a charge's row the charge's id.
        if isinstance(result, RefundResult):
            transaction_id = result.refund_id
        else:
            transaction_id = result.charge_id
        record(PaymentResult.SUCCEEDED, transaction_id=transaction_id)
        return result, attempts
    raise AssertionError("unreachable")  # pragma: no cover


def charge_with_retries(
    *, amount: Decimal, currency: str, token: str, reference: str, order: Order | None = None
) -> ChargeResult:
    """Charge through the configured gateway, retrying transient errors (max 3 attempts,
    exponential backoff). Idempotent per ``reference``. Writes a ``Payment`` row per attempt
    in the caller's transaction context. Raises ``PaymentDeclinedError`` (402) or
    ``PaymentUnavailableError`` (503), each with ``.attempts``, or the gateway's
    ``PaymentRequiresAction`` (nothing charged yet; its ``.attempts`` hold the pending row)."""
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
    *,
    amount: Decimal,
    currency: str,
    charge_id: str,
    reference: str,
    order: Order | None = None,
    charge: Payment | None = None,
) -> RefundResult:
    """Refund through the configured gateway with the same retry and recording rules as
    ``charge_with_retries``; idempotent per ``reference``. ``charge`` is the successful charge
    row that ``charge_id`` names, when there is one: each attempt row records it
    (``Payment.refunded_charge``), so what is left on every charge can be counted."""
    result, _ = refund_recording_attempts(
        amount=amount,
        currency=currency,
        charge_id=charge_id,
        reference=reference,
        order=order,
        charge=charge,
    )
    return result


def refund_recording_attempts(
    *,
    amount: Decimal,
    currency: str,
    charge_id: str,
    reference: str,
    order: Order | None = None,
    charge: Payment | None = None,
) -> tuple[RefundResult, list[Payment]]:
    """Refund like ``refund_with_retries`` and return the refund with its attempt rows (a
    caller making several refunds in one transaction hands them all to the error of a later
    one that fails, so ``persist_attempts`` keeps the refunds already made).

    A charge staff took offline (``Payment.gateway`` ``offline``, ``orders.drafts``) is given
    back offline too: the refund is recorded as an ``offline`` row (staff return the money by
    the same method) and the gateway is not called."""
    if order is not None and charge_id:
        offline = (
            Payment.objects.filter(
                order=order,
                kind=PaymentKind.CHARGE,
                result=PaymentResult.SUCCEEDED,
                gateway=OFFLINE_GATEWAY,
                gateway_transaction_id=charge_id,
            )
            .order_by("id")
            .first()
        )
        if offline is not None:
            row = Payment.objects.create(
                order=order,
                refunded_charge=charge,
                reference=reference,
                kind=PaymentKind.REFUND,
                result=PaymentResult.SUCCEEDED,
                amount=amount,
                currency=currency,
                gateway=OFFLINE_GATEWAY,
                gateway_transaction_id=charge_id,
                method=offline.method,
            )
            refund = RefundResult(
                refund_id=f"offline-{reference}",
                charge_id=charge_id,
                amount=amount,
                currency=currency,
            )
            return refund, [row]
    gateway = get_gateway()
    return _call(
        kind=PaymentKind.REFUND,
        call=lambda: gateway.refund(
            amount=amount, currency=currency, charge_id=charge_id, reference=reference
        ),
        amount=amount,
        currency=currency,
        reference=reference,
        order=order,
        gateway=gateway,
        refunded_charge=charge,
    )


def pending_charge_id(*, order: Order) -> str:
    """Return the provider's id of the order's payment that waits for the customer."""
    row = (
        Payment.objects.filter(
            reference=order.number, kind=PaymentKind.CHARGE, result=PaymentResult.PENDING
        )
        .exclude(gateway_transaction_id="")
        .order_by("-id")
        .first()
    )
    return row.gateway_transaction_id if row else ""


def void_pending_payment(*, order: Order) -> bool:
    """Cancel the order's pending payment at the provider so it can no longer succeed; return
    whether the provider cancelled it. Best effort, never raises: a payment that cannot be
    cancelled (it succeeded meanwhile, or the provider is down) is logged, and its success
    webhook refunds it (``orders.payments.confirmation``)."""
    charge_id = pending_charge_id(order=order)
    if not charge_id:
        return False
    try:
        get_gateway().cancel(charge_id=charge_id, reference=order.number)
    except (PaymentDeclined, TransientPaymentError) as exc:
        logger.warning("Could not cancel the pending payment %s of %s: %s", charge_id, order, exc)
        return False
    return True


def persist_attempts(*, attempts: Iterable[Payment]) -> None:
    """Write again attempt rows that a rolled-back transaction discarded.

    ``attempts`` are the rows a ``PaymentError`` carries (``exc.attempts``); each is inserted
    anew (the rolled-back ids are not reused).
    """
    rows = list(attempts)
    for row in rows:
        row.pk = None
        row._state.adding = True
    Payment.objects.bulk_create(rows)
