"""The Stripe adapter: PaymentIntents created and confirmed server-side with the official library.

Select it with ``SHOP_PAYMENT_GATEWAY=orders.payments.stripe.StripeGateway`` and set
``STRIPE_SECRET_KEY``, ``STRIPE_PUBLISHABLE_KEY`` (for the page that collects the card with
Stripe.js and posts its PaymentMethod id ``pm_...`` as ``payment_token``) and
``STRIPE_WEBHOOK_SECRET`` (the signing secret of the webhook endpoint). ``STRIPE_API_BASE``
points the library at another address (tests: ``orders.tests.stripe_server``).

Every call carries an ``Idempotency-Key`` derived from our reference, so a retried charge or
refund is answered by Stripe with the first result and never moves money twice. The library's
own network retries are off: ``orders.payments.services`` retries (and records each attempt).
"""

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import stripe
from django.conf import settings

from orders.payments.gateways import (
    ChargeResult,
    InvalidWebhookSignature,
    PaymentDeclined,
    PaymentGateway,
    PaymentRequiresAction,
    RefundResult,
    TransientPaymentError,
    WebhookEvent,
)

# Currencies without minor units, and those with three (Stripe's list).
ZERO_DECIMAL = frozenset(
    [
        "BIF",
        "CLP",
        "DJF",
        "GNF",
        "JPY",
        "KMF",
        "KRW",
        "MGA",
        "PYG",
        "RWF",
        "UGX",
        "VND",
        "VUV",
        "XAF",
        "XOF",
        "XPF",
    ]
)
THREE_DECIMAL = frozenset(["BHD", "JOD", "KWD", "OMR", "TND"])


def exponent(*, currency: str) -> int:
    """Return how many minor-unit digits ``currency`` has for Stripe."""
    code = currency.upper()
    return 0 if code in ZERO_DECIMAL else 3 if code in THREE_DECIMAL else 2


def to_minor(*, amount: Decimal, currency: str) -> int:
    """Return ``amount`` (major units) as Stripe's integer amount in minor units."""
    scaled = amount.scaleb(exponent(currency=currency)).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return int(scaled)


def from_minor(*, amount: int, currency: str) -> Decimal:
    """Return Stripe's integer ``amount`` (minor units) in major units."""
    places = exponent(currency=currency)
    return Decimal(amount).scaleb(-places).quantize(Decimal(1).scaleb(-places))


