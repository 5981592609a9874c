"""Payment gateway seam: the adapter interface a provider implements, and the mock gateway.

``orders.payments.services`` calls the adapter selected by ``SHOP_PAYMENT_GATEWAY``. A
provider is one module with one ``PaymentGateway`` subclass (see ``orders.payments.stripe``):
``charge``, ``refund``, ``lookup`` and, when it sends webhooks, ``parse_webhook``.
"""

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils.module_loading import import_string

from orders.models import MockLedgerEntry


class PaymentDeclined(Exception):  # noqa: N818 - the gateway's word for it
    """The gateway refused the payment for good (do not retry)."""


class TransientPaymentError(Exception):
    """The gateway could not answer (timeout, 5xx); the same call may succeed if retried."""


class PaymentRequiresAction(Exception):  # noqa: N818 - the gateway's word for it
    """The charge waits for the customer (3-D Secure): nothing is charged yet.

    ``client_secret`` lets the client finish it (Stripe.js ``handleNextAction``);
    ``next_action`` is the provider's description of what to do; ``intent_id`` is the
    provider's id of the pending payment (its later webhook names it).
    """

    def __init__(self, *, client_secret: str, next_action: dict[str, Any], intent_id: str):
        super().__init__("The payment needs the customer's action.")
        self.client_secret = client_secret
        self.next_action = next_action
        self.intent_id = intent_id


class InvalidWebhookSignature(Exception):  # noqa: N818 - the provider's word for it
    """A webhook's signature header is missing, malformed, stale or does not match."""


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


@dataclass(frozen=True)
class WebhookEvent:
    """A verified provider event, in the shop's words.

    ``type`` is the provider's event type (e.g. ``payment_intent.succeeded``); ``reference``
    is our reference (the order number) when the provider echoes it back; ``charge_id`` is the
    provider's payment id (the one ``ChargeResult.charge_id`` carries); ``amount`` and
    ``currency`` are in major units when the event carries money; ``data`` is the event's
    object as the provider sent it.
    """

    id: str
    type: str
    reference: str = ""
    charge_id: str = ""
    amount: Decimal | None = None
    currency: str = ""
    data: dict[str, Any] = field(default_factory=dict)


class PaymentGateway:
    """What the shop needs from a payment provider. ``reference`` makes calls idempotent:
    the same reference never charges (or refunds) twice and returns the first result."""

    name = "gateway"

    def charge(self, *, amount: Decimal, currency: str, token: str, reference: str) -> ChargeResult:
        """Charge ``amount`` with the customer's ``token``. Raises ``PaymentDeclined``,
        ``TransientPaymentError`` or ``PaymentRequiresAction``."""
        raise NotImplementedError

    def refund(
        self, *, amount: Decimal, currency: str, charge_id: str, reference: str
    ) -> RefundResult:
        """Refund ``amount`` of the charge ``charge_id``. Raises ``PaymentDeclined`` (refused
        for good) or ``TransientPaymentError``."""
        raise NotImplementedError

    def lookup(self, *, reference: str) -> ChargeResult | None:
        """Return the successful charge made under ``reference``, or ``None`` when there is
        none (never charged, declined, or still waiting for the customer). For recovery: ask
        the provider what happened to a charge whose answer was lost. Raises
        ``TransientPaymentError``."""
        raise NotImplementedError

    def cancel(self, *, charge_id: str, reference: str) -> None:
        """Cancel the payment ``charge_id`` that still waits for the customer (the order
        gave up on it), so it can no longer succeed. Idempotent per ``reference``. Raises
        ``PaymentDeclined`` when it cannot be cancelled (e.g. it succeeded meanwhile) or
        ``TransientPaymentError``. Providers without pending payments need not override it."""

    def parse_webhook(self, *, payload: bytes, headers: dict[str, str]) -> WebhookEvent:
        """Verify a webhook request's signature and return its event. Raises
        ``InvalidWebhookSignature`` (bad or missing signature, unparsable body)."""
        raise NotImplementedError