class StripeGateway(PaymentGateway):
    """Charges with PaymentIntents (``confirm=true``, card payments without redirects)."""

    name = "stripe"
    webhook_provider = "stripe"

    def __init__(self) -> None:
        self.client = stripe.StripeClient(
            settings.STRIPE_SECRET_KEY or "sk_unset",
            base_addresses={"api": settings.STRIPE_API_BASE},
            max_network_retries=0,
            http_client=stripe.RequestsClient(timeout=settings.STRIPE_TIMEOUT),
        )

    # -- errors -------------------------------------------------------------------------------
    @staticmethod
    def _translate(exc: stripe.StripeError) -> Exception:
        """Map a library error to the gateway's: declines are final, the rest transient."""
        message = exc.user_message or str(exc) or type(exc).__name__
        if isinstance(exc, stripe.CardError):
            return PaymentDeclined(message)
        if isinstance(exc, stripe.InvalidRequestError | stripe.IdempotencyError):
            # A bad PaymentMethod id, or a reference reused with other parameters.
            return PaymentDeclined(message)
        # APIConnectionError (network, timeout), APIError (5xx), RateLimitError (429),
        # AuthenticationError / PermissionError (misconfigured keys: not the customer's fault).
        return TransientPaymentError(message)

    # -- charge -------------------------------------------------------------------------------
    def charge(self, *, amount: Decimal, currency: str, token: str, reference: str) -> ChargeResult:
        try:
            intent = self.client.v1.payment_intents.create(
                params={
                    "amount": to_minor(amount=amount, currency=currency),
                    "currency": currency.lower(),
                    "payment_method": token,
                    "confirm": True,
                    # Cards (3-D Secure happens in the page); no redirect-only methods, so
                    # no return_url is needed to confirm server-side.
                    "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"},
                    "metadata": {"order_number": reference},
                    "description": f"Order {reference}",
                },
                options={"idempotency_key": f"charge-{reference}"},
            )
        except stripe.StripeError as exc:
            raise self._translate(exc) from exc
        return self._charge_result(intent)

    def _charge_result(self, resource: Any) -> ChargeResult:
        intent: dict[str, Any] = resource.to_dict() if hasattr(resource, "to_dict") else resource
        status = intent["status"]
        if status == "succeeded":
            return ChargeResult(
                intent["id"],
                from_minor(amount=intent["amount"], currency=intent["currency"]),
                intent["currency"].upper(),
            )
        if status == "requires_action":
            raise PaymentRequiresAction(
                client_secret=intent.get("client_secret") or "",
                next_action=dict(intent.get("next_action") or {}),
                intent_id=intent["id"],
            )
        if status == "requires_payment_method":
            error = intent.get("last_payment_error") or {}
            raise PaymentDeclined(error.get("message") or "The payment was declined.")
        # processing / requires_capture / requires_confirmation: not money we hold yet.
        raise TransientPaymentError(f"The payment is {status}.")

    # -- refund -------------------------------------------------------------------------------
    def refund(
        self, *, amount: Decimal, currency: str, charge_id: str, reference: str
    ) -> RefundResult:
        try:
            refund = self.client.v1.refunds.create(
                params={
                    "payment_intent": charge_id,
                    "amount": to_minor(amount=amount, currency=currency),
                    "metadata": {"reference": reference},
                },
                options={"idempotency_key": f"refund-{reference}"},
            )
        except stripe.StripeError as exc:
            raise self._translate(exc) from exc
        if refund["status"] in {"failed", "canceled"}:
            raise PaymentDeclined(f"The refund {refund['status']}.")
        return RefundResult(
            refund["id"],
            charge_id,
            from_minor(amount=refund["amount"], currency=refund["currency"]),
            refund["currency"].upper(),
        )

    # -- lookup -------------------------------------------------------------------------------
    def lookup(self, *, reference: str) -> ChargeResult | None:
        """Search PaymentIntents by ``metadata['order_number']`` (Stripe's search may lag a
        minute behind a fresh charge; recovery runs later than that)."""
        escaped = reference.replace("\\", "\\\\").replace("'", "\\'")
        try:
            found = self.client.v1.payment_intents.search(
                params={"query": f"metadata['order_number']:'{escaped}'", "limit": 10}
            )
        except stripe.StripeError as exc:
            raise self._translate(exc) from exc
        for intent in found.data:
            if intent["status"] == "succeeded":
                return self._charge_result(intent)
        return None

    # -- cancel -------------------------------------------------------------------------------
    def cancel(self, *, charge_id: str, reference: str) -> None:
        """Cancel a PaymentIntent that waits for the customer (``requires_action``); Stripe
        refuses (``PaymentDeclined``) once it succeeded."""
        try:
            self.client.v1.payment_intents.cancel(
                charge_id,
                params={"cancellation_reason": "abandoned"},
                options={"idempotency_key": f"cancel-{reference}"},
            )
        except stripe.StripeError as exc:
            raise self._translate(exc) from exc

    # -- webhooks -----------------------------------------------------------------------------
    def parse_webhook(self, *, payload: bytes, headers: dict[str, str]) -> WebhookEvent:
        signature = headers.get("Stripe-Signature") or headers.get("stripe-signature") or ""
        secret = settings.STRIPE_WEBHOOK_SECRET
        if not signature or not secret:
            raise InvalidWebhookSignature("Missing Stripe-Signature header or secret.")
        try:
            event = stripe.Webhook.construct_event(payload, signature, secret)
        except (stripe.SignatureVerificationError, ValueError) as exc:
            raise InvalidWebhookSignature(str(exc)) from exc
        obj = event.data.object
        data: dict[str, Any] = obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)
        return WebhookEvent(
            id=event.id,
            type=event.type,
            reference=str((data.get("metadata") or {}).get("order_number", "")),
            charge_id=_intent_id(data),
            amount=_amount_of(event.type, data),
            currency=str(data.get("currency") or "").upper(),
            data=data,
        )


def _intent_id(data: dict[str, Any]) -> str:
    """The PaymentIntent an event's object belongs to (our ``charge_id``)."""
    if data.get("object") == "payment_intent":
        return str(data.get("id") or "")
    intent = data.get("payment_intent") or ""
    return str(intent.get("id", "") if isinstance(intent, dict) else intent)


def _amount_of(event_type: str, data: dict[str, Any]) -> Decimal | None:
    """The money an event is about, in major units: refunded, disputed or charged."""
    currency = str(data.get("currency") or "")
    key = {"charge.refunded": "amount_refunded"}.get(event_type, "amount")
    if not currency or not isinstance(data.get(key), int):
        return None
    return from_minor(amount=data[key], currency=currency)