class _Ledger:
    """The mock's charges or refunds by reference, read from the database (one ledger for
    every worker process)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def _entries(self) -> "QuerySet[MockLedgerEntry]":
        return MockLedgerEntry.objects.filter(kind=self.kind)

    def __getitem__(self, reference: str) -> Any:
        entry = self._entries().filter(reference=reference).first()
        if entry is None:
            raise KeyError(reference)
        return _result_of(entry)

    def get(self, reference: str) -> Any:
        try:
            return self[reference]
        except KeyError:
            return None

    def __contains__(self, reference: object) -> bool:
        return bool(self._entries().filter(reference=reference).exists())

    def __len__(self) -> int:
        return int(self._entries().count())

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries().values_list("reference", flat=True))

    def clear(self) -> None:
        self._entries().delete()


def _result_of(entry: MockLedgerEntry) -> ChargeResult | RefundResult:
    if entry.kind == MockLedgerEntry.Kind.REFUND:
        return RefundResult(entry.transaction_id, entry.charge_id, entry.amount, entry.currency)
    return ChargeResult(entry.transaction_id, entry.amount, entry.currency)


class MockGateway(PaymentGateway):
    """The built-in gateway of API.md, deciding by token.

    ``tok_success`` and any other ``tok_*`` charge; ``tok_declined`` declines;
    ``tok_transient`` fails transiently once per reference, then succeeds;
    ``tok_unavailable`` always fails transiently; anything else declines. A refund is refused
    beyond what is left on its charge. The ledger (charges,
    refunds, transient failures seen) is the ``MockLedgerEntry`` table, so every worker
    process sees the same one; each reference is written once (a unique constraint).
    """

    name = "mock"
    # The mock never leaves a payment waiting for the customer: ``cancel`` has nothing to do.
    _charges = _Ledger(MockLedgerEntry.Kind.CHARGE)
    _refunds = _Ledger(MockLedgerEntry.Kind.REFUND)
    _transient_seen = _Ledger(MockLedgerEntry.Kind.TRANSIENT)

    @classmethod
    def reset(cls) -> None:
        """Forget every charge and refund (tests)."""
        MockLedgerEntry.objects.all().delete()

    @classmethod
    def charge_count(cls) -> int:
        return len(cls._charges)

    @staticmethod
    def _record(*, kind: str, reference: str, **values: Any) -> MockLedgerEntry:
        """Write the ledger entry for ``(kind, reference)`` once; return the one stored."""
        try:
            with transaction.atomic():
                return MockLedgerEntry.objects.create(kind=kind, reference=reference, **values)
        except IntegrityError:
            return MockLedgerEntry.objects.get(kind=kind, reference=reference)

    def charge(self, *, amount: Decimal, currency: str, token: str, reference: str) -> ChargeResult:
        existing = self.lookup(reference=reference)
        if existing is not None:
            return existing
        if token == "tok_unavailable":
            raise TransientPaymentError("The payment service is unavailable.")
        if token == "tok_transient" and reference not in self._transient_seen:
            self._record(kind=MockLedgerEntry.Kind.TRANSIENT, reference=reference)
            raise TransientPaymentError("Temporary failure, please retry.")
        if token == "tok_declined" or not str(token).startswith("tok_"):
            raise PaymentDeclined("Card declined.")
        entry = self._record(
            kind=MockLedgerEntry.Kind.CHARGE,
            reference=reference,
            transaction_id=f"ch_{uuid.uuid4().hex[:24]}",
            amount=amount,
            currency=currency,
        )
        result = _result_of(entry)
        assert isinstance(result, ChargeResult)
        return result

    def refund(
        self, *, amount: Decimal, currency: str, charge_id: str, reference: str
    ) -> RefundResult:
        """Refund like a provider: the first refund under ``reference`` answers its repeats
        (one with other parameters is refused, as Stripe refuses an idempotency key reused
        with other parameters); a refund larger than what is left on a charge in the ledger
        is refused."""
        existing = self._refunds.get(reference)
        if existing is not None:
            if (existing.amount, existing.charge_id) != (amount, charge_id):
                raise PaymentDeclined("This reference was used for another refund.")
            return existing  # type: ignore[no-any-return]
        charge = MockLedgerEntry.objects.filter(
            kind=MockLedgerEntry.Kind.CHARGE, transaction_id=charge_id
        ).first()
        if charge is not None and charge_id:
            refunded = sum(
                MockLedgerEntry.objects.filter(
                    kind=MockLedgerEntry.Kind.REFUND, charge_id=charge_id
                ).values_list("amount", flat=True),
                Decimal("0"),
            )
            if refunded + amount > charge.amount:
                raise PaymentDeclined("The refund is more than is left on the charge.")
        entry = self._record(
            kind=MockLedgerEntry.Kind.REFUND,
            reference=reference,
            transaction_id=f"re_{uuid.uuid4().hex[:24]}",
            charge_id=charge_id,
            amount=amount,
            currency=currency,
        )
        result = _result_of(entry)
        assert isinstance(result, RefundResult)
        return result

    def lookup(self, *, reference: str) -> ChargeResult | None:
        entry = MockLedgerEntry.objects.filter(
            kind=MockLedgerEntry.Kind.CHARGE, reference=reference
        ).first()
        return (
            None
            if entry is None
            else ChargeResult(entry.transaction_id, entry.amount, entry.currency)
        )

    def cancel(self, *, charge_id: str, reference: str) -> None:
        return None


def gateway_class() -> type[PaymentGateway]:
    """Return the gateway class named by ``settings.SHOP_PAYMENT_GATEWAY`` (a dotted path)."""
    path = getattr(settings, "SHOP_PAYMENT_GATEWAY", "orders.payments.gateways.MockGateway")
    cls: type[PaymentGateway] = import_string(path)
    return cls


def get_gateway() -> PaymentGateway:
    """Return the gateway named by ``settings.SHOP_PAYMENT_GATEWAY`` (a dotted path)."""
    return gateway_class()()
